"""What the user is offered when no agent can answer now: leave a message, or go on with the
bot. One record in the slot `zendesk_offer`, read like the handoff's (the newest written).

`offered` (the bot said when agents are back and asked), then `asking_email` (the user chose
to leave a message and the bot needs an address; asked again after a wrong one, at most
`MAX_EMAIL_ASKS` times in all). The offer closes (the slot is emptied) once the message is
left, the user goes back to the bot, or the user says something else (the bot answers it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional, Sequence

from rasa_zendesk import clock
from rasa_zendesk.constants import SLOT_OFFER as SLOT
from rasa_zendesk.handoff.event_folds import folded
from rasa_zendesk.handoff.events import SlotRecord, newest_slot_record

OFFERED = "offered"
ASKING_EMAIL = "asking_email"
#: The first question and two more after a wrong address.
MAX_EMAIL_ASKS = 3


@dataclass(frozen=True)
class Offer(SlotRecord):
    #: Why no agent can answer: `outside_hours`, `holiday`, `agents_offline` (see `hours.gate`).
    reason: str
    offered_at: float
    #: When agents are back (epoch seconds), when known.
    next_opening: Optional[float] = None
    connector: Optional[str] = None
    state: str = OFFERED
    email_asks: int = 0

    @classmethod
    def from_slot(cls, value: Any) -> Optional[Offer]:
        offer = cls.read_slot(value)
        if offer is None or offer.state not in (OFFERED, ASKING_EMAIL) or not offer.reason:
            return None
        return offer


def current(events: Sequence[Any]) -> Optional[Offer]:
    """The open offer, if any."""
    return folded(events, _CURRENT)


_CURRENT = newest_slot_record(SLOT, Offer.from_slot)


def offered(
    reason: str, next_opening: Optional[float], connector: Optional[str], at: Optional[float] = None
) -> Offer:
    return Offer(reason, clock.now() if at is None else at, next_opening, connector)


def asking_email(offer: Offer) -> Offer:
    """The bot asks (again) for the address the agents can answer."""
    return replace(offer, state=ASKING_EMAIL, email_asks=offer.email_asks + 1)


def may_ask_again(offer: Offer) -> bool:
    return offer.email_asks < MAX_EMAIL_ASKS
