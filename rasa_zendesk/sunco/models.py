"""Wire models of SunCo v2 objects (pydantic 1.10, which Rasa 3.6 pins).

Field names are snake_case in Python and camelCase on the wire. Unknown fields are kept, never
rejected: SunCo adds fields over time, and Zendesk sends some the spec omits (the author's
`displayName` and `avatarUrl` in webhooks).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

from pydantic import BaseModel, Extra


def _to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class SunCoModel(BaseModel):
    class Config:
        extra = Extra.allow
        alias_generator = _to_camel
        allow_population_by_field_name = True

    def to_wire(self) -> Dict[str, Any]:
        """The JSON body SunCo expects: camelCase, without unset fields."""
        return self.dict(by_alias=True, exclude_none=True)


class Profile(SunCoModel):
    given_name: Optional[str] = None
    surname: Optional[str] = None
    email: Optional[str] = None
    avatar_url: Optional[str] = None
    locale: Optional[str] = None


class User(SunCoModel):
    id: Optional[str] = None
    external_id: Optional[str] = None
    zendesk_id: Optional[str] = None
    authenticated: Optional[bool] = None
    profile: Optional[Profile] = None
    metadata: Optional[Dict[str, Any]] = None


class SwitchboardIntegrationRef(SunCoModel):
    id: Optional[str] = None
    name: Optional[str] = None
    integration_id: Optional[str] = None
    integration_type: Optional[str] = None


class Conversation(SunCoModel):
    id: str
    type: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None
    active_switchboard_integration: Optional[SwitchboardIntegrationRef] = None
    pending_switchboard_integration: Optional[SwitchboardIntegrationRef] = None


class Author(SunCoModel):
    type: str
    user_id: Optional[str] = None
    user_external_id: Optional[str] = None
    display_name: Optional[str] = None
    avatar_url: Optional[str] = None
    subtypes: Optional[List[str]] = None
    user: Optional[User] = None

    @classmethod
    def end_user(cls, external_id: str) -> Author:
        return cls(type="user", user_external_id=external_id)

    @classmethod
    def business(cls, display_name: Optional[str] = None) -> Author:
        return cls(type="business", display_name=display_name)


class Content(SunCoModel):
    """Message content; only the fields of the types the plugin sends or relays are named."""

    type: str
    text: Optional[str] = None
    media_url: Optional[str] = None
    media_type: Optional[str] = None
    media_size: Optional[int] = None
    alt_text: Optional[str] = None

    @classmethod
    def of_text(cls, text: str) -> Content:
        return cls(type="text", text=text)

    @classmethod
    def of_media(cls, kind: str, media_url: str, alt_text: Optional[str] = None) -> Content:
        """An `image` or `file` message pointing at a URL."""
        return cls(type=kind, media_url=media_url, alt_text=alt_text)


class Source(SunCoModel):
    type: Optional[str] = None
    integration_id: Optional[str] = None
    original_message_id: Optional[str] = None


class Message(SunCoModel):
    id: str
    received: Optional[datetime] = None
    author: Author
    content: Content
    source: Optional[Source] = None
    metadata: Optional[Dict[str, Any]] = None


class MessagePage(SunCoModel):
    messages: List[Message]
    has_more: bool = False
    before_cursor: Optional[str] = None
    after_cursor: Optional[str] = None


class Attachment(SunCoModel):
    media_url: str
    media_type: Optional[str] = None
