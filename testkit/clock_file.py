"""The plugin's clock (`rasa_zendesk.clock`) as a test moves it: the offset goes into the file
`ZENDESK_CLOCK_FILE` names, which both servers read again as soon as it changes."""

from __future__ import annotations

import time
from datetime import datetime, timezone, tzinfo
from pathlib import Path


class ClockFile:
    """Move the clock on (`advance`) or to a wall time in `zone` (`set`)."""

    def __init__(self, path: Path, zone: tzinfo = timezone.utc) -> None:
        self.path, self.zone, self.ahead = path, zone, 0.0
        path.write_text("0")

    def advance(self, seconds: float) -> None:
        self._write(self.ahead + seconds)

    def set(self, local: str) -> float:
        """Now is `local` ("2026-12-06 03:00") in the clock's zone; that instant, in seconds."""
        target = datetime.fromisoformat(local).replace(tzinfo=self.zone).timestamp()
        self._write(target - time.time())
        return target

    def _write(self, ahead: float) -> None:
        self.ahead = ahead
        self.path.write_text(str(ahead))
