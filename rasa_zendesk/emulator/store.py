"""In-memory state: users, conversations with their messages and switchboard state, attachments.

Each object knows how SunCo shows it (`to_api` for REST responses, `to_webhook` for events).
"""

import mimetypes
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from .errors import CONVERSATION_NOT_FOUND, USER_NOT_FOUND, ApiError, bad_request
from .ids import new_id, now_iso
from .switchboard import SwitchboardIntegration
from .tickets import Ticket

MESSAGE_LIMIT = 30000  # per conversation, then 423 locked
MESSAGE_PAGE_SIZE = 100  # fixed for List Messages

T = TypeVar("T")


def _without_none(body: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


@dataclass
class User:
    id: str
    external_id: Optional[str]
    profile: Dict[str, Any]
    metadata: Dict[str, Any]
    signed_up_at: str
    to_be_retained: bool = False

    def to_webhook(self) -> Dict[str, Any]:
        """The truncated user of webhook payloads (no includeFullUser)."""
        return _without_none(
            {"id": self.id, "externalId": self.external_id, "authenticated": False}
        )

    def to_api(self) -> Dict[str, Any]:
        return {
            **self.to_webhook(),
            "signedUpAt": self.signed_up_at,
            "toBeRetained": self.to_be_retained,
            "profile": dict(self.profile),
            "metadata": dict(self.metadata),
            "identities": [],
        }


def _readable_content(content: Dict[str, Any]) -> Dict[str, Any]:
    """Content as SunCo returns it: write-only `markdownText` becomes plain text."""
    shown = dict(content)
    markdown = shown.pop("markdownText", None)
    if markdown and not shown.get("text"):
        shown["text"] = markdown
    if shown.get("type") in ("image", "file") and "mediaType" not in shown:
        guessed, _ = mimetypes.guess_type(str(shown.get("mediaUrl", "")).split("?")[0])
        if guessed:
            shown["mediaType"] = guessed
    return shown


@dataclass
class Message:
    id: str
    received: str
    author: Dict[str, Any]  # type, userId?, displayName?, avatarUrl?, subtypes?
    content: Dict[str, Any]
    source: Dict[str, Any]
    metadata: Optional[Dict[str, Any]] = None

    def to_api(self) -> Dict[str, Any]:
        body = {
            "id": self.id,
            "received": self.received,
            "author": dict(self.author),
            "content": _readable_content(self.content),
            "source": dict(self.source),
        }
        if self.metadata is not None:
            body["metadata"] = dict(self.metadata)
        return body

    def to_webhook(self, user: Optional[User]) -> Dict[str, Any]:
        body = self.to_api()
        author = {k: v for k, v in body["author"].items() if k != "subtypes"}
        if user is not None:
            author["user"] = user.to_webhook()
        body["author"] = author
        return body


@dataclass
class Attachment:
    id: str
    filename: str
    media_type: str
    data: bytes


@dataclass
class Handback:
    """How control left Agent Workspace: the switchboard event, its reason and its id."""

    type: str  # switchboard:releaseControl | switchboard:passControl | switchboard:acceptControl
    reason: Optional[str]  # ticketClosed | transferToEmail | None
    event_id: str


@dataclass
class Conversation:
    id: str
    type: str
    participants: List[str]  # user ids
    metadata: Optional[Dict[str, Any]]
    display_name: Optional[str]
    description: Optional[str]
    icon_url: Optional[str]
    created_at: str
    last_updated_at: str
    active: Optional[SwitchboardIntegration]
    pending: Optional[SwitchboardIntegration] = None
    business_last_read: Optional[str] = None
    messages: List[Message] = field(default_factory=list)
    # Agent side, for the console: when Agent Workspace got it, when and how it left.
    handed_off_at: Optional[str] = None
    closed_at: Optional[str] = None
    closed_reason: Optional[str] = None  # solved | released | passed
    handoff_metadata: Optional[Dict[str, Any]] = None
    agent_typing: bool = False
    first_agent_message_at: Optional[str] = None  # of this handoff
    handback: Optional[Handback] = None  # how the last handoff ended
    ticket: Optional[Ticket] = None  # of the latest handoff

    def truncated(self) -> Dict[str, Any]:
        """The conversation of webhook payloads."""
        body: Dict[str, Any] = {"id": self.id, "type": self.type}
        if self.metadata is not None:
            body["metadata"] = dict(self.metadata)
        if self.active is not None:
            body["activeSwitchboardIntegration"] = self.active.to_ref()
        if self.pending is not None:
            body["pendingSwitchboardIntegration"] = self.pending.to_ref()
        return body

    def to_api(self) -> Dict[str, Any]:
        body = self.truncated()
        body.update(
            _without_none(
                {
                    "isDefault": False,
                    "displayName": self.display_name,
                    "description": self.description,
                    "iconUrl": self.icon_url,
                    "businessLastRead": self.business_last_read,
                    "lastUpdatedAt": self.last_updated_at,
                    "createdAt": self.created_at,
                }
            )
        )
        return body

    def find_message(self, message_id: str) -> Optional[int]:
        return next((i for i, m in enumerate(self.messages) if m.id == message_id), None)


def page(
    items: List[T],
    index_of: Callable[[str], Optional[int]],
    before: Optional[str],
    after: Optional[str],
    size: int,
) -> Tuple[List[T], bool, int, int]:
    """SunCo's cursor paging over `items` (oldest first), cursors being record ids.

    Without a cursor: the newest page. Returns the page, whether more records exist in the
    paging direction, and the page's bounds in `items`.
    """
    if before and after:
        raise bad_request("Only one of page[before] or page[after] may be provided, not both")
    if before is not None:
        end = index_of(before)
        if end is None:
            raise bad_request("page[before] is not a known record id")
        start = max(0, end - size)
        return items[start:end], start > 0, start, end
    if after is not None:
        begin = index_of(after)
        if begin is None:
            raise bad_request("page[after] is not a known record id")
        start, end = begin + 1, min(len(items), begin + 1 + size)
        return items[start:end], end < len(items), start, end
    start = max(0, len(items) - size)
    return items[start:], start > 0, start, len(items)


class Store:
    """All the emulator's data, in memory; `reset` empties it."""

    def __init__(self) -> None:
        self.users: Dict[str, User] = {}
        self.conversations: Dict[str, Conversation] = {}
        self.attachments: Dict[str, Attachment] = {}

    def reset(self) -> None:
        self.users.clear()
        self.conversations.clear()
        self.attachments.clear()

    # Users.
    def create_user(
        self,
        external_id: Optional[str],
        profile: Dict[str, Any],
        metadata: Dict[str, Any],
        signed_up_at: Optional[str] = None,
        to_be_retained: bool = False,
    ) -> User:
        if external_id is not None and self.find_user(external_id=external_id):
            raise ApiError(409, "conflict", "User already exists")
        user = User(
            id=new_id(),
            external_id=external_id,
            profile=profile,
            metadata=metadata,
            signed_up_at=signed_up_at or now_iso(),
            to_be_retained=to_be_retained,
        )
        self.users[user.id] = user
        return user

    def find_user(
        self, user_id: Optional[str] = None, external_id: Optional[str] = None
    ) -> Optional[User]:
        if user_id is not None:
            return self.users.get(user_id)
        return next((u for u in self.users.values() if u.external_id == external_id), None)

    def get_user(self, id_or_external_id: str) -> User:
        """By SunCo id first, then by externalId, as the API's path parameter works."""
        user = self.find_user(user_id=id_or_external_id) or self.find_user(
            external_id=id_or_external_id
        )
        if user is None:
            raise ApiError(404, *USER_NOT_FOUND)
        return user

    def require_user(self, user_id: Optional[str], external_id: Optional[str]) -> User:
        user = self.find_user(user_id=user_id, external_id=external_id)
        if user is None:
            raise ApiError(404, *USER_NOT_FOUND)
        return user

    # Conversations.
    def add_conversation(self, conversation: Conversation) -> None:
        self.conversations[conversation.id] = conversation

    def get_conversation(self, conversation_id: str) -> Conversation:
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            raise ApiError(404, *CONVERSATION_NOT_FOUND)
        return conversation

    def conversations_of(self, user: User) -> List[Conversation]:
        return [c for c in self.conversations.values() if user.id in c.participants]

    # Messages.
    def add_message(self, conversation: Conversation, message: Message) -> None:
        if len(conversation.messages) >= MESSAGE_LIMIT:
            raise ApiError(
                423, "locked", f"Message limit of {MESSAGE_LIMIT} per conversation reached."
            )
        conversation.messages.append(message)
        conversation.last_updated_at = message.received

    def message_page(
        self, conversation: Conversation, before: Optional[str], after: Optional[str]
    ) -> Tuple[List[Message], bool, int, int]:
        """One page of messages: the newest page by default, fixed size (as SunCo)."""
        return page(
            conversation.messages, conversation.find_message, before, after, MESSAGE_PAGE_SIZE
        )

    # Attachments.
    def add_attachment(self, filename: str, media_type: str, data: bytes) -> Attachment:
        attachment = Attachment(id=new_id(), filename=filename, media_type=media_type, data=data)
        self.attachments[attachment.id] = attachment
        return attachment
