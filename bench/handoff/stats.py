"""Latency summaries (stdlib `statistics`) and the times the emulator records."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Dict, Optional, Sequence


@dataclass(frozen=True)
class Summary:
    """Latencies in milliseconds; `rate` in operations per second when a wall time is known."""

    count: int
    p50: float
    p95: float
    p99: float
    mean: float
    rate: Optional[float] = None

    def to_json(self) -> Dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def summarize(seconds: Sequence[float], wall: Optional[float] = None) -> Summary:
    """p50/p95/p99 (inclusive quantiles) and mean of latencies given in seconds."""
    if not seconds:
        raise ValueError("no samples")
    ms = sorted(value * 1000 for value in seconds)
    if len(ms) == 1:
        p50 = p95 = p99 = ms[0]
    else:
        cuts = statistics.quantiles(ms, n=100, method="inclusive")
        p50, p95, p99 = cuts[49], cuts[94], cuts[98]
    rate = len(ms) / wall if wall else None
    return Summary(len(ms), p50, p95, p99, statistics.fmean(ms), rate)


def emulator_time(at: str) -> float:
    """An emulator timestamp (`2020-09-30T15:14:29.834Z`) as seconds since the epoch."""
    return datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
