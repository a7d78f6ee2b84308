"""Local Zendesk Conversations (Sunshine Conversations v2) emulator with an agent console.

Run it with `python -m rasa_zendesk.emulator` or `rasa-zendesk emulator`; in tests, use
`run_emulator()` (in-process) or `rasa_zendesk.emulator.testing.EmulatorProcess` (subprocess).

It is a tool for laptops and CI, installed with the `emulator` extra
(`pip install "rasa-zendesk[emulator]"`); a production Rasa server never imports it.
"""

try:
    import aiohttp  # noqa: F401
    import jwt  # noqa: F401
except ImportError as missing:
    raise ImportError(
        f"The Zendesk emulator needs the package {missing.name!r}, which comes with the "
        "'emulator' extra: pip install \"rasa-zendesk[emulator]\""
    ) from missing

from .app import create_app  # noqa: E402
from .config import EmulatorConfig  # noqa: E402
from .server import EmulatorServer, run_emulator  # noqa: E402

__all__ = ["EmulatorConfig", "EmulatorServer", "create_app", "run_emulator"]
