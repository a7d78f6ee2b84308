#!/usr/bin/env python3
"""`rasa-zendesk report` over a tracker store of 10,000 handoffs: time and peak memory.

    .venv/bin/python bench/bench_report.py [--handoffs 10000] [--stores sqlite,redis]

The stores are filled with the report tests' scripted handoffs (`testkit.scripted_handoffs`,
12 to 20 events each, spread over a week), written as Rasa writes them: rows of the SQL
events table (a SQLite file), or one JSON value per conversation (a throwaway redis-server).
Then the real command runs in a child process, `rasa-zendesk report --since 7d --csv`, and its
wall time and peak RSS (the child's `VmHWM`, read as it exits) are printed. To show that the
events are streamed, not loaded, the same runs at a tenth of the handoffs: the difference in
peak memory is what the handoffs' summaries take, not the events.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402

from testkit.scripted_handoffs import DAY, events_of  # noqa: E402
from testkit.services import redis_server  # noqa: E402


def conversations(count: int, now: float) -> Iterator[Tuple[str, List[Dict[str, Any]]]]:
    """`count` handoffs, one conversation each, spread over the last 6 days."""
    for n in range(count):
        hours = (n * 144.0 / count) % 144 + 1
        events = events_of(replace(DAY[n % len(DAY)], hours_ago=hours), now, f"c{n}")
        yield f"user-{n}", [event.as_dict() for event in events]


def fill_sqlite(path: Path, count: int, now: float) -> Dict[str, Any]:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    rows: List[Dict[str, Any]] = []
    with store.session_scope() as session:
        for sender_id, events in conversations(count, now):
            for event in events:
                rows.append(
                    {
                        "sender_id": sender_id,
                        "type_name": event["event"],
                        "timestamp": event["timestamp"],
                        "intent_name": (event.get("parse_data") or {})
                        .get("intent", {})
                        .get("name"),
                        "action_name": event.get("name") if event["event"] == "action" else None,
                        "data": json.dumps(event),
                    }
                )
            if len(rows) >= 20000:
                session.bulk_insert_mappings(store.SQLEvent, rows)
                rows = []
        session.bulk_insert_mappings(store.SQLEvent, rows)
        session.commit()
    return {"type": "SQL", "dialect": "sqlite", "db": str(path)}


def fill_redis(port: int, count: int, now: float) -> Dict[str, Any]:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    pipe = client.pipeline()
    for n, (sender_id, events) in enumerate(conversations(count, now)):
        pipe.set(f"tracker:{sender_id}", json.dumps({"sender_id": sender_id, "events": events}))
        if n % 1000 == 999:
            pipe.execute()
    pipe.execute()
    return {"type": "redis", "url": "127.0.0.1", "port": port}


def report(endpoint: Dict[str, Any], folder: Path) -> Tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) of the report's process, and the handoffs it counted."""
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({"tracker_store": endpoint}))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_AFTER_MAIN, "report", "--project", str(folder)]
        + ["--since", "7d", "--csv"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    seconds = time.perf_counter() - started
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    total = next(line for line in done.stdout.splitlines() if line.startswith("all,"))
    return seconds, peak_kib / 1024, int(total.split(",")[1])


#: The command as the console script runs it, then its own peak RSS (KiB) on stderr.
_PEAK_AFTER_MAIN = (
    "import sys\n"
    "from rasa_zendesk.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "status = open('/proc/self/status').read()\n"
    "print(status.split('VmHWM:')[1].split()[0], file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def baseline(folder: Path) -> Tuple[float, float]:
    """The command on an empty store: what importing Rasa costs, before any event."""
    empty = fill_sqlite(folder / "empty.db", 0, time.time())
    seconds, peak, _ = report(empty, folder)
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handoffs", type=int, default=10000)
    parser.add_argument("--stores", default="sqlite,redis")
    args = parser.parse_args()
    stores = args.stores.split(",")
    print("| store | handoffs | events | report s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seconds, peak = baseline(folder)
        print(f"| empty SQLite (import cost) | 0 | 0 | {seconds:.1f} | {peak:.0f} |")
        for count in (args.handoffs // 10, args.handoffs):
            events = sum(len(events) for _, events in conversations(count, time.time()))
            for kind in stores:
                now = time.time()
                if kind == "sqlite":
                    endpoint = fill_sqlite(folder / f"t{count}.db", count, now)
                    seconds, peak, counted = report(endpoint, folder)
                else:
                    with redis_server() as server:
                        endpoint = fill_redis(server.port, count, now)
                        seconds, peak, counted = report(endpoint, folder)
                assert counted == count, (counted, count)
                print(f"| {kind} | {count} | {events} | {seconds:.1f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
