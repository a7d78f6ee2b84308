"""The one clock of the handoff's timers and timestamps, which tests can set.

In production it is the system clock. A test sets `ZENDESK_CLOCK_FILE` (for both servers) to a
file holding a number of seconds, and the clock runs that far ahead: a test then moves a real
`rasa run` process past a ten-minute timeout by writing one number, instead of waiting ten
minutes. The file is read again whenever it changed (a `stat` per call, only when the variable
is set), so a test's new time holds from its very next step; a missing or empty file means no
offset.
"""

from __future__ import annotations

import os
import time
from typing import Optional, Tuple

CLOCK_FILE_ENV = "ZENDESK_CLOCK_FILE"
_cached: Tuple[Tuple[int, int], float] = ((-1, -1), 0.0)  # ((mtime_ns, size), offset)


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
    except OSError:
        return 0.0
    version = (stat.st_mtime_ns, stat.st_size)
    if version != _cached[0]:
        _cached = (version, _read(path) or 0.0)
    return _cached[1]


def _read(path: str) -> Optional[float]:
    try:
        with open(path) as file:
            text = file.read().strip()
        return float(text) if text else None
    except (OSError, ValueError):
        return None
