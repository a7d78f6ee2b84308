"""Messages a user's channel could not push, handed out with the answer to their next message.

Rasa's REST channel (and any custom channel without `get_output_channel()`) only answers
requests: an agent message or an end notice that arrives between two of the user's requests
has nowhere to go. The channel records it all the same (its one write path), marked with an id
of its own (`zendesk_pending`). What waits when a new session starts (the
fresh session after a handoff ends) is recorded again right after its start
(`carried_over`), since Rasa reads a conversation from its latest session start on. At the user's
next message, or a front end's poll
(`/zendesk_poll`), `HandoffPolicy` first predicts `action_zendesk_hand_out`: it utters every
message not yet handed out again, as it was (text, buttons, image, attachment, custom), each
copy naming the id it hands out (`zendesk_handed_out`), and then reverts itself, so the bot's
other policies see the turn as if it had not run. What went out is read from the events as
stored, which no rewind (a fallback, `/back`) removes: each message goes out once, in order.

Works on Rasa events (Rasa server) and event dicts (the action server) alike.
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, Iterable, List, Optional, Sequence

from rasa_zendesk.constants import ACTION_HAND_OUT, EVENT_HANDED_OUT, EVENT_PENDING
from rasa_zendesk.handoff.events import field, kind

#: What a front end sends to fetch what is pending without saying anything (`zendesk_poll`).
POLL_COMMAND = "/zendesk_poll"
#: The parts of a bot message that are handed out as they were.
_PARTS = ("buttons", "image", "attachment", "elements", "quick_replies")


def mark(messages: Iterable[Any]) -> None:
    """Mark bot messages (Rasa `BotUttered`) that reached nobody as pending, before they are
    recorded; a copy carried over (`carried_over`) keeps its message's mark."""
    for message in messages:
        message.metadata = {EVENT_PENDING: uuid.uuid4().hex, **(message.metadata or {})}


def not_handed_out(events: Sequence[Any]) -> List[Any]:
    """The pending bot messages not handed out yet, oldest first.

    A hand-out hands out everything pending at its time (the conversation's lock keeps
    webhooks out meanwhile), so the scan stops at the latest one that handed something out.
    """
    handed: set = set()
    waiting: Dict[str, Any] = {}
    for event in reversed(events):
        what = kind(event)
        if what == "action" and field(event, "name") == ACTION_HAND_OUT and handed:
            break
        if what != "bot":
            continue
        metadata = _metadata(event)
        if metadata.get(EVENT_HANDED_OUT):
            handed.add(metadata[EVENT_HANDED_OUT])
        elif metadata.get(EVENT_PENDING) and metadata[EVENT_PENDING] not in handed:
            # The newest of its copies: one carried into a new session (`carried_over`).
            waiting.setdefault(metadata[EVENT_PENDING], event)
    return list(reversed(waiting.values()))


def carried_over(events: Sequence[Any]) -> List[Any]:
    """Copies of the pending bot messages (Rasa `BotUttered`) not handed out yet, to record
    right after a new session starts: Rasa reads a conversation from its latest session start
    on, so what waits in an earlier session would never be handed out. Make them after the
    start: a copy is stamped now, and Rasa's SQL store finds a session's events by their time.
    A copy keeps its message's id (`zendesk_pending`): it goes out once."""
    return [
        type(event)(event.text, dict(event.data or {}), dict(event.metadata or {}))
        for event in not_handed_out(events)
    ]


def copy_of(event: Any) -> Dict[str, Any]:
    """The keyword arguments of rasa-sdk's `utter_message` that say `event` again, marked as
    its hand-out."""
    data = field(event, "data") or {}
    message: Dict[str, Any] = {"text": field(event, "text")}
    message.update({part: data[part] for part in _PARTS if data.get(part)})
    if data.get("custom"):
        message["json_message"] = data["custom"]
    message[EVENT_HANDED_OUT] = _metadata(event)[EVENT_PENDING]
    return message


def is_poll(text: Optional[str]) -> bool:
    """Whether a user message is a front end's poll, not words for the bot or the agent."""
    return (text or "").strip() == POLL_COMMAND


def is_poll_event(event: Any) -> bool:
    return kind(event) == "user" and is_poll(field(event, "text"))


def _metadata(event: Any) -> Dict[str, Any]:
    metadata = field(event, "metadata")
    return metadata if isinstance(metadata, dict) else {}
