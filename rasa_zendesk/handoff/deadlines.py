"""When a running handoff's next timer is due, and what it does then.

Pure arithmetic on the record and the time of the last message of either side, so every Rasa
instance computes the same deadline from the same tracker store, and a timer needs no state
of its own: a restart, or another instance, finds the same deadline in the same record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

from rasa.shared.core.events import BotUttered, UserUttered

from rasa_zendesk import clock
from rasa_zendesk.constants import EVENT_ZENDESK_MESSAGE_ID
from rasa_zendesk.handoff import pending, state
from rasa_zendesk.settings import HandoffSettings

#: What a timer does when it is due.
OFFER_CHOICES = "agent_timeout"  # no agent yet: offer to wait, leave a message or leave
END_IDLE = state.IDLE_TIMEOUT
END_MAX_DURATION = state.MAX_DURATION


@dataclass(frozen=True)
class Deadline:
    at: float
    what: str


def next_deadline(
    handoff: state.Handoff, settings: HandoffSettings, last_message_at: Optional[float]
) -> Optional[Deadline]:
    """The earliest timer of a running handoff; None when none applies (or it has ended)."""
    if not handoff.active:
        return None
    candidates: List[Deadline] = []
    if settings.max_duration:
        candidates.append(Deadline(handoff.requested_at + settings.max_duration, END_MAX_DURATION))
    if (
        settings.agent_timeout
        and handoff.state == state.WAITING
        and not handoff.message_left
        and handoff.agent_timeout_offered_at is None
    ):
        since = handoff.waiting_since or handoff.requested_at
        candidates.append(Deadline(since + settings.agent_timeout, OFFER_CHOICES))
    if settings.idle_timeout:
        since = max(last_message_at or 0.0, handoff.requested_at)
        candidates.append(Deadline(since + settings.idle_timeout, END_IDLE))
    return min(candidates, key=lambda deadline: deadline.at, default=None)


def last_message_at(events: Sequence[Any]) -> Optional[float]:
    """When the user or an agent last wrote (Rasa events, newest last), on the handoff's
    clock (Rasa stamps events with the system clock); None if never."""
    for event in reversed(events):
        if isinstance(event, UserUttered) and not pending.is_poll(event.text):
            return clock.at(event.timestamp)
        if isinstance(event, BotUttered) and event.metadata.get(EVENT_ZENDESK_MESSAGE_ID):
            return clock.at(event.timestamp)
    return None
