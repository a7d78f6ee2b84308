"""Zendesk's ticket events (Admin Center → Webhooks → "Zendesk events"), as typed models.

Only `zen:event-type:ticket.status_changed` is acted on: it says at once that an agent solved
a ticket, while Agent Workspace gives the conversation back only when the ticket *closes*,
by default days later. Any other event type parses as a plain `TicketEvent` and is ignored.
Unknown fields are kept everywhere, as Zendesk adds fields without notice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

from pydantic import BaseModel, Extra, ValidationError, validator

STATUS_CHANGED = "zen:event-type:ticket.status_changed"
#: The statuses after which no agent will answer in this messaging session.
ENDING_STATUSES = frozenset({"SOLVED", "CLOSED"})


class _Model(BaseModel):
    class Config:
        extra = Extra.allow


class TicketDetail(_Model):
    """The ticket as it is after the event (Zendesk sends its id as a string)."""

    id: str
    status: Optional[str] = None
    tags: List[str] = []

    @validator("id", pre=True)
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class StatusChange(_Model):
    previous: Optional[str] = None
    current: str

    @validator("current", "previous")
    def _upper(cls, value: Optional[str]) -> Optional[str]:
        return value.upper() if isinstance(value, str) else value


class TicketEvent(_Model):
    """Any Zendesk event; `status_change()` types the one the plugin acts on."""

    id: str
    type: str
    time: Optional[datetime] = None
    subject: Optional[str] = None
    detail: Optional[Dict[str, Any]] = None
    event: Optional[Dict[str, Any]] = None


class StatusChanged(_Model):
    """A ticket's status changed: which ticket (with its tags) and from what to what."""

    id: str
    time: Optional[datetime] = None
    detail: TicketDetail
    event: StatusChange

    @property
    def ends_session(self) -> bool:
        return self.event.current in ENDING_STATUSES


class MalformedTicketEvent(ValueError):
    """A status change without what it must carry (the message names the fields)."""


def status_change(event: TicketEvent) -> Optional[StatusChanged]:
    """The typed status change, None for other event types; `MalformedTicketEvent` if bad."""
    if event.type != STATUS_CHANGED:
        return None
    try:
        return StatusChanged.parse_obj(event.dict())
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in e["loc"]) for e in error.errors()})
        raise MalformedTicketEvent(
            f"event {event.id} ({event.type}) is malformed: bad {', '.join(fields)}"
        ) from None
