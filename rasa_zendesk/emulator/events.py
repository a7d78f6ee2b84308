"""Webhook events and the v2 envelope, shaped as the spec's `x-webhooks` examples."""

from typing import Any, Dict, List, Optional

from .ids import new_id, now_iso
from .store import Conversation, Message, User


def envelope(app_id: str, webhook_id: str, events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The body of one webhook POST."""
    return {"app": {"id": app_id}, "webhook": {"id": webhook_id, "version": "v2"}, "events": events}


def event(event_type: str, payload: Dict[str, Any]) -> Dict[str, Any]:
    return {"id": new_id(), "createdAt": now_iso(), "type": event_type, "payload": payload}


def conversation_create(
    conversation: Conversation, user: Optional[User], source_type: str
) -> Dict[str, Any]:
    payload: Dict[str, Any] = {
        "conversation": conversation.truncated(),
        "creationReason": "none",  # what SunCo sends for Create Conversation API calls
        "source": {"type": source_type},
    }
    if user is not None:
        payload["user"] = user.to_webhook()
    return event("conversation:create", payload)


def conversation_message(
    conversation: Conversation, message: Message, user: Optional[User]
) -> Dict[str, Any]:
    payload = {"conversation": conversation.truncated(), "message": message.to_webhook(user)}
    return event("conversation:message", payload)


def activity(
    event_type: str,
    conversation: Conversation,
    activity_type: str,
    author: Dict[str, Any],
    source_type: str,
) -> Dict[str, Any]:
    """`conversation:typing` or `conversation:read`."""
    payload = {
        "conversation": conversation.truncated(),
        "activity": {"type": activity_type, "author": author, "source": {"type": source_type}},
    }
    return event(event_type, payload)


def switchboard(
    event_type: str,
    conversation: Conversation,
    metadata: Optional[Dict[str, Any]] = None,
    reason: Optional[str] = None,
) -> Dict[str, Any]:
    """`switchboard:passControl|offerControl|acceptControl|releaseControl`, after the change."""
    payload: Dict[str, Any] = {"conversation": conversation.truncated()}
    if metadata is not None:
        payload["metadata"] = dict(metadata)
    if reason is not None:
        payload["reason"] = reason
    return event(event_type, payload)
