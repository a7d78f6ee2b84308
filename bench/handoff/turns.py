"""(b) Relay turn against a normal bot turn, and (c) escalation, measured one user at a time.

- Normal turn: a user message on socket.io until the bot's reply arrives on the socket.
- Relay turn: a user message on socket.io, during a handoff, until the emulator receives it
  (the time the emulator logs the `POST .../messages`; both clocks are this machine's).
- Escalation: the `human_handoff` message until the user hears "connecting", until
  passControl reaches the emulator, and until it is answered, with the emulator adding
  `latency_ms` to every SunCo call (set through its control API, so one deployment measures
  each latency in turn); which calls it took and which of them overlapped in time (ran in
  parallel).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from bench.handoff.common import Bench, new_user, start_handoff
from bench.handoff.stats import Summary, emulator_time, summarize
from testkit.cluster import HANDOFF_REQUEST
from testkit.stack_users import CONNECTING, STARTED

# Each answered by a response of the example bot (rules greet and thanks).
NORMAL_TEXTS = ("hi", "thanks", "hello there")


async def _next_reply(user: Any, before: int, timeout: float = 60) -> float:
    """Arrival time (perf_counter) of the first bot message after index `before`."""
    await user.wait_for_count(before + 1, timeout)
    return user.received[before].at


async def _settle(user: Any) -> None:
    """Let trailing messages of a turn arrive before the next turn starts."""
    await asyncio.sleep(0.3)


async def _arrival_at_emulator(bench: Bench, conversation_id: str, text: str) -> float:
    """When the emulator received the user's message (epoch seconds)."""
    deadline = time.monotonic() + 60
    while True:
        for call in await bench.emulator.requests(f"/conversations/{conversation_id}/messages"):
            body = call.get("body") or {}
            if call["method"] == "POST" and (body.get("content") or {}).get("text") == text:
                return emulator_time(call["at"])
        if time.monotonic() > deadline:
            raise RuntimeError(f"{text!r} never reached the emulator")
        await asyncio.sleep(0.05)


async def relay_vs_normal(bench: Bench, users: int) -> Tuple[Summary, Summary]:
    """Normal bot turns, then relay turns of the same users after they asked for a human."""
    normal: List[float] = []
    relay: List[float] = []
    for _ in range(users):
        user = await new_user(bench, "turns")
        # The first message also starts the session: not a typical turn, so not timed.
        await user.send("hello")
        await _next_reply(user, 0)
        await _settle(user)
        for text in NORMAL_TEXTS:
            before = len(user.received)
            sent = await user.send(text)
            normal.append(await _next_reply(user, before) - sent)
            await _settle(user)
        await user.close()
    for index in range(users):
        handoff = await start_handoff(bench, "relay")
        for turn in range(len(NORMAL_TEXTS)):
            text = f"my parcel {index}-{turn} has not arrived yet"
            sent = time.time()
            await handoff.user.send(text)
            arrived = await _arrival_at_emulator(bench, handoff.conversation_id, text)
            relay.append(arrived - sent)
            await _settle(handoff.user)
        await handoff.user.close()
    return summarize(normal), summarize(relay)


@dataclass
class Escalation:
    """One escalation's timings (seconds) and its SunCo calls (method, path, start, end)."""

    to_connecting: float
    to_pass_control: float
    to_pass_control_done: float
    to_user_notice: float
    calls: List[Tuple[str, float, float]] = field(default_factory=list)

    @property
    def steps(self) -> List[List[str]]:
        """The calls grouped into steps: calls that overlap in time share a step."""
        steps: List[List[str]] = []
        step_end = float("-inf")
        for name, start, end in sorted(self.calls, key=lambda call: call[1]):
            if steps and start < step_end:
                steps[-1].append(name)
                step_end = max(step_end, end)
            else:
                steps.append([name])
                step_end = end
        return steps


def path_template(method: str, path: str) -> str:
    """`POST /v2/apps/app_1/conversations/5f.../messages` -> `POST conversations/{id}/messages`."""
    path = re.sub(r"^.*/v2/apps/[^/]+/?", "", path)
    path = re.sub(r"^users/[^/]+", "users/{id}", path)
    path = re.sub(r"^conversations/[^/]+", "conversations/{id}", path)
    return f"{method} {path}"


def parse_latencies(text: str) -> List[int]:
    """`100,1000` -> [100, 1000]: milliseconds the emulator adds to every SunCo call."""
    latencies = []
    for part in (part.strip() for part in text.split(",")):
        if not part.isdigit():
            raise ValueError(f"not a latency: {part!r} (whole milliseconds, e.g. 100,1000)")
        latencies.append(int(part))
    return latencies


async def escalation(bench: Bench, runs: int, latency_ms: int) -> List[Escalation]:
    results = []
    await bench.set_latency(latency_ms)
    try:
        for _ in range(runs):
            user = await new_user(bench, "escalation")
            await user.send("hello")
            await _next_reply(user, 0)
            await _settle(user)
            sent = time.time()
            sent_perf = await user.send(HANDOFF_REQUEST)
            await user.wait_until(lambda got: any(STARTED in (m.text or "") for m in got), 120)
            connecting = next(m for m in user.received if CONNECTING in (m.text or ""))
            notice = next(m for m in user.received if STARTED in (m.text or ""))
            calls, pass_control = await _calls_until_pass_control(bench, sent)
            start, end = emulator_time(pass_control["at"]), _end(pass_control)
            results.append(
                Escalation(
                    to_connecting=connecting.at - sent_perf,
                    to_pass_control=start - sent,
                    to_pass_control_done=end - sent,
                    to_user_notice=notice.at - sent_perf,
                    calls=[
                        (path_template(c["method"], c["path"]), emulator_time(c["at"]), _end(c))
                        for c in calls
                    ],
                )
            )
            await user.close()
    finally:
        await bench.set_latency(0)
    return results


def _end(call: Dict[str, Any]) -> float:
    return emulator_time(call["at"]) + (call.get("durationMs") or 0) / 1000


async def _calls_until_pass_control(
    bench: Bench, since: float
) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """The SunCo calls made since `since` (epoch seconds), up to the answered passControl.
    Escalations run one at a time, so every call in that window is the escalation's."""
    deadline = time.monotonic() + 60
    while True:
        calls = [
            call
            for call in await bench.emulator.requests()
            if emulator_time(call["at"]) >= since - 0.001
        ]
        done = [c for c in calls if c["path"].endswith("/passControl") and c.get("status")]
        if done:
            pass_control = done[0]
            end = _end(pass_control)
            return [c for c in calls if emulator_time(c["at"]) <= end], pass_control
        if time.monotonic() > deadline:
            raise RuntimeError("no passControl reached the emulator")
        await asyncio.sleep(0.1)


def describe_steps(escalations: List[Escalation]) -> str:
    """The calls of the first escalation, step by step (`A ‖ B` ran in parallel)."""
    steps = escalations[0].steps
    return " → ".join(" ‖ ".join(step) for step in steps)


def escalation_json(escalations: List[Escalation], latency_ms: int) -> Dict[str, Any]:
    return {
        "latency_ms": latency_ms,
        "to_connecting": summarize([e.to_connecting for e in escalations]).to_json(),
        "to_pass_control": summarize([e.to_pass_control for e in escalations]).to_json(),
        "to_pass_control_done": summarize([e.to_pass_control_done for e in escalations]).to_json(),
        "to_user_notice": summarize([e.to_user_notice for e in escalations]).to_json(),
        "calls": len(escalations[0].calls),
        "steps": escalations[0].steps,
        "same_calls_every_run": len({tuple(map(tuple, e.steps)) for e in escalations}) == 1,
    }
