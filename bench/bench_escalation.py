#!/usr/bin/env python3
"""How long an escalation takes as the chat grows: 10, 50 and 200 turns, 100 ms per SunCo call.

    .venv/bin/python bench/bench_escalation.py [--latency-ms 100] [--runs 3]

The real `action_zendesk_handoff` runs through rasa-sdk's executor against the emulator, which
adds `--latency-ms` to every API call (a Zendesk far away, or busy). Next to it, the way 0.1.0
posted the same transcript: one SunCo message per turn, with the same client and emulator.
Every figure is the median of `--runs` escalations, from the action's start to its answer:
the time the user waits for "an agent is coming", with the conversation's lock held.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from rasa_sdk.executor import ActionExecutor  # noqa: E402

from rasa_zendesk import constants  # noqa: E402
from rasa_zendesk.actions import ActionZendeskHandoff, sunco_session  # noqa: E402
from rasa_zendesk.actions import summary as summaries  # noqa: E402
from rasa_zendesk.emulator import EmulatorConfig, run_emulator  # noqa: E402
from rasa_zendesk.sunco.models import Author  # noqa: E402
from testkit.action_calls import action_call, bot, user  # noqa: E402

TURNS = (10, 50, 200)
Row = Dict[str, Any]


def chat(turns: int) -> List[Any]:
    """`turns` messages, user and bot in turn, then the request for a human."""
    events: List[Any] = []
    for i in range(turns // 2):
        events += user(f"message {i}: my parcel still has not arrived, what now?", "inform")
        events += bot(f"reply {i}: I am sorry to hear that, let me check.", "utter_check")
    return events + user("a human please", "human_handoff")


async def escalate_now(executor: ActionExecutor, events: List[Any], sender: str) -> None:
    result = await executor.run(action_call(constants.ACTION_HANDOFF, sender, events))
    assert result and result["responses"][0]["response"] == constants.UTTER_HANDOFF_STARTED


async def escalate_per_turn(events: List[Any], sender: str) -> None:
    """0.1.0's calls: the summary, then one message per transcript turn."""
    body = action_call(constants.ACTION_HANDOFF, sender, events)["tracker"]
    briefing = summaries.summarize(body["events"], body["slots"])
    client = sunco_session.get_client()
    await client.get_or_create_user(sender)
    conversation = await client.create_conversation(sender, {"rasa_sender_id": sender})
    author = Author.business("Bot")
    first = None
    for text in [briefing.text, *summaries.transcript_blocks(briefing.transcript)]:
        posted = await client.post_message(conversation.id, author, text, constants.ORIGIN_METADATA)
        first = first or posted.id
    await client.pass_control(
        conversation.id, constants.AGENT_WORKSPACE, {"first_message_id": first}
    )


async def measure(latency_ms: int, runs: int) -> List[Row]:
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
        async with httpx.AsyncClient(base_url=server.base_url + "/_emulator") as control:
            await control.post("/latency", json={"ms": latency_ms})
            executor = ActionExecutor()
            executor.register_action(ActionZendeskHandoff)
            rows = []
            for turns in TURNS:
                events = chat(turns)
                ways: List[Tuple[str, Callable[[str], Awaitable[None]]]] = [
                    ("per turn (0.1.0)", functools.partial(escalate_per_turn, events)),
                    ("packed (now)", functools.partial(escalate_now, executor, events)),
                ]
                for name, run in ways:
                    times, calls = [], []
                    for attempt in range(runs):
                        before = len((await control.get("/requests")).json()["requests"])
                        started = time.perf_counter()
                        await run(f"bench-{turns}-{len(rows)}-{attempt}")
                        times.append((time.perf_counter() - started) * 1000)
                        after = len((await control.get("/requests")).json()["requests"])
                        calls.append(after - before)
                    rows.append(
                        {
                            "turns": turns,
                            "way": name,
                            "calls": int(statistics.median(calls)),
                            "ms": statistics.median(times),
                        }
                    )
        await sunco_session.get_client().aclose()
    return rows


def table(rows: List[Row], latency_ms: int) -> str:
    lines = [
        f"| turns | transcript | SunCo calls, in sequence | ms ({latency_ms} ms a call) |",
        "|---:|---|---:|---:|",
    ]
    lines += [f"| {r['turns']} | {r['way']} | {r['calls']} | {r['ms']:.0f} |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = asyncio.run(measure(args.latency_ms, args.runs))
    print(table(rows, args.latency_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
