"""(a) Webhook ingest: agent messages per second, and latency, of our webhook against Rasa's own
`POST /conversations/{id}/tracker/events?output_channel=latest&execute_side_effects=true` doing
the same job: append a bot message to the conversation and push it to the user's socket.

Each endpoint gets conversations of its own, made the same way (a real handoff, then padded to
the target length through Rasa's API). Every conversation sends its agent messages one after
the other, as SunCo delivers a conversation's webhooks, and all conversations at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Dict, List

from bench.handoff.common import (
    Bench,
    HandoffUser,
    agent_bot_event,
    agent_webhook,
    bounded,
    padding,
    start_handoff,
)
from bench.handoff.stats import Summary, summarize

ENDPOINTS = ("webhook", "rasa")


@dataclass
class Cell:
    endpoint: str
    length: int  # events in each conversation before the measured messages
    summary: Summary

    def to_json(self) -> Dict[str, Any]:
        return {"endpoint": self.endpoint, "length": self.length, **self.summary.to_json()}


async def prepare(bench: Bench, tag: str, count: int, length: int) -> List[HandoffUser]:
    """`count` users in a handoff, each conversation padded to `length` stored events."""
    handoffs = await bounded(
        8, [lambda: start_handoff(bench, tag, with_template=True) for _ in range(count)]
    )
    for handoff in handoffs:
        stored = len(bench.tracker.events(handoff.sender_id))
        if stored > length:
            raise RuntimeError(
                f"a fresh handoff already has {stored} events: choose lengths of at least that"
            )
        if stored < length:
            reply = await bench.append_events(handoff.sender_id, padding(length - stored), False)
            reply.raise_for_status()
        stored = len(bench.tracker.events(handoff.sender_id))
        if stored != length:
            raise RuntimeError(f"padded to {stored} events, not {length}")
    return handoffs


async def send_one(bench: Bench, endpoint: str, handoff: HandoffUser, text: str) -> float:
    """One agent message through `endpoint`; returns its latency in seconds."""
    started = time.perf_counter()
    if endpoint == "webhook":
        assert handoff.template is not None
        reply = await bench.post_webhook(agent_webhook(handoff.template, text))
        elapsed = time.perf_counter() - started
        if reply.status_code != 200 or reply.json().get("processed") != 1:
            raise RuntimeError(f"webhook not applied: {reply.status_code} {reply.text[:300]}")
    else:
        reply = await bench.append_events(handoff.sender_id, [agent_bot_event(text)], True)
        elapsed = time.perf_counter() - started
        if reply.status_code != 200:
            raise RuntimeError(f"Rasa's endpoint failed: {reply.status_code} {reply.text[:300]}")
    return elapsed


async def measure(
    bench: Bench, endpoint: str, handoffs: List[HandoffUser], messages: int, length: int
) -> Cell:
    """Warm up with one message per conversation, then time `messages` more for each."""

    async def conversation(handoff: HandoffUser, count: int, label: str) -> List[float]:
        latencies = []
        for index in range(count):
            text = f"{handoff.sender_id} {label} {index}"
            latencies.append(await send_one(bench, endpoint, handoff, text))
        return latencies

    await bounded(len(handoffs), [lambda h=h: conversation(h, 1, "warm") for h in handoffs])
    async with bench.profiled(f"profile-{endpoint}-{length}"):
        started = time.perf_counter()
        per_conversation = await bounded(
            len(handoffs), [lambda h=h: conversation(h, messages, "timed") for h in handoffs]
        )
        wall = time.perf_counter() - started
    # Every message reached the user's socket, once.
    for handoff in handoffs:
        prefix = f"{handoff.sender_id} timed"
        await handoff.user.wait_until(
            lambda got, p=prefix: sum((m.text or "").startswith(p) for m in got) >= messages,
            timeout=120,
        )
        arrived = [m.text for m in handoff.user.received if (m.text or "").startswith(prefix)]
        if arrived != [f"{prefix} {index}" for index in range(messages)]:
            raise RuntimeError(f"{endpoint}: messages lost or out of order for {prefix}")
    latencies = [latency for conversation in per_conversation for latency in conversation]
    return Cell(endpoint, length, summarize(latencies, wall))


async def run(bench: Bench, lengths: List[int], conversations: int, messages: int) -> List[Cell]:
    cells = []
    for length in lengths:
        prepared = {
            endpoint: await prepare(bench, f"ingest-{endpoint}-{length}", conversations, length)
            for endpoint in ENDPOINTS
        }
        for endpoint in ENDPOINTS:
            cell = await measure(bench, endpoint, prepared[endpoint], messages, length)
            print(
                f"  ingest {endpoint:8} {length:4} events: {cell.summary.rate:7.1f} msg/s, "
                f"p50 {cell.summary.p50:6.1f} ms, p99 {cell.summary.p99:6.1f} ms",
                flush=True,
            )
            cells.append(cell)
        for handoffs in prepared.values():
            for handoff in handoffs:
                await handoff.user.close()
    return cells
