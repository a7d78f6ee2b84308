"""Where the machine's time goes: CPU seconds each part of the deployment used during a
measured block, read from `/proc` (Linux), so that "ms a message" splits into the Rasa server,
PostgreSQL, Redis, the emulator and the load generator itself."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path
from typing import Dict

TICKS = os.sysconf("SC_CLK_TCK")
#: Parts of the deployment, by what their command line says (first match wins).
PARTS = (
    ("rasa actions", ("run actions",)),
    ("emulator", ("emulator",)),
    ("rasa server", ("rasa run", "bin/rasa", "profiled_rasa")),
    ("postgres", ("postgres",)),
    ("redis", ("redis-server",)),
)
BENCH = "load generator"
OTHER = "other"


def part_of(pid: int, command: str) -> str:
    """The part of the deployment a process is (the bench's own process: the load generator)."""
    if pid == os.getpid():
        return BENCH
    for part, markers in PARTS:
        if any(marker in command for marker in markers):
            return part
    return OTHER


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (/proc/<pid>/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def sample() -> Dict[str, float]:
    """CPU seconds used so far (user + system, threads included) by each part."""
    used: Counter = Counter()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            seconds = cpu_seconds(int(entry.name))
        except OSError:
            continue  # gone meanwhile
        used[part_of(int(entry.name), command)] += seconds
    return dict(used)


def used_since(before: Dict[str, float]) -> Dict[str, float]:
    """CPU seconds each part used since `before` (a `sample()`); a process that ended
    meanwhile is not counted."""
    after = sample()
    return {part: max(0.0, after.get(part, 0.0) - before.get(part, 0.0)) for part in after}


async def quiet(part: str = "rasa server", share: float = 0.05, timeout: float = 180.0) -> float:
    """Wait until `part` uses under `share` of a core for two seconds in a row: a server that
    just started fires the timers of every handoff left open before it starts its work (the
    earlier parts leave some), which is not what the next part measures. The seconds waited;
    after `timeout`, the wait ends with a line saying so."""
    started, calm = time.monotonic(), 0
    while calm < 2:
        before = sample()
        await asyncio.sleep(1.0)
        calm = calm + 1 if used_since(before).get(part, 0.0) < share else 0
        if time.monotonic() - started > timeout:
            print(f"  the {part} did not settle within {timeout:.0f} s; measuring anyway")
            break
    return time.monotonic() - started
