"""Handoffs summed up from the events of a tracker store, read once, in write order.

One small summary per handoff requested in the period (the newest record written for it, and
the messages each way while it ran); events are not kept. What a support lead asks: handoffs
per day, why, how long users waited for an agent (agent joined = first agent message; median
and p90), how long handoffs lasted, how they ended, how users rated them (CSAT, 1 to 5).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Dict, List, Optional

from rasa_zendesk import escalation
from rasa_zendesk.constants import EVENT_ZENDESK_MESSAGE_ID
from rasa_zendesk.handoff import state
from rasa_zendesk.monitoring.records import StoredEvent, record_of

#: The "how it ended" of a handoff still running.
STILL_OPEN = "still_open"


@dataclass
class ReportedHandoff:
    """One handoff as the report sees it: its newest record and its messages."""

    record: state.Handoff
    to_agent: int = 0  # user messages while it ran
    from_agent: int = 0  # agent messages relayed to the user

    @property
    def wait(self) -> Optional[float]:
        joined = self.record.agent_joined_at
        return None if joined is None else max(0.0, joined - self.record.requested_at)

    @property
    def duration(self) -> Optional[float]:
        ended = self.record.ended_at
        return None if ended is None else max(0.0, ended - self.record.requested_at)

    @property
    def ending(self) -> str:
        if self.record.state != state.ENDED:
            return STILL_OPEN
        return self.record.end_reason or "unknown"

    @property
    def day(self) -> date:
        return datetime.fromtimestamp(self.record.requested_at).date()


@dataclass
class Group:
    """Handoffs of one day (or all of them) and their figures."""

    handoffs: List[ReportedHandoff] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.handoffs)

    def waits(self) -> List[float]:
        return [h.wait for h in self.handoffs if h.wait is not None]

    def durations(self) -> List[float]:
        return [h.duration for h in self.handoffs if h.duration is not None]

    @property
    def joined(self) -> int:
        return len(self.waits())

    def median_wait(self) -> Optional[float]:
        return median(self.waits())

    def p90_wait(self) -> Optional[float]:
        return percentile(self.waits(), 90)

    def median_duration(self) -> Optional[float]:
        return median(self.durations())

    def triggers(self) -> Counter:
        return Counter(h.record.trigger or escalation.UNKNOWN for h in self.handoffs)

    def endings(self) -> Counter:
        return Counter(h.ending for h in self.handoffs)

    def ratings(self) -> List[int]:
        """The users' CSAT ratings (1 to 5) of these handoffs."""
        return [h.record.csat_rating for h in self.handoffs if h.record.csat_rating is not None]

    def mean_rating(self) -> Optional[float]:
        ratings = self.ratings()
        return statistics.mean(ratings) if ratings else None

    def rated_by(self, key: str) -> Dict[str, Group]:
        """The rated handoffs grouped by `ending` or `agent` (the agent's name)."""
        groups: Dict[str, Group] = defaultdict(Group)
        for handoff in self.handoffs:
            if handoff.record.csat_rating is None:
                continue
            name = handoff.ending if key == "ending" else handoff.record.agent_name or "unknown"
            groups[name].handoffs.append(handoff)
        return dict(sorted(groups.items()))

    def to_agent(self) -> int:
        return sum(h.to_agent for h in self.handoffs)

    def from_agent(self) -> int:
        return sum(h.from_agent for h in self.handoffs)


def median(values: List[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def percentile(values: List[float], rank: float) -> Optional[float]:
    """Nearest-rank percentile: the smallest value with `rank`% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)]


class Summary:
    """Fed the stored events once; keeps one `ReportedHandoff` per handoff requested since
    `since`."""

    def __init__(self, since: float) -> None:
        self.since = since
        self.by_id: Dict[str, ReportedHandoff] = {}
        self._running: Dict[str, str] = {}  # sender id -> id of its running handoff

    def add(self, stored: StoredEvent) -> None:
        record = record_of(stored.event)
        sender = stored.sender_id
        if record is not None:
            self._record(sender, record)
            return
        handoff = self.by_id.get(self._running.get(sender, ""))
        if handoff is None:
            return
        kind = stored.event.get("event")
        if kind == "user":
            handoff.to_agent += 1
        elif kind == "bot" and (stored.event.get("metadata") or {}).get(EVENT_ZENDESK_MESSAGE_ID):
            handoff.from_agent += 1

    def _record(self, sender: str, record: state.Handoff) -> None:
        if record.active:
            self._running[sender] = record.id
        elif self._running.get(sender) == record.id:
            del self._running[sender]
        if record.requested_at < self.since:
            return
        known = self.by_id.get(record.id)
        if known is None:
            self.by_id[record.id] = ReportedHandoff(record)
        else:
            known.record = record

    def total(self) -> Group:
        return Group(sorted(self.by_id.values(), key=lambda h: h.record.requested_at))

    def days(self) -> Dict[date, Group]:
        days: Dict[date, Group] = defaultdict(Group)
        for handoff in self.total().handoffs:
            days[handoff.day].handoffs.append(handoff)
        return dict(sorted(days.items()))
