"""A scripted set of handoffs (the report's tests and bench), stored as Rasa stores them, and what
a report of them must say, worked out here from the script alone (not by the report's code)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Dict, List, Optional

from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.handoff import state
from testkit.policy_trackers import session_start


@dataclass(frozen=True)
class Scripted:
    hours_ago: float  # when it was requested
    trigger: str
    wait: Optional[float]  # seconds to the agent's first message; None: no agent came
    duration: Optional[float]  # seconds to the end; None: still running
    reason: Optional[str]
    to_agent: int
    from_agent: int

    def requested_at(self, now: float) -> float:
        return now - self.hours_ago * 3600

    def day(self, now: float) -> date:
        return datetime.fromtimestamp(self.requested_at(now)).date()


#: Three days: asked for a human, frustration, fallbacks; solved, released, the user's end,
#: no agent in time, one still running; and one from long before the period.
DAY = [
    Scripted(50, "explicit_request", 60, 900, state.TICKET_SOLVED, 3, 4),
    Scripted(49, "frustration", 300, 1500, state.AGENT_RELEASED, 5, 6),
    Scripted(48, "explicit_request", None, 120, state.USER_ENDED, 1, 0),
    Scripted(26, "fallbacks", 30, 600, state.TICKET_CLOSED, 2, 2),
    Scripted(25, "explicit_request", 120, 1200, state.TICKET_SOLVED, 4, 3),
    Scripted(24.5, "explicit_request", None, 610, state.AGENT_TIMEOUT, 0, 0),
    Scripted(3, "explicit_request", 45, None, None, 2, 1),
]
BEFORE = Scripted(24 * 40, "explicit_request", 10, 100, state.TICKET_SOLVED, 1, 1)


def events_of(handoff: Scripted, now: float, conversation_id: str) -> List[Event]:
    """The conversation as the plugin leaves it: the request, messages each way, the end."""
    at = handoff.requested_at(now)
    record = state.opened(conversation_id, trigger=handoff.trigger, at=at)
    events: List[Event] = [
        *session_start(at - 5),
        UserUttered("I need a person", timestamp=at - 1),
        ActionExecuted(constants.ACTION_HANDOFF, timestamp=at),
        SlotSet(constants.SLOT_HANDOFF, record.as_slot(), timestamp=at),
    ]
    for n in range(handoff.to_agent):
        events.append(UserUttered(f"to the agent {n}", timestamp=at + 1 + n))
    if handoff.wait is not None:
        record = state.agent_joined(record, "Alex", at=at + handoff.wait)
        events.append(
            SlotSet(constants.SLOT_HANDOFF, record.as_slot(), timestamp=at + handoff.wait)
        )
    for n in range(handoff.from_agent):
        meta = {constants.EVENT_ZENDESK_MESSAGE_ID: f"m{n}-{conversation_id}"}
        events.append(BotUttered(f"agent {n}", metadata=meta, timestamp=at + 40 + n))
    if handoff.duration is not None:
        assert handoff.reason is not None
        record = state.ended(record, handoff.reason, at=at + handoff.duration)
        events.append(
            SlotSet(constants.SLOT_HANDOFF, record.as_slot(), timestamp=at + handoff.duration)
        )
        events.append(UserUttered("thanks, bot", timestamp=at + handoff.duration + 5))
    return events


def tracker_of(handoff: Scripted, now: float, sender_id: str, slots: List) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        sender_id, events_of(handoff, now, "c-" + sender_id), slots
    )


@dataclass
class Expected:
    handoffs: int
    agent_joined: int
    median_wait: Optional[float]
    max_wait: Optional[float]  # the p90 of 10 or fewer waits
    median_duration: Optional[float]
    to_agent: int
    from_agent: int
    triggers: Dict[str, int]
    endings: Dict[str, int]


def expected(script: List[Scripted], now: float) -> Dict[str, Expected]:
    """Per day (ISO date) and `all`."""
    groups: Dict[str, List[Scripted]] = defaultdict(list)
    for handoff in script:
        groups[handoff.day(now).isoformat()].append(handoff)
        groups["all"].append(handoff)
    out = {}
    for key, group in groups.items():
        waits = [h.wait for h in group if h.wait is not None]
        durations = [h.duration for h in group if h.duration is not None]
        out[key] = Expected(
            handoffs=len(group),
            agent_joined=len(waits),
            median_wait=statistics.median(waits) if waits else None,
            max_wait=max(waits) if waits else None,
            median_duration=statistics.median(durations) if durations else None,
            to_agent=sum(h.to_agent for h in group),
            from_agent=sum(h.from_agent for h in group),
            triggers=dict(Counter(h.trigger for h in group)),
            endings=dict(Counter(h.reason or "still_open" for h in group)),
        )
    return out


async def fill(store: TrackerStore, now: float) -> None:
    assert store.domain is not None
    for n, handoff in enumerate([BEFORE, *DAY]):
        await store.save(tracker_of(handoff, now, f"user-{n}", store.domain.slots))
