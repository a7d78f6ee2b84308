"""The plugin's clock (`rasa_zendesk.clock`) as a test moves it: each change of the offset is
appended to the file `ZENDESK_CLOCK_FILE` names (`<system time> <offset>`), which both servers
read again as soon as it changes; the history lets every process map a Rasa event's system
time to the plugin's clock of then (`clock.at`)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone, tzinfo
from pathlib import Path

#: Past this many lines, the oldest are dropped down to `KEEP_LINES` (the soak moves the clock
#: four times a second: a thousand lines are minutes of real time, hours of the clock's).
MAX_LINES = 2000
KEEP_LINES = 1000


class ClockFile:
    """Move the clock on (`advance`) or to a wall time in `zone` (`set`). A new one starts at
    the real time (offset 0), keeping the history already in the file."""

    def __init__(self, path: Path, zone: tzinfo = timezone.utc) -> None:
        self.path, self.zone, self.ahead = path, zone, 0.0
        self._write(0.0)

    def advance(self, seconds: float) -> None:
        self._write(self.ahead + seconds)

    def set(self, local: str) -> float:
        """Now is `local` ("2026-12-06 03:00") in the clock's zone; that instant, in seconds."""
        target = datetime.fromisoformat(local).replace(tzinfo=self.zone).timestamp()
        self._write(target - time.time())
        return target

    def _write(self, ahead: float) -> None:
        """Append the change, and replace the file whole (a reader never sees half of it)."""
        self.ahead = ahead
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            lines = []
        lines = [line for line in lines if line.strip()]
        lines.append(f"{time.time()!r} {ahead!r}")
        if len(lines) > MAX_LINES:
            del lines[:-KEEP_LINES]
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text("\n".join(lines) + "\n")
        os.replace(temporary, self.path)
