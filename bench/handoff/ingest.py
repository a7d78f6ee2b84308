"""(a) Webhook ingest: agent messages per second, and latency, of our webhook against Rasa's own
`POST /conversations/{id}/tracker/events?output_channel=latest&execute_side_effects=true` doing
the same job: append a bot message to the conversation and push it to the user's socket.

Each endpoint gets conversations of its own, made the same way (a real handoff, then padded to
the target length through Rasa's API). Every conversation sends its agent messages one after
the other, as SunCo delivers a conversation's webhooks, and a group of conversations at once
(several groups in turn: more is measured, and no conversation grows longer than the others).
The two endpoints take turns in rounds, so that a busy moment of the machine is shared by both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from bench.handoff import cpu
from bench.handoff.common import (
    Bench,
    HandoffUser,
    agent_bot_event,
    agent_webhook,
    bounded,
    start_handoff,
)
from bench.handoff.stats import Summary, summarize
from testkit.stored_chats import padding

ENDPOINTS = ("webhook", "rasa")
#: The length of a conversation just handed off (the shortest one an agent writes to).
FRESH = "fresh"


@dataclass
class Cell:
    endpoint: str
    length: int  # events in each conversation before the measured messages
    summary: Summary
    #: CPU milliseconds a message, by part of the deployment (`bench.handoff.cpu`).
    cpu_ms: Dict[str, float]

    def to_json(self) -> Dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "length": self.length,
            **self.summary.to_json(),
            "cpu_ms": self.cpu_ms,
        }


async def prepare(
    bench: Bench, tag: str, count: int, length: Optional[int]
) -> Tuple[List[HandoffUser], int]:
    """`count` users in a handoff, each conversation padded to `length` stored events (None:
    as long as a fresh handoff is, which grows whenever a handoff records one event more);
    the users and the length."""
    handoffs = await bounded(
        8, [lambda: start_handoff(bench, tag, with_template=True) for _ in range(count)]
    )
    stored = {h.sender_id: len(bench.tracker.events(h.sender_id)) for h in handoffs}
    fresh = max(stored.values())
    if length is None:
        length = fresh
    elif fresh > length:
        raise RuntimeError(
            f"a fresh handoff already has {fresh} events: choose lengths of at least that "
            f"(or {FRESH!r})"
        )
    for handoff in handoffs:
        if stored[handoff.sender_id] < length:
            missing = length - stored[handoff.sender_id]
            events = [event.as_dict() for event in padding(missing)]
            reply = await bench.append_events(handoff.sender_id, events, False)
            reply.raise_for_status()
        padded = len(bench.tracker.events(handoff.sender_id))
        if padded != length:
            raise RuntimeError(f"padded to {padded} events, not {length}")
    return handoffs, length


def parse_lengths(text: str) -> List[Optional[int]]:
    """`fresh,500` -> [None, 500]: `fresh` is a fresh handoff's length, found when measured."""
    lengths: List[Optional[int]] = []
    for part in (part.strip() for part in text.split(",")):
        if part == FRESH:
            lengths.append(None)
        elif part.isdigit() and int(part) > 0:
            lengths.append(int(part))
        else:
            raise ValueError(f"not a length: {part!r} (a number of events, or {FRESH!r})")
    return lengths


async def send_one(bench: Bench, endpoint: str, handoff: HandoffUser, text: str) -> float:
    """One agent message through `endpoint`; returns its latency in seconds."""
    started = time.perf_counter()
    if endpoint == "webhook":
        assert handoff.template is not None
        status, answer = await bench.timed_post(
            bench.webhook_url, agent_webhook(handoff.template, text), headers=bench.webhook_headers
        )
        elapsed = time.perf_counter() - started
        if status != 200 or not isinstance(answer, dict) or answer.get("processed") != 1:
            raise RuntimeError(f"webhook not applied: {status} {str(answer)[:300]}")
    else:
        status, answer = await bench.timed_post(
            f"{bench.rasa_url}/conversations/{handoff.sender_id}/tracker/events",
            [agent_bot_event(text)],
            params=bench.push_params,
        )
        elapsed = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"Rasa's endpoint failed: {status} {str(answer)[:300]}")
    return elapsed


async def timed_round(
    bench: Bench, endpoint: str, handoffs: List[HandoffUser], messages: int, label: str
) -> Tuple[List[float], float]:
    """Every conversation sends `messages` agent messages, one after the other, all
    conversations at once; the latencies, and the wall time of the round."""

    async def conversation(handoff: HandoffUser) -> List[float]:
        return [
            await send_one(bench, endpoint, handoff, f"{handoff.sender_id} {label} {index}")
            for index in range(messages)
        ]

    started = time.perf_counter()
    per_conversation = await bounded(len(handoffs), [lambda h=h: conversation(h) for h in handoffs])
    wall = time.perf_counter() - started
    return [latency for latencies in per_conversation for latency in latencies], wall


async def check_delivered(handoff: HandoffUser, labels: List[str], messages: int) -> None:
    """Every timed message reached the user's socket once, in order."""
    expected = [f"{handoff.sender_id} {label} {i}" for label in labels for i in range(messages)]
    prefix = f"{handoff.sender_id} timed"
    await handoff.user.wait_until(
        lambda got: sum((m.text or "").startswith(prefix) for m in got) >= len(expected),
        timeout=120,
    )
    arrived = [m.text for m in handoff.user.received if (m.text or "").startswith(prefix)]
    if arrived != expected:
        raise RuntimeError(f"messages lost, repeated or out of order for {handoff.sender_id}")


async def measure_length(
    bench: Bench,
    length: Optional[int],
    conversations: int,
    messages: int,
    rounds: int,
    groups: int = 1,
) -> List[Cell]:
    """Both endpoints on conversations of `length` events (None: a fresh handoff's), in
    alternating rounds (so that a busy moment of the machine does not fall on one endpoint
    only). Each round runs `groups` groups of `conversations` conversations in turn, each
    group all at once: more is measured without any conversation growing longer."""
    prepared: Dict[str, List[HandoffUser]] = {}
    for endpoint in ENDPOINTS:  # the first one finds a fresh handoff's length for both
        tag = f"ingest-{endpoint}-{length or FRESH}"
        prepared[endpoint], length = await prepare(bench, tag, conversations * groups, length)
    bench.tracker.analyze()  # both endpoints read with the plan production would use
    grouped = {
        endpoint: [
            handoffs[start : start + conversations]
            for start in range(0, len(handoffs), conversations)
        ]
        for endpoint, handoffs in prepared.items()
    }
    for endpoint in ENDPOINTS:  # warm-up, not timed: one message per conversation
        await timed_round(bench, endpoint, prepared[endpoint], 1, "warm")
    per_round = max(1, messages // rounds)
    latencies: Dict[str, List[float]] = {endpoint: [] for endpoint in ENDPOINTS}
    walls: Dict[str, float] = {endpoint: 0.0 for endpoint in ENDPOINTS}
    used: Dict[str, Dict[str, float]] = {endpoint: {} for endpoint in ENDPOINTS}
    labels = [f"timed{number}" for number in range(rounds)]
    for number, label in enumerate(labels):
        order = ENDPOINTS if number % 2 == 0 else tuple(reversed(ENDPOINTS))
        for endpoint in order:
            profile = f"profile-{endpoint}-{length}" if number == 0 else None
            before = cpu.sample()
            async with bench.profiled(profile):
                for group in grouped[endpoint]:
                    samples, wall = await timed_round(bench, endpoint, group, per_round, label)
                    latencies[endpoint] += samples
                    walls[endpoint] += wall
            for part, seconds in cpu.used_since(before).items():
                used[endpoint][part] = used[endpoint].get(part, 0.0) + seconds
    cells = []
    for endpoint in ENDPOINTS:
        for handoff in prepared[endpoint]:
            await check_delivered(handoff, labels, per_round)
            await handoff.user.close()
        count = len(latencies[endpoint])
        cpu_ms = {part: 1000 * seconds / count for part, seconds in used[endpoint].items()}
        cell = Cell(endpoint, length, summarize(latencies[endpoint], walls[endpoint]), cpu_ms)
        print(
            f"  ingest {endpoint:8} {length:4} events: {cell.summary.rate:7.1f} msg/s, "
            f"p50 {cell.summary.p50:6.1f} ms, p99 {cell.summary.p99:6.1f} ms; CPU ms a message: "
            + ", ".join(f"{part} {ms:.2f}" for part, ms in sorted(cpu_ms.items())),
            flush=True,
        )
        cells.append(cell)
    return cells


async def run(
    bench: Bench,
    lengths: List[Optional[int]],
    conversations: int,
    messages: int,
    groups: int = 1,
    rounds: int = 3,
) -> List[Cell]:
    cells = []
    for length in lengths:
        cells += await measure_length(bench, length, conversations, messages, rounds, groups)
    return cells
