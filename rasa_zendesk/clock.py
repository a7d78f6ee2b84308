"""The one clock of the handoff's timers and timestamps, which tests can set.

In production it is the system clock. A test sets `ZENDESK_CLOCK_FILE` (for both servers) to a
file holding a number of seconds, and the clock runs that far ahead: a test then moves a real
`rasa run` process past a ten-minute timeout by writing one number, instead of waiting ten
minutes. The file is read again whenever it changed (a `stat` per call, only when the variable
is set), so a test's new time holds from its very next step; a missing or empty file means no
offset.

Rasa stamps its events with the system clock. `at` tells what this clock said at such a
moment: the offset in effect then, as this process saw it change (identical to the system
clock when no test sets it). So a test that runs time fast still has a message postpone the
idle timeout.
"""

from __future__ import annotations

import bisect
import os
import time
from typing import List, Optional, Tuple

CLOCK_FILE_ENV = "ZENDESK_CLOCK_FILE"
_cached: Tuple[Tuple[int, int], float] = ((-1, -1), 0.0)  # ((mtime_ns, size), offset)
#: (system time, offset) at each change of the offset this process saw, oldest first.
_changes: List[Tuple[float, float]] = []
#: Changes kept (a test moving the clock four times a second keeps hours of them).
MAX_CHANGES = 100_000


def now() -> float:
    """Seconds since the epoch, as the handoff's timers see them."""
    return time.time() + _offset()


def _offset() -> float:
    global _cached
    path = os.environ.get(CLOCK_FILE_ENV)
    if not path:
        return 0.0
    try:
        stat = os.stat(path)
        version = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = (-2, -2)  # no file (yet): no offset, and `at` must know that it was so
    if version != _cached[0]:
        _cached = (version, _read(path) or 0.0)
        if len(_changes) >= MAX_CHANGES:
            del _changes[: MAX_CHANGES // 2]
        _changes.append((time.time(), _cached[1]))
    return _cached[1]


def at(system_time: float) -> float:
    """This clock's time at a past moment of the system clock (a Rasa event's timestamp):
    with the offset of then (before the first change seen, the first offset seen)."""
    current = _offset()
    if not _changes:
        return system_time + current
    index = bisect.bisect_right(_changes, (system_time, float("inf"))) - 1
    return system_time + _changes[max(index, 0)][1]


def _read(path: str) -> Optional[float]:
    try:
        with open(path) as file:
            text = file.read().strip()
        return float(text) if text else None
    except (OSError, ValueError):
        return None
