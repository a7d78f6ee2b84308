#!/usr/bin/env python3
"""What one agent message costs the tracker store, with the channel's tracker cache and without
it, for PostgreSQL and Redis tracker stores, at two conversation lengths.

    .venv/bin/python bench/bench_tracker_cache.py [--lengths 12,500] [--messages 60]

A webhook's storage work is: read the conversation under its lock, check the dedupe key, append
one `BotUttered`, store it. Both paths run the channel's own `TrackerAccess`: "Rasa" with the
cache off, which is the store's own `retrieve` and `save` (what Rasa's own endpoints use too),
"cache" with `rasa_zendesk.channel.tracker_cache`. Both run in this process against real
servers (PostgreSQL with fsync on, Redis, both from Debian's packages), one message after
another, the two paths alternating so that a busy moment of the machine hits both. Each figure
is the median of `--messages` messages (`statistics.median` over `time.perf_counter`).
Each message grows the conversation by one event.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasa.core.lock_store import InMemoryLockStore  # noqa: E402
from rasa.core.tracker_store import TrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import BotUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

from rasa_zendesk import constants  # noqa: E402
from rasa_zendesk.channel.tracker_access import TrackerAccess, has_metadata  # noqa: E402
from testkit.stored_chats import padded, store_servers  # noqa: E402


def agent_message() -> BotUttered:
    return BotUttered("An agent's answer", metadata={constants.EVENT_ZENDESK_MESSAGE_ID: _id()})


def _id() -> str:
    return uuid.uuid4().hex[:24]


async def webhook_storage(trackers: TrackerAccess, sender_id: str) -> None:
    """What the webhook does with the store for one agent message, by the channel's own code."""
    message = agent_message()
    key = constants.EVENT_ZENDESK_MESSAGE_ID
    value = message.metadata[key]
    async with trackers.locked(sender_id) as tracker:
        assert tracker is not None
        assert not has_metadata(tracker.events, key, value)
        await trackers.record(tracker, [message])


async def measure(store: TrackerStore, length: int, messages: int) -> Dict[str, float]:
    assert store.domain is not None
    senders = {path: f"bench-{path}-{_id()}" for path in ("rasa", "cache")}
    for sender in senders.values():
        await store.save(DialogueStateTracker.from_events(sender, padded(length)))
    locks = InMemoryLockStore()
    paths = {"rasa": TrackerAccess(store, locks, 0), "cache": TrackerAccess(store, locks)}
    runs: Dict[str, Callable[[], Any]] = {
        path: (lambda path=path: webhook_storage(paths[path], senders[path])) for path in paths
    }
    times: Dict[str, List[float]] = {path: [] for path in runs}
    for run in runs.values():  # warm-up: the cache loads the conversation once
        await run()
    for number in range(messages):
        order = list(runs) if number % 2 == 0 else list(reversed(list(runs)))
        for path in order:
            started = time.perf_counter()
            await runs[path]()
            times[path].append((time.perf_counter() - started) * 1000)
    return {path: statistics.median(samples) for path, samples in times.items()}


async def run_all(stores: Dict[str, TrackerStore], lengths: List[int], messages: int) -> None:
    lines = [
        "| tracker store | conversation | Rasa `retrieve` + `save` ms | cache ms | Rasa ÷ cache |",
        "|---|---|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for name, store in stores.items():
        for length in lengths:
            medians = await measure(store, length, messages)
            line = (
                f"| {name} | {length} events | {medians['rasa']:.2f} | {medians['cache']:.2f} | "
                f"{medians['rasa'] / medians['cache']:.1f}× |"
            )
            print(line, flush=True)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", default="12,500")
    parser.add_argument("--messages", type=int, default=60)
    args = parser.parse_args(argv)
    lengths = [int(value) for value in args.lengths.split(",")]
    domain = Domain.load(ROOT / "domain.yml")
    with store_servers() as servers:
        stores: Dict[str, TrackerStore] = {
            "PostgreSQL": servers.sql(domain),
            "Redis": servers.redis_store(domain),
        }
        asyncio.run(run_all(stores, lengths, args.messages))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
