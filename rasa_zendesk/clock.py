"""The one clock of the handoff's timers and timestamps, which tests can set.

In production it is the system clock. A test sets `ZENDESK_CLOCK_FILE` (for both servers) to a
file holding a number of seconds, and the clock runs that far ahead: a test then moves a real
`rasa run` process past a ten-minute timeout by writing one number, instead of waiting ten
minutes. The file is read again whenever it changed (a `stat` per call, only when the variable
is set), so a test's new time holds from its very next step; a missing or empty file means no
offset.

Rasa stamps its events with the system clock. `at` tells what this clock said at such a
moment, so that a message postpones the idle timeout even while a test runs time fast. The
file therefore keeps the history of the offset, one line per change, `<system time> <offset>`
(a line with one number holds from the beginning; the last line is the offset now), and every
process maps a system moment to the same time, whenever it reads the file
(`testkit.clock_file.ClockFile` writes it, replacing it whole, so no reader sees half of it).
A line of the history in another form is an error, raised by `at`.
"""

from __future__ import annotations

import bisect
import os
import time
from typing import List, Optional, Tuple

CLOCK_FILE_ENV = "ZENDESK_CLOCK_FILE"


class _History:
    """The clock file's changes of the offset, oldest first; parsed when `at` needs them."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()
        #: The offset now (the last line), read at once; the others only when `at` asks.
        self.current = _parse(self.lines[-1])[1] if self.lines else 0.0
        self._changes: Optional[Tuple[List[float], List[float]]] = None

    def at(self, system_time: float) -> float:
        """The offset at `system_time` (before the oldest line kept, that line's)."""
        if self._changes is None:
            parsed = [_parse(line) for line in self.lines if line.strip()]
            self._changes = ([since for since, _ in parsed], [offset for _, offset in parsed])
        since, offsets = self._changes
        if not offsets:
            return 0.0
        return offsets[max(bisect.bisect_right(since, system_time) - 1, 0)]


_NO_FILE = _History("")
#: The file's version ((inode, mtime_ns, size)) and what it held then.
_cached: Tuple[Tuple[int, int, int], _History] = ((-1, -1, -1), _NO_FILE)


def now() -> float:
    """Seconds since the epoch, as the handoff's timers see them."""
    return time.time() + _history().current


def at(system_time: float) -> float:
    """This clock's time at a moment of the system clock (a Rasa event's timestamp): the
    offset in effect then, as the clock file says (the system time itself in production)."""
    return system_time + _history().at(system_time)


def _history() -> _History:
    global _cached
    path = os.environ.get(CLOCK_FILE_ENV)
    if not path:
        return _NO_FILE
    try:
        stat = os.stat(path)
    except OSError:
        return _NO_FILE
    version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if version != _cached[0]:
        _cached = (version, _read(path))
    return _cached[1]


def _read(path: str) -> _History:
    try:
        with open(path) as file:
            return _History(file.read())
    except (OSError, ValueError):  # gone meanwhile, or no number: no offset
        return _NO_FILE


def _parse(line: str) -> Tuple[float, float]:
    """(since, offset) of a line `<system time> <offset>`, or `<offset>` (since always)."""
    fields = line.split()
    if len(fields) == 1:
        return float("-inf"), float(fields[0])
    if len(fields) == 2:
        return float(fields[0]), float(fields[1])
    raise ValueError(f"{CLOCK_FILE_ENV}: not a line `<system time> <offset>`: {line!r}")
