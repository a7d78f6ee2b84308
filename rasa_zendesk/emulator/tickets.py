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
TICKET_FIELD = "dataCapture.ticketField."
#: The tag `action_zendesk_csat` puts on a rated ticket (`rasa_csat_4`).
CSAT_TAG_PREFIX = "rasa_csat_"
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


def _system_id(metadata: Optional[Dict[str, Any]], name: str) -> Optional[int]:
    value = _system_field(metadata, name)
    return int(value) if value is not None and value.isdigit() else None


def ticket_fields(metadata: Optional[Dict[str, Any]]) -> Dict[int, Any]:
    """The custom ticket fields of passControl metadata (`dataCapture.ticketField.<id>`)."""
    fields: Dict[int, Any] = {}
    for key, value in (metadata or {}).items():
        if key.startswith(TICKET_FIELD) and key[len(TICKET_FIELD) :].isdigit():
            fields[int(key[len(TICKET_FIELD) :])] = value
    return fields


@dataclass
class Requester:
    id: int
    name: str
    email: Optional[str]
    external_id: Optional[str] = None

    def to_view(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "externalId": self.external_id,
        }


@dataclass
class Comment:
    """A ticket comment: a public reply or an internal note (`public: false`)."""

    id: int
    body: str
    public: bool
    author_id: int
    created_at: str = field(default_factory=now_iso_seconds)

    def to_api(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "type": "Comment",
            "body": self.body,
            "public": self.public,
            "author_id": self.author_id,
            "created_at": self.created_at,
        }


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
    group_id: Optional[int] = None
    brand_id: Optional[int] = None
    custom_fields: Dict[int, Any] = field(default_factory=dict)
    comments: List[Comment] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso_seconds)
    updated_at: str = ""

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at

    def ensure_changeable(self) -> None:
        """409 once closed: Zendesk archives a closed ticket, nothing changes it any more."""
        if self.status == "closed":
            raise ApiError(409, "conflict", f"Ticket {self.id} is closed and cannot be changed")

    @property
    def csat(self) -> Optional[int]:
        """The rating a `rasa_csat_<n>` tag gives, if any."""
        for tag in self.tags:
            if tag.startswith(CSAT_TAG_PREFIX) and tag[len(CSAT_TAG_PREFIX) :].isdigit():
                return int(tag[len(CSAT_TAG_PREFIX) :])
        return None

    def touch(self) -> None:
        self.updated_at = now_iso_seconds()

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
            "groupId": self.group_id,
            "brandId": self.brand_id,
            "customFields": {str(k): v for k, v in self.custom_fields.items()},
            "csat": self.csat,
            "notes": [c.body for c in self.comments if not c.public],
            "conversationId": self.conversation_id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "via": {"channel": VIA_CHANNEL},
        }

    def to_api(self, base: str) -> Dict[str, Any]:
        """As the Support API shows it (`GET /api/v2/tickets/{id}.json`)."""
        return {
            "id": self.id,
            "url": f"{base}/api/v2/tickets/{self.id}.json",
            "subject": self.subject,
            "raw_subject": self.subject,
            "description": self.description,
            "status": self.status,
            "priority": self.priority,
            "requester_id": self.requester.id,
            "submitter_id": self.requester.id,
            "assignee_id": self.assignee_id,
            "group_id": self.group_id,
            "brand_id": self.brand_id,
            "tags": list(self.tags),
            "custom_fields": [{"id": k, "value": v} for k, v in self.custom_fields.items()],
            "via": {"channel": VIA_CHANNEL},
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def matches(self, filters: Dict[str, str]) -> bool:
        """Whether the ticket passes the control API's filters (each one must)."""
        values = {
            "status": self.status,
            "group": self.group_id,
            "brand": self.brand_id,
            "externalId": self.requester.external_id,
            "csat": self.csat,
        }
        for name, wanted in filters.items():
            if name == "tag":
                if wanted not in self.tags:
                    return False
            elif name.startswith("field."):
                if str(self.custom_fields.get(int(name[6:]), "")) != wanted:
                    return False
            elif str(values[name]) != wanted:
                return False
        return True

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
        self._comment_ids = itertools.count(1)

    def reset(self) -> None:
        self.tickets.clear()

    def comment(self, ticket: Ticket, body: str, public: bool, author_id: int) -> Comment:
        """Add a comment (a reply, or an internal note) to the ticket."""
        comment = Comment(next(self._comment_ids), body, public, author_id)
        ticket.comments.append(comment)
        return comment

    def find(self, filters: Dict[str, str]) -> List[Ticket]:
        """The tickets that pass the filters, newest first."""
        return [t for t in reversed(list(self.tickets.values())) if t.matches(filters)]

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
        user_external_id: Optional[str] = None,
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
            group_id=_system_id(metadata, "group_id"),
            brand_id=_system_id(metadata, "brand_id"),
            custom_fields=ticket_fields(metadata),
        )
        ticket.requester.external_id = user_external_id
        self.tickets[ticket.id] = ticket
        return ticket
