"""The Zendesk Support ticket behind each handoff, and its `ticket.status_changed` event.

When control passes to Agent Workspace, Zendesk opens a ticket (status `new`) from the
passControl metadata's `dataCapture.systemField.*` (subject, tags, requester), else from the
SunCo user. It is a separate record with its own life: the first agent message opens it, the
agent may set it pending, on hold or solved while the messaging session stays with the agent,
and only `closed` gives the conversation back. Each account numbers its tickets from 1001, so
two accounts (two apps of the emulator) can both have a ticket 1001, as in real Zendesk.
"""

import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .errors import ApiError
from .ids import new_uuid, now_iso_seconds

#: A requester's reply sets these back to open (a solved ticket is reopened until closed).
REOPENED_BY_REQUESTER = ("pending", "solved")
PRIORITIES = ("low", "normal", "high", "urgent")
VIA_CHANNEL = "native_messaging"
FIRST_TICKET_ID = 1001
FIRST_REQUESTER_ID = 500001
#: The console's agent, as a Zendesk user id.
AGENT_USER_ID = 900001
EVENT_TYPE = "zen:event-type:ticket.status_changed"
EVENT_VERSION = "2022-11-06"
SYSTEM_FIELD = "dataCapture.systemField."
_TAG_SEPARATORS = re.compile(r"[,\s]+")


def parse_tags(value: Any) -> List[str]:
    """A `tags` system field (one comma-separated string) as Zendesk stores it: lower case,
    split at commas and spaces (a tag has none), each once, in order."""
    if value is None:
        return []
    tags: List[str] = []
    for part in _TAG_SEPARATORS.split(str(value).lower()):
        if part and part not in tags:
            tags.append(part)
    return tags


def _system_field(metadata: Optional[Dict[str, Any]], name: str) -> Optional[str]:
    value = (metadata or {}).get(SYSTEM_FIELD + name)
    if value is None or value == "":
        return None
    return str(value)


@dataclass
class Requester:
    id: int
    name: str
    email: Optional[str]

    def to_view(self) -> Dict[str, Any]:
        return {"id": self.id, "name": self.name, "email": self.email}


@dataclass
class Ticket:
    id: int
    conversation_id: str
    subject: str
    tags: List[str]
    requester: Requester
    description: Optional[str] = None
    priority: Optional[str] = None
    status: str = "new"
    assignee_id: Optional[int] = None
    created_at: str = field(default_factory=now_iso_seconds)
    updated_at: str = ""

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at

    def ensure_changeable(self) -> None:
        """409 once closed: Zendesk archives a closed ticket, nothing changes it any more."""
        if self.status == "closed":
            raise ApiError(409, "conflict", f"Ticket {self.id} is closed and cannot be changed")

    def set_status(self, status: str) -> str:
        """Change the status; returns the previous one."""
        previous, self.status = self.status, status
        self.updated_at = now_iso_seconds()
        return previous

    def to_view(self) -> Dict[str, Any]:
        """As the control API shows it."""
        return {
            "id": self.id,
            "status": self.status,
            "subject": self.subject,
            "tags": list(self.tags),
            "requester": self.requester.to_view(),
            "description": self.description,
            "priority": self.priority,
            "assigneeId": self.assignee_id,
            "conversationId": self.conversation_id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "via": {"channel": VIA_CHANNEL},
        }

    def to_event_detail(self, actor_id: int) -> Dict[str, Any]:
        """The ticket as event webhooks show it: ids as strings, enums in upper case."""
        return {
            "actor_id": str(actor_id),
            "assignee_id": str(self.assignee_id) if self.assignee_id is not None else None,
            "created_at": self.created_at,
            "description": self.description,
            "external_id": None,
            "id": str(self.id),
            "is_public": True,
            "organization_id": None,
            "priority": self.priority.upper() if self.priority else None,
            "requester_id": str(self.requester.id),
            "status": self.status.upper(),
            "subject": self.subject,
            "submitter_id": str(self.requester.id),
            "tags": list(self.tags),
            "type": None,
            "updated_at": self.updated_at,
            "via": {"channel": VIA_CHANNEL},
        }


def status_changed_event(
    account_id: int, ticket: Ticket, previous: str, actor_id: int
) -> Dict[str, Any]:
    """The `zen:event-type:ticket.status_changed` event (the whole webhook body)."""
    return {
        "account_id": account_id,
        "id": new_uuid(),
        "time": now_iso_seconds(),
        "type": EVENT_TYPE,
        "subject": f"zen:ticket:{ticket.id}",
        "zendesk_event_version": EVENT_VERSION,
        "event": {"previous": previous.upper(), "current": ticket.status.upper()},
        "detail": ticket.to_event_detail(actor_id),
    }


class TicketBook:
    """One account's tickets and end users. Ids keep counting after a reset, as Zendesk's
    never come back."""

    def __init__(self) -> None:
        self.tickets: Dict[int, Ticket] = {}
        self._ticket_ids = itertools.count(FIRST_TICKET_ID)
        self._requester_ids = itertools.count(FIRST_REQUESTER_ID)
        self._requesters: Dict[str, int] = {}  # email, else SunCo user id -> Zendesk user id

    def reset(self) -> None:
        self.tickets.clear()

    def _requester(self, name: str, email: Optional[str], user_key: str) -> Requester:
        key = email.lower() if email else user_key
        if key not in self._requesters:
            self._requesters[key] = next(self._requester_ids)
        return Requester(id=self._requesters[key], name=name, email=email)

    def open(
        self,
        conversation_id: str,
        metadata: Optional[Dict[str, Any]],
        user_id: Optional[str],
        user_name: Optional[str],
        user_email: Optional[str],
    ) -> Ticket:
        """A new ticket for a handoff: system fields of the passControl metadata first, then
        the SunCo user's profile (an unnamed user is a "Web User", as Zendesk calls them)."""
        name = (
            _system_field(metadata, "requester.name")
            or user_name
            or f"Web User {user_id or conversation_id}"
        )
        email = _system_field(metadata, "requester.email") or user_email
        priority = (_system_field(metadata, "priority") or "").lower()
        ticket = Ticket(
            id=next(self._ticket_ids),
            conversation_id=conversation_id,
            subject=_system_field(metadata, "subject") or f"Conversation with {name}",
            tags=parse_tags((metadata or {}).get(SYSTEM_FIELD + "tags")),
            requester=self._requester(name, email, user_id or conversation_id),
            description=_system_field(metadata, "description"),
            priority=priority if priority in PRIORITIES else None,
        )
        self.tickets[ticket.id] = ticket
        return ticket
