"""`python -m rasa_zendesk.emulator --help`."""

import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())
