#!/usr/bin/env python3
"""Benchmarks of the handoff against Rasa's own endpoints, measured side by side in one run.

    .venv/bin/python bench/bench_handoff.py [--quick] [--only ingest,turns,escalation,memory]

Starts its own deployment (PostgreSQL, Redis, the emulator, `rasa run actions` and one
`rasa run` with endpoints.scaleout.yml and the trained example bot), then measures:
(a) webhook ingest against Rasa's `POST /conversations/{id}/tracker/events`, on conversations
as long as a fresh handoff and of 500 events; (b) a relay turn against a normal bot turn;
(c) escalation at each SunCo latency per call (100 ms and 1 s by default; the emulator's latency
set between them, one deployment); (d) the Rasa process's memory with 1,000 handoffs open.
Results: a table on stdout, and artifacts/bench/handoff.{md,json}.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import logging
import os
import platform
import resource
import secrets
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
from rasa.version import __version__ as rasa_version  # noqa: E402

from bench.handoff import cpu, ingest, memory, report, turns  # noqa: E402
from bench.handoff.common import Bench  # noqa: E402
from testkit.cluster import Cluster, ClusterConfig  # noqa: E402
from testkit.emulator_control import EmulatorControl  # noqa: E402
from testkit.events_table import EventsTable  # noqa: E402
from testkit.processes import ARTIFACTS, ensure_model, run_dir  # noqa: E402
from testkit.services import postgres_server, redis_server  # noqa: E402

PARTS = ("ingest", "turns", "escalation", "memory")
OUTPUT = ARTIFACTS / "bench"


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help="parts to run (comma-separated)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--conversations", type=int, default=8, help="ingest: at once")
    parser.add_argument(
        "--messages", type=int, default=30, help="ingest: per conversation (in 3 rounds)"
    )
    parser.add_argument(
        "--groups",
        type=int,
        default=None,
        help="ingest: groups of --conversations, run in turn in each round (more measured, no "
        "conversation longer); 3, or 1 with --profile (Rasa's endpoint under cProfile would "
        "take minutes a round)",
    )
    parser.add_argument(
        "--lengths",
        default=f"{ingest.FRESH},500",
        help=f"ingest: conversation lengths in events ({ingest.FRESH}: as long as a fresh "
        "handoff, the shortest)",
    )
    parser.add_argument("--turn-users", type=int, default=10, help="turns: users (3 turns each)")
    parser.add_argument("--escalations", type=int, default=5)
    parser.add_argument(
        "--latency-ms",
        default="100,1000",
        help="escalation: SunCo latencies per call (comma-separated ms), one after another",
    )
    parser.add_argument("--handoffs", type=int, default=1000, help="memory: handoffs to open")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--gc-freeze",
        choices=("off", "on", "both"),
        default="off",
        help="the Rasa server's gc_freeze; both: the parts without it, then ingest again with "
        "it, in a second deployment (p99 side by side)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the Rasa process (cProfile) during each timed ingest: <output>/profile-*",
    )
    args = parser.parse_args(argv)
    args.parts = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts: {', '.join(unknown)} (choose from {', '.join(PARTS)})")
    if args.groups is None:
        args.groups = 1 if args.profile else 3
    if args.quick:
        args.conversations, args.messages, args.groups = 4, 6, 1
        # One escalation at each latency: at 1 s a SunCo call one takes about 5 s.
        args.turn_users, args.escalations, args.handoffs = 2, 1, 20
    try:
        args.length_list = ingest.parse_lengths(args.lengths)
        args.latencies = turns.parse_latencies(args.latency_ms)
    except ValueError as error:
        parser.error(str(error))
    return args


def profiled_rasa(profile_file: Path) -> List[str]:
    profile_file.parent.mkdir(parents=True, exist_ok=True)
    return [sys.executable, str(ROOT / "bench" / "handoff" / "profiled_rasa.py"), str(profile_file)]


def raise_open_files_limit() -> None:
    """A thousand users keep a socket each, here and in the Rasa process (which inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 16384) if hard != resource.RLIM_INFINITY else 16384
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def measure(args: argparse.Namespace, cluster: Cluster, token: str) -> Dict[str, Any]:
    results: Dict[str, Any] = {
        "environment": {
            "date": datetime.date.today().isoformat(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "rasa": rasa_version,
        }
    }
    tracker = EventsTable(cluster.config.postgres.url)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    timed = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=120), connector=aiohttp.TCPConnector(limit=200)
    )
    async with httpx.AsyncClient(timeout=120, limits=limits) as http, timed:
        bench = Bench(cluster, tracker, EmulatorControl(cluster.emulator_url), http, token, timed)
        if args.profile:
            bench.profile_file = args.output.resolve() / "rasa.prof"
        try:
            if "turns" in args.parts:
                print("(b) relay turn against a normal bot turn", flush=True)
                normal, relay = await turns.relay_vs_normal(bench, args.turn_users)
                results["turns"] = {"normal": normal.to_json(), "relay": relay.to_json()}
            if "escalation" in args.parts:
                results["escalation"] = []
                for latency in args.latencies:
                    print(f"(c) escalation, {latency} ms per SunCo call", flush=True)
                    runs = await turns.escalation(bench, args.escalations, latency)
                    results["escalation"].append(turns.escalation_json(runs, latency))
            if "ingest" in args.parts:
                print("(a) webhook ingest against Rasa's tracker/events", flush=True)
                print(f"  the Rasa server is quiet after {await cpu.quiet():.0f} s", flush=True)
                cells = await ingest.run(
                    bench, args.length_list, args.conversations, args.messages, args.groups
                )
                results["ingest"] = {
                    "conversations": args.conversations,
                    "messages": args.messages,
                    "groups": args.groups,
                    "cells": [cell.to_json() for cell in cells],
                }
            if "memory" in args.parts:
                print(f"(d) memory with {args.handoffs} handoffs open", flush=True)
                opened = await memory.open_handoffs(
                    bench, args.handoffs, concurrency=16, quick=args.quick
                )
                results["memory"] = opened.to_json()
        finally:
            await bench.emulator.close()
            tracker.close()
    return results


def deploy_and_measure(
    args: argparse.Namespace, model: Path, token: str, stores: Any, gc_freeze: bool
) -> Dict[str, Any]:
    """One deployment (the Rasa server with or without `gc_freeze`), measured."""
    postgres, redis = stores
    config = ClusterConfig(
        model=model,
        run_dir=run_dir("bench-gc-freeze" if gc_freeze else "bench"),
        postgres=postgres,
        redis=redis,
        instances=1,
        api_token=token,
        rasa_command=profiled_rasa(args.output.resolve() / "rasa.prof") if args.profile else (),
        extra_env={"ZENDESK_GC_FREEZE": "true" if gc_freeze else "false"},
    )
    print(f"starting the deployment (logs in {config.run_dir}) ...", flush=True)
    with Cluster(config) as cluster:
        return asyncio.run(measure(args, cluster, token))


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    raise_open_files_limit()
    started = time.monotonic()
    model = ensure_model()
    token = secrets.token_hex(16)
    # Production settings for PostgreSQL (fsync on): the tracker store costs what it costs.
    with postgres_server(durable=True) as postgres, redis_server() as redis:
        stores = (postgres, redis)
        results = deploy_and_measure(args, model, token, stores, args.gc_freeze == "on")
        results["gc_freeze"] = args.gc_freeze == "on"
        if args.gc_freeze == "both" and "ingest" in args.parts:
            print("(a) again, the Rasa server with gc_freeze", flush=True)
            args.parts = ["ingest"]
            frozen = deploy_and_measure(args, model, token, stores, True)
            results["ingest_gc_frozen"] = frozen["ingest"]
    results["seconds"] = round(time.monotonic() - started)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "handoff.json").write_text(json.dumps(results, indent=2) + "\n")
    table = report.markdown(results)
    (args.output / "handoff.md").write_text(table)
    print()
    print(table)
    print(f"written to {args.output / 'handoff.md'} and handoff.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
