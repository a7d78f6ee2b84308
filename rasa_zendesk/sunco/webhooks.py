"""The SunCo v2 webhook envelope and its events, as typed models.

SunCo posts `{app, webhook, events: [...]}`; one post can carry several events, of several
conversations. Every event type parses: the ones the plugin acts on get typed payloads, any
other (or a future one) becomes an `Event` with its payload kept as a dict. Unknown fields are
kept everywhere (see `SunCoModel`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Type, Union

from pydantic import ValidationError

from rasa_zendesk.sunco.models import (
    Author,
    Conversation,
    Message,
    Source,
    SunCoModel,
    User,
)


class AppRef(SunCoModel):
    id: str


class WebhookRef(SunCoModel):
    id: Optional[str] = None
    version: Optional[str] = None


class Event(SunCoModel):
    """Any webhook event; subclasses type the payload of the events the plugin acts on."""

    id: str
    type: str
    created_at: Optional[datetime] = None
    payload: Any = None

    @property
    def conversation(self) -> Optional[Conversation]:
        payload = self.payload
        conversation = getattr(payload, "conversation", None)
        if conversation is None and isinstance(payload, dict):
            raw = payload.get("conversation")
            if isinstance(raw, dict) and raw.get("id"):
                return Conversation.parse_obj(raw)
        return conversation


class MessagePayload(SunCoModel):
    conversation: Conversation
    message: Message
    recent_notifications: Optional[List[Any]] = None


class Activity(SunCoModel):
    type: str
    author: Author
    source: Optional[Source] = None


class ActivityPayload(SunCoModel):
    conversation: Conversation
    activity: Activity


class SwitchboardPayload(SunCoModel):
    conversation: Conversation
    metadata: Optional[Dict[str, Any]] = None
    reason: Optional[str] = None
    error: Optional[Dict[str, Any]] = None


class ConversationPayload(SunCoModel):
    conversation: Conversation
    user: Optional[User] = None


class UserPayload(SunCoModel):
    user: User


class MessageEvent(Event):
    payload: MessagePayload


class ActivityEvent(Event):
    """`conversation:typing` and `conversation:read`."""

    payload: ActivityPayload


class SwitchboardEvent(Event):
    """`switchboard:*` events: control passed, offered, accepted, released (or failed to be)."""

    payload: SwitchboardPayload


class ConversationEvent(Event):
    """Events about a conversation that the plugin only logs (create, join, delivery, ...)."""

    payload: ConversationPayload


class UserEvent(Event):
    payload: UserPayload


# Exact event types the spec names. Anything else (a future type included) stays a plain Event.
_MODELS: dict[str, Type[Event]] = {
    "conversation:message": MessageEvent,
    "conversation:typing": ActivityEvent,
    "conversation:read": ActivityEvent,
    **{
        f"switchboard:{action}Control{failure}": SwitchboardEvent
        for action in ("pass", "offer", "accept", "release")
        for failure in ("", ":failure")
    },
    **{
        f"conversation:{name}": ConversationEvent
        for name in (
            "create",
            "join",
            "leave",
            "remove",
            "postback",
            "referral",
            "message:delivery:channel",
            "message:delivery:user",
            "message:delivery:failure",
        )
    },
    "user:update": UserEvent,
    "user:remove": UserEvent,
}


class MalformedEvent(ValueError):
    """A known event type whose payload does not have what that type must carry."""

    def __init__(self, event_id: Optional[str], event_type: str, error: ValidationError) -> None:
        fields = sorted({".".join(str(part) for part in e["loc"]) for e in error.errors()})
        super().__init__(f"event {event_id} ({event_type}) is malformed: bad {', '.join(fields)}")
        self.event_id = event_id
        self.event_type = event_type


def parse_event(raw: Dict[str, Any]) -> Event:
    """Parse one event; unknown types become a plain `Event`.

    Raises `MalformedEvent` when a known type lacks its required payload, and pydantic's
    `ValidationError` when the event has no id or type at all.
    """
    event_type = raw.get("type") if isinstance(raw, dict) else None
    model = _model_for(event_type) if isinstance(event_type, str) else Event
    if model is Event:
        return Event.parse_obj(raw)
    try:
        return model.parse_obj(raw)  # parsed once: the type's model checks the id and type too
    except ValidationError as error:
        base = Event.parse_obj(raw)  # no id: pydantic's error, as for an unknown type
        raise MalformedEvent(base.id, base.type, error) from None


def _model_for(event_type: str) -> Type[Event]:
    return _MODELS.get(event_type, Event)


class WebhookEnvelope(SunCoModel):
    app: Optional[AppRef] = None
    webhook: Optional[WebhookRef] = None
    events: List[Dict[str, Any]]

    def parse_events(self) -> list[Union[Event, MalformedEvent]]:
        """Each event parsed, or the error that says why it could not be; order is kept."""
        parsed: list[Union[Event, MalformedEvent]] = []
        for raw in self.events:
            try:
                parsed.append(parse_event(raw))
            except MalformedEvent as error:
                parsed.append(error)
            except ValidationError as error:
                parsed.append(MalformedEvent(raw.get("id"), str(raw.get("type")), error))
        return parsed
