"""Local Zendesk Conversations (Sunshine Conversations v2) emulator with an agent console.

Run it with `python -m rasa_zendesk.emulator` or `rasa-zendesk emulator`; in tests, use
`run_emulator()` (in-process) or `rasa_zendesk.emulator.testing.EmulatorProcess` (subprocess).
"""

from .app import create_app
from .config import EmulatorConfig
from .server import EmulatorServer, run_emulator

__all__ = ["EmulatorConfig", "EmulatorServer", "create_app", "run_emulator"]
