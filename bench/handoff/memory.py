"""(d) Memory of the Rasa process with many handoffs open.

The Rasa instance is restarted first, so its peak (VmHWM in /proc, the kernel's high-water mark
of the resident set) belongs to this measurement only. After one warm-up handoff (every code
path loaded), `count` users ask for a human and stay connected; each gets one agent message
(webhook) and sends one message to the agent (relay).

CPU: the share of one core the Rasa process uses while nothing happens, over `IDLE_SECONDS`,
with no handoff open, and then with all of them open but their users gone (web chats that
poll would be measured too), once the burst of openings has settled:
what the handoffs' timers cost (every second the timer loop looks at each running handoff; see
rasa_zendesk/channel/timers).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict

from bench.handoff.common import Bench, HandoffUser, bounded, start_handoff
from bench.handoff.cpu import cpu_seconds, quiet
from rasa_zendesk.channel.timers.watchlist import HORIZON_SECONDS

IDLE_SECONDS = 20.0


@dataclass
class Memory:
    handoffs: int
    baseline_rss_mb: float
    after_rss_mb: float
    peak_rss_mb: float
    seconds: float
    idle_cpu_percent_before: float
    idle_cpu_percent_after: float
    #: How long the restarted server took to fire the timers of the handoffs left open.
    restart_settled_seconds: float = 0.0

    @property
    def per_handoff_kb(self) -> float:
        return (self.after_rss_mb - self.baseline_rss_mb) * 1024 / self.handoffs

    def to_json(self) -> Dict[str, Any]:
        return {**asdict(self), "per_handoff_kb": self.per_handoff_kb}


def memory_mb(pid: int) -> Dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values


async def idle_cpu_percent(pid: int, seconds: float = IDLE_SECONDS) -> float:
    """The share of one core the process uses over `seconds` of nothing happening."""
    before, started = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(seconds)  # the measurement window itself
    return 100 * (cpu_seconds(pid) - before) / (time.perf_counter() - started)


async def _active_handoff(bench: Bench, index: int) -> HandoffUser:
    handoff = await start_handoff(bench, f"memory-{index}")
    text = f"{handoff.sender_id} agent"
    await bench.emulator.agent_message(handoff.conversation_id, text=text)
    await handoff.user.wait_for_text(text, timeout=300)
    await handoff.user.send(f"thanks, this is user {index}")
    return handoff


async def open_handoffs(bench: Bench, count: int, concurrency: int, quick: bool = False) -> Memory:
    """`quick`: a smoke run of the same steps, without the restart and the waits that make
    the figures steady (they are not meant to be read then)."""
    rasa = bench.cluster.rasa[0]
    if not quick:
        rasa.stop()
        rasa.start()
        rasa.wait_ready()
    assert rasa.pid is not None
    idle_seconds = 1.0 if quick else IDLE_SECONDS
    # The restarted server first fires the timers of the handoffs the other parts left open.
    settled = 0.0 if quick else await quiet()
    warm = await _active_handoff(bench, -1)
    baseline = memory_mb(rasa.pid)
    cpu_before = await idle_cpu_percent(rasa.pid, idle_seconds)
    started = time.perf_counter()
    handoffs = await bounded(
        concurrency, [lambda i=i: _active_handoff(bench, i) for i in range(count)]
    )
    seconds = time.perf_counter() - started
    # Let the last relayed messages and webhooks finish before reading the resident set.
    await bench.emulator.http.post("/_emulator/webhooks/wait", json={"timeout": 120})
    await asyncio.sleep(2.0)
    after = memory_mb(rasa.pid)
    # The users leave (their web chats would poll the server); the handoffs stay open, so
    # what is left is what the timers cost. Steady state: the timers re-read the handoff rows
    # of the last seconds until every transaction that could write one has committed
    # (HORIZON_SECONDS), then only new rows.
    for handoff in [warm, *handoffs]:
        await handoff.user.close()
    await asyncio.sleep(0 if quick else HORIZON_SECONDS + 5)
    cpu_after = await idle_cpu_percent(rasa.pid, idle_seconds)
    return Memory(
        handoffs=count,
        baseline_rss_mb=baseline["VmRSS"],
        after_rss_mb=after["VmRSS"],
        peak_rss_mb=after["VmHWM"],
        seconds=seconds,
        idle_cpu_percent_before=cpu_before,
        idle_cpu_percent_after=cpu_after,
        restart_settled_seconds=settled,
    )
