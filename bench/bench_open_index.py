#!/usr/bin/env python3
"""What a timer round and a metrics scrape cost when a large store holds few open handoffs,
and how soon a second Rasa instance sees a new handoff, on Redis and PostgreSQL.

    .venv/bin/python bench/bench_open_index.py [--conversations 100000] [--open 100]

The store holds `--conversations` conversations (a short session each), `--open` of them with
a running handoff. A Redis store is read through its index of open handoffs
(`rasa_zendesk.channel.open_index`), a PostgreSQL store through its events table, read
incrementally (`channel.timers.watchlist`). A round is `TimerLoop.tick` as the Rasa server runs
it (nothing due: the deadlines are ten minutes ahead); a scrape is the channel's
`ChannelMetrics.exposition` fed by those rounds. Both are medians (and p99) of `--rounds`
back-to-back calls after the first round (which reads every open record once) and, for
PostgreSQL, after the rows older than the watchlist's horizon are settled. "Seen" is the time
from a handoff's record being stored (and, on Redis, the policy's note) on one instance until
the other instance's own loop, rounds a second apart, has it; `--seen` handoffs at random
moments. Redis's first round rebuilds the index from the whole store (the first start after
an upgrade): its time is shown too. Real servers (Debian's redis-server and PostgreSQL with
fsync on), one process, one core at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasa.core.lock_store import InMemoryLockStore  # noqa: E402
from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore, TrackerStore  # noqa: E402
from rasa.shared.core.events import Event  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

from rasa_zendesk import clock  # noqa: E402
from rasa_zendesk.channel.timers import watchlist  # noqa: E402
from rasa_zendesk.channel.timers.loop import POLL_SECONDS, TimerLoop  # noqa: E402
from rasa_zendesk.channel.tracker_access import TrackerAccess  # noqa: E402
from rasa_zendesk.handoff import state, watch  # noqa: E402
from rasa_zendesk.handoff.deadlines import Deadline, next_deadline  # noqa: E402
from rasa_zendesk.monitoring.metrics import ChannelMetrics  # noqa: E402
from rasa_zendesk.settings import HandoffSettings  # noqa: E402
from testkit.stored_chats import greeted, store_servers  # noqa: E402

TARGET_MS = 5.0


def events_of(sender_id: str, handoff: bool) -> List[Event]:
    """A short chat; with `handoff`, one that asked for an agent who has not come yet."""
    return greeted("conv_" + sender_id if handoff else None)


def tracker_of(sender_id: str, handoff: bool) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender_id, events_of(sender_id, handoff))


def fill_redis(store: RedisTrackerStore, conversations: int, opened: int) -> List[str]:
    """Store the conversations as Rasa's Redis store does (one JSON value each)."""
    senders = [f"user-{n:06d}" for n in range(conversations)]
    open_ones = set(random.Random(1).sample(senders, opened))
    templates = {flag: store.serialise_tracker(tracker_of("SENDER", flag)) for flag in (0, 1)}
    pipe = store.red.pipeline(transaction=False)
    for count, sender_id in enumerate(senders, 1):
        value = templates[sender_id in open_ones].replace("SENDER", sender_id)
        pipe.set(store.key_prefix + sender_id, value)
        if count % 5000 == 0:
            pipe.execute()
    pipe.execute()
    return sorted(open_ones)


def fill_sql(store: SQLTrackerStore, conversations: int, opened: int) -> List[str]:
    """Store the conversations' rows as Rasa's SQL store does (COPY, for speed)."""
    senders = [f"user-{n:06d}" for n in range(conversations)]
    open_ones = set(random.Random(1).sample(senders, opened))
    buffer = io.StringIO()
    for sender_id in senders:
        for event in events_of(sender_id, sender_id in open_ones):
            data = json.dumps(event.as_dict())
            action = getattr(event, "action_name", None) or ""
            row = [sender_id, event.type_name, repr(event.timestamp), "", action, data]
            buffer.write("\t".join(_copy_text(value) for value in row) + "\n")
    buffer.seek(0)
    connection = store.engine.raw_connection()
    try:
        columns = "(sender_id, type_name, timestamp, intent_name, action_name, data)"
        cursor = connection.cursor()
        cursor.copy_expert(f"COPY events {columns} FROM STDIN", buffer)
        connection.commit()
        # What autovacuum does within a minute of a bulk write: without statistics the
        # planner scans the whole table for the watchlist's "rows after id N".
        cursor.execute("ANALYZE events")
        connection.commit()
    finally:
        connection.close()
    return sorted(open_ones)


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n") or "\\N"


class Instance:
    """One Rasa instance's timers and metrics over a store (nothing fires: none is due)."""

    def __init__(self, store: TrackerStore) -> None:
        self.metrics = ChannelMetrics()
        trackers = TrackerAccess(store, InMemoryLockStore())
        self.rasa = SimpleNamespace(
            trackers=trackers, config=SimpleNamespace(handoff=HandoffSettings())
        )
        self.loop = TimerLoop(self, observe=self.metrics.handoffs.observe)
        agent = SimpleNamespace(tracker_store=store)
        self.app = SimpleNamespace(ctx=SimpleNamespace(agent=agent, input_channels=[]))

    def context(self, agent: Any, input_channels: Any) -> Any:
        return self.rasa

    async def fire_timers(self, rasa: Any, sender_id: str) -> Optional[Deadline]:
        """What the channel's timer handler answers when nothing is due: the next deadline
        (a SQL store's watchlist learns it so, once per new handoff)."""
        tracker = await self.rasa.trackers.read(sender_id)
        handoff = state.active(tracker.events) if tracker is not None else None
        if handoff is None:
            return None
        deadline = next_deadline(handoff, self.rasa.config.handoff, None)
        if deadline is not None and deadline.at <= clock.now():
            raise AssertionError(f"the timer of {sender_id} is due: the bench expects none")
        return deadline

    async def round(self) -> float:
        started = time.perf_counter()
        await self.loop.tick(self.app)
        return (time.perf_counter() - started) * 1000

    def scrape(self) -> float:
        started = time.perf_counter()
        self.metrics.exposition()
        return (time.perf_counter() - started) * 1000

    def running(self) -> Dict[str, Any]:
        return self.loop._watchlist.running if self.loop._watchlist else {}


def summary(samples: List[float]) -> Dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
    }


async def measure(
    kind: str, make_store: Any, opened: List[str], rounds: int, seen: int
) -> Dict[str, Any]:
    first = Instance(make_store())
    started = time.perf_counter()
    await first.round()
    built = first.loop._watchlist
    rebuild = getattr(built, "_rebuilding", None)
    if rebuild is not None:
        await rebuild
    await first.round()  # reads every open handoff's record once
    first_ms = (time.perf_counter() - started) * 1000
    if kind == "postgresql":  # the rows of the last HORIZON_SECONDS are read again until then
        settled = time.monotonic() + watchlist.HORIZON_SECONDS + 0.5
        while time.monotonic() < settled:
            await first.round()
            await asyncio.sleep(POLL_SECONDS)
        await first.round()
    assert set(first.running()) == set(opened), (len(first.running()), len(opened))
    assert first.metrics.handoffs.count(state.WAITING) == len(opened)
    round_ms = [await first.round() for _ in range(rounds)]
    scrape_ms = [first.scrape() for _ in range(rounds)]
    result: Dict[str, Any] = {
        "store": kind,
        "open": len(first.running()),
        "first_start_ms": round(first_ms, 1),
        "round": summary(round_ms),
        "scrape": summary(scrape_ms),
        "seen_by_other_instance_s": await seen_by_other(first, make_store, seen),
    }
    await first.loop.stop()
    return result


async def seen_by_other(writer: Instance, make_store: Any, times: int) -> Dict[str, float]:
    """A handoff stored through `writer`'s store; how long until another instance, running its
    own loop (a round every `POLL_SECONDS`), has it."""
    other = Instance(make_store())
    await other.round()
    running = True
    round_done = asyncio.Event()

    async def rounds() -> None:
        while running:  # as `TimerLoop._run`: a round starts every POLL_SECONDS
            took = await other.round() / 1000
            round_done.set()
            await asyncio.sleep(max(0.0, POLL_SECONDS - took))

    task = asyncio.get_running_loop().create_task(rounds())
    delays: List[float] = []
    chance = random.Random(2)
    store = writer.rasa.trackers.store
    for _ in range(times):
        await asyncio.sleep(chance.uniform(0, POLL_SECONDS))
        sender_id = "new-" + uuid.uuid4().hex[:12]
        await store.save(tracker_of(sender_id, True))
        stored = time.perf_counter()
        watch.note_running(sender_id)  # the policy, predicting right after the escalation
        while sender_id not in other.running():
            round_done.clear()
            await round_done.wait()
        delays.append(time.perf_counter() - stored)
    running = False
    await task
    await other.loop.stop()
    return {
        "median": round(statistics.median(delays), 3),
        "max": round(max(delays), 3),
    }


async def run(args: argparse.Namespace) -> List[Dict[str, Any]]:
    with store_servers() as servers:
        return [
            await filled_and_measured(args, "redis", servers.redis_store, fill_redis),
            await filled_and_measured(args, "postgresql", servers.sql, fill_sql),
        ]


async def filled_and_measured(
    args: argparse.Namespace, kind: str, make_store: Any, fill: Any
) -> Dict[str, Any]:
    started = time.perf_counter()
    opened = fill(make_store(), args.conversations, args.open)
    took = time.perf_counter() - started
    print(f"{kind}: {args.conversations} conversations stored in {took:.1f} s", flush=True)
    result = await measure(kind, make_store, opened, args.rounds, args.seen)
    print(json.dumps(result), flush=True)
    return result


def table(results: List[Dict[str, Any]], conversations: int) -> str:
    lines = [
        f"{conversations:,} stored conversations; round and scrape: median / p99 ms "
        f"(target < {TARGET_MS:g} ms); seen: median / max s",
        "",
        "| store | open | first start | timer round | scrape | seen by a 2nd instance |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        seen = r["seen_by_other_instance_s"]
        lines.append(
            f"| {r['store']} | {r['open']} | {r['first_start_ms']:.0f} ms "
            f"| {r['round']['median_ms']:.2f} / {r['round']['p99_ms']:.2f} "
            f"| {r['scrape']['median_ms']:.2f} / {r['scrape']['p99_ms']:.2f} "
            f"| {seen['median']:.2f} / {seen['max']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seen", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    text = table(results, args.conversations)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "open_index.json").write_text(json.dumps(results, indent=2))
    (args.out / "open_index.md").write_text(text + "\n")
    slow = [
        r["store"]
        for r in results
        if max(r["round"]["median_ms"], r["scrape"]["median_ms"]) >= TARGET_MS
    ]
    if slow:
        print(f"over {TARGET_MS:g} ms: {', '.join(slow)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
