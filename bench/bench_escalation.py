#!/usr/bin/env python3
"""When the user hears "connecting", and when the handoff is open, as the chat grows (10, 50
and 200 turns) and as Zendesk slows down (100 ms and 1 s per SunCo call).

    .venv/bin/python bench/bench_escalation.py [--latencies 100,1000] [--runs 3] [--quick]

The real `action_zendesk_handoff` runs through rasa-sdk's executor against the emulator, which
adds the latency to every API call (a Zendesk far away, or busy), as Rasa runs it in the
user's turn: the first run (the notice) and the follow-up run it asks for (the SunCo work).
Each time starts before the action call is made (Rasa serialising the tracker, as it does for
every action) and ends at the run's answer; every figure is the median of `--runs`. Before,
one run did both: the user heard nothing until the handoff was open.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from rasa_sdk.executor import ActionExecutor  # noqa: E402

from rasa_zendesk import constants  # noqa: E402
from rasa_zendesk.actions import ActionZendeskHandoff, sunco_session  # noqa: E402
from rasa_zendesk.emulator import EmulatorConfig, run_emulator  # noqa: E402
from testkit.action_calls import action_call, as_recorded, bot, user  # noqa: E402

TURNS = (10, 50, 200)
Row = Dict[str, Any]


def chat(turns: int) -> List[Any]:
    """`turns` messages, user and bot in turn, then the request for a human."""
    events: List[Any] = []
    for i in range(turns // 2):
        events += user(f"message {i}: my parcel still has not arrived, what now?", "inform")
        events += bot(f"reply {i}: I am sorry to hear that, let me check.", "utter_check")
    return events + user("a human please", "human_handoff")


async def escalate(executor: ActionExecutor, events: List[Any], sender: str) -> List[float]:
    """One user's turn: seconds until the notice, and until the handoff is open."""
    started = time.perf_counter()
    told = await executor.run(action_call(constants.ACTION_HANDOFF, sender, events))
    notice = time.perf_counter() - started
    assert told and told["responses"][0]["response"] == constants.UTTER_CONNECTING, told
    events = [*events, *as_recorded(constants.ACTION_HANDOFF, told)]
    opened = await executor.run(action_call(constants.ACTION_HANDOFF, sender, events))
    assert opened and opened["responses"][0]["response"] == constants.UTTER_HANDOFF_STARTED
    return [notice, time.perf_counter() - started]


async def measure(latencies: List[int], runs: int) -> List[Row]:
    config = EmulatorConfig(port=0)
    async with run_emulator(config) as server:
        os.environ.update(
            {
                "ZENDESK_SUBDOMAIN": "bench",
                "ZENDESK_APP_ID": config.app_id,
                "ZENDESK_KEY_ID": config.key_id,
                "ZENDESK_KEY_SECRET": config.key_secret,
                "ZENDESK_WEBHOOK_SECRET": config.webhook_secret,
                "ZENDESK_API_URL": server.api_url,
                "ZENDESK_REQUEST_DEADLINE": "600",
            }
        )
        executor = ActionExecutor()
        executor.register_action(ActionZendeskHandoff)
        rows = []
        async with httpx.AsyncClient(base_url=server.base_url + "/_emulator") as control:
            for latency in latencies:
                await control.post("/latency", json={"ms": latency})
                for turns in TURNS:
                    events = chat(turns)
                    times, calls = [], []
                    for attempt in range(runs):
                        before = len((await control.get("/requests")).json()["requests"])
                        sender = f"bench-{latency}-{turns}-{attempt}"
                        times.append(await escalate(executor, events, sender))
                        after = len((await control.get("/requests")).json()["requests"])
                        calls.append(after - before)
                    rows.append(
                        {
                            "latency_ms": latency,
                            "turns": turns,
                            "calls": int(statistics.median(calls)),
                            "notice_ms": statistics.median(t[0] for t in times) * 1000,
                            "open_ms": statistics.median(t[1] for t in times) * 1000,
                        }
                    )
        await sunco_session.get_client().aclose()
    return rows


def table(rows: List[Row]) -> str:
    lines = [
        '| SunCo latency | turns | SunCo calls, in sequence | user told "connecting" '
        "| handoff open (before: the first notice) |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['latency_ms']} ms | {r['turns']} | {r['calls']} | {r['notice_ms']:.0f} ms "
        f"| {r['open_ms']:.0f} ms |"
        for r in rows
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latencies", default="100,1000", help="ms per SunCo call")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run at 100 ms: a smoke run")
    args = parser.parse_args()
    latencies = [int(value) for value in args.latencies.split(",")]
    if args.quick:
        latencies, args.runs = [100], 1
    logging.basicConfig(level=logging.WARNING)
    print(table(asyncio.run(measure(latencies, args.runs))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
