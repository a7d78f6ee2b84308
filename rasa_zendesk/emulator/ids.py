"""Ids and timestamps shaped like SunCo's (24 hex digits, ISO 8601 with milliseconds)."""

import itertools
import os
import time
from datetime import datetime, timezone

_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))
_process = os.urandom(5).hex()


def new_id() -> str:
    """A 24-hex-digit id like SunCo's ObjectIds; later ids sort after earlier ones."""
    return f"{int(time.time()):08x}{_process}{next(_counter) & 0xFFFFFF:06x}"


def now_iso() -> str:
    """Current UTC time as SunCo writes it: 2020-09-30T15:14:29.834Z."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
