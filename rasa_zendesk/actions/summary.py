"""What the agent reads first: a deterministic summary and the transcript of the conversation.

Built in the action server from rasa-sdk tracker data: `Tracker.events` (event dicts) and
`Tracker.slots`. No model, no network: the same conversation always gives the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from rasa_zendesk import escalation
from rasa_zendesk.constants import (
    EVENT_HANDED_OUT,
    EVENT_PENDING,
    EVENT_ZENDESK_AGENT_NAME,
    INTENT_HUMAN_HANDOFF,
    INTENT_NLU_FALLBACK,
    SLOT_HANDOFF,
    SLOT_HANDOFF_REASON,
    USER_ATTACHMENTS_KEY,
)
from rasa_zendesk.escalation import EscalationReason
from rasa_zendesk.handoff.state import Handoff

ROLE_USER = "user"
ROLE_BOT = "bot"
HIDDEN_SLOT_PREFIX = "zendesk_"
HIDDEN_SLOTS = frozenset({"requested_slot", "session_started_metadata"})
LAST_WORDS = 3
MAX_QUOTE = 500  # characters of one quoted user message in the summary
EventDict = Mapping[str, Any]


@dataclass(frozen=True)
class Attachment:
    """An image or file in a turn, by URL."""

    type: str
    url: str
    name: Optional[str] = None


@dataclass(frozen=True)
class Turn:
    """One message of the transcript: who said it, what, when (epoch seconds), with what files.

    Bot turns that a Zendesk agent wrote during an earlier handoff carry `agent_name`.
    """

    role: str
    text: str
    timestamp: Optional[float] = None
    attachments: Tuple[Attachment, ...] = ()
    buttons: Tuple[str, ...] = ()
    agent_name: Optional[str] = None

    @property
    def display_text(self) -> str:
        """The text followed by one line per attachment and the buttons offered, if any."""
        lines = [self.text] if self.text else []
        lines += [_describe_attachment(item) for item in self.attachments]
        if self.buttons:
            lines.append("[buttons: " + " | ".join(self.buttons) + "]")
        return "\n".join(lines)


@dataclass(frozen=True)
class Request:
    """An intent the user expressed, how often, and the entity values given with it."""

    intent: str
    count: int
    entities: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Briefing:
    """Everything the escalation action posts: the summary `text` and the `transcript`."""

    reason: EscalationReason
    requests: Tuple[Request, ...]
    slots: Tuple[Tuple[str, str], ...]
    last_user_messages: Tuple[str, ...]
    transcript: Tuple[Turn, ...]
    text: str = field(default="")


def summarize(
    source: Union[Any, Sequence[EventDict]], slots: Optional[Mapping[str, Any]] = None
) -> Briefing:
    """The briefing for a rasa-sdk `Tracker`, or for its `events` list and `slots` dict."""
    if hasattr(source, "events"):
        events: Sequence[EventDict] = list(source.events or [])
        slots = source.slots if slots is None else slots
    else:
        events = list(source)
    slots = dict(slots or {})
    user_events = _user_events_outside_handoffs(events)
    transcript = tuple(build_transcript(events))
    briefing = Briefing(
        reason=handoff_reason(slots.get(SLOT_HANDOFF_REASON), user_events),
        requests=tuple(user_requests(user_events)),
        slots=tuple(filled_slots(slots)),
        last_user_messages=tuple(last_user_messages(transcript)),
        transcript=transcript,
    )
    return replace(briefing, text=render_summary(briefing))


def handoff_reason(slot_value: Any, user_events: Sequence[EventDict] = ()) -> EscalationReason:
    """The reason HandoffPolicy recorded in the slot; failing that, what the last intent says."""
    recorded = EscalationReason.from_slot(slot_value)
    if recorded is not None:
        return recorded
    if user_events and _intent_name(user_events[-1]) == INTENT_HUMAN_HANDOFF:
        return EscalationReason(escalation.EXPLICIT_REQUEST, "the user asked for a human agent")
    return EscalationReason(escalation.UNKNOWN, "no reason recorded")


def user_requests(user_events: Iterable[EventDict]) -> List[Request]:
    """Intents in order of first appearance, counted, with their distinct entity values."""
    order: List[str] = []
    counts: Dict[str, int] = {}
    entities: Dict[str, List[Tuple[str, str]]] = {}
    for event in user_events:
        intent = _intent_name(event)
        if not intent:
            continue
        if intent not in counts:
            order.append(intent)
            counts[intent] = 0
            entities[intent] = []
        counts[intent] += 1
        for entity in (event.get("parse_data") or {}).get("entities") or []:
            name, value = entity.get("entity"), entity.get("value")
            if name is None or value is None:
                continue
            pair = (str(name), _format_value(value))
            if pair not in entities[intent]:
                entities[intent].append(pair)
    return [Request(intent, counts[intent], tuple(entities[intent])) for intent in order]


def filled_slots(slots: Mapping[str, Any]) -> List[Tuple[str, str]]:
    """The bot's own slots that hold a value (not the plugin's, not Rasa's internal ones)."""
    filled = []
    for name, value in slots.items():
        if name.startswith(HIDDEN_SLOT_PREFIX) or name in HIDDEN_SLOTS:
            continue
        if value is None or value == "" or value == [] or value == {}:
            continue
        filled.append((name, _format_value(value)))
    return filled


def last_user_messages(transcript: Sequence[Turn], count: int = LAST_WORDS) -> List[str]:
    """The user's own last words: the texts of their last `count` messages, oldest first."""
    texts = [turn.display_text for turn in transcript if turn.role == ROLE_USER]
    return [text for text in texts if text.strip()][-count:]


def build_transcript(events: Iterable[EventDict]) -> List[Turn]:
    """Every user and bot message, in order, with timestamps and attachments.

    Intent payloads (`/greet` sent by a web chat on open, a button's `/intent{...}`) are not
    the user's words; what they asked for is in the intents of the summary.
    """
    turns: List[Turn] = []
    pending_seen = set()
    for event in events:
        kind = event.get("event")
        if kind == "user":
            if not _is_intent_payload(event.get("text")):
                turns.append(_user_turn(event))
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            if metadata.get(EVENT_HANDED_OUT):
                continue  # a copy handed out later to a user who could not get the original
            if metadata.get(EVENT_PENDING) in pending_seen:
                continue  # a copy carried into a new session, still to be handed out
            if metadata.get(EVENT_PENDING):
                pending_seen.add(metadata[EVENT_PENDING])
            turn = _bot_turn(event)
            if turn.text or turn.attachments or turn.buttons:
                turns.append(turn)
    return turns


def render_summary(briefing: Briefing) -> str:
    """The summary message, in plain text that reads well in Agent Workspace."""
    lines = ["Conversation handed over by the bot", f"Why: {briefing.reason.text}"]
    if briefing.requests:
        lines.append(
            "What the user wanted: " + "; ".join(map(_describe_request, briefing.requests))
        )
    if briefing.slots:
        lines.append("Known details: " + "; ".join(f"{k}: {v}" for k, v in briefing.slots))
    if briefing.last_user_messages:
        lines.append("The user's last words:")
        lines += [f'- "{_shorten(text, MAX_QUOTE)}"' for text in briefing.last_user_messages]
    users = sum(1 for turn in briefing.transcript if turn.role == ROLE_USER)
    bots = len(briefing.transcript) - users
    started = next((t.timestamp for t in briefing.transcript if t.timestamp is not None), None)
    since = f", since {format_timestamp(started)}" if started is not None else ""
    lines.append(f"Transcript: {users} user and {bots} bot messages{since}, below.")
    return "\n".join(lines)


def transcript_blocks(
    turns: Iterable[Turn], bot_name: str = "Bot", user_name: str = "User"
) -> List[str]:
    """The transcript as text, one block per turn: `[time] Speaker: text`."""
    blocks = []
    for turn in turns:
        if turn.role == ROLE_USER:
            speaker = user_name
        elif turn.agent_name:
            speaker = f"Agent {turn.agent_name}"
        else:
            speaker = bot_name
        stamp = f"[{format_timestamp(turn.timestamp)}] " if turn.timestamp is not None else ""
        blocks.append(f"{stamp}{speaker}: {turn.display_text}")
    return blocks


def format_timestamp(timestamp: float) -> str:
    """UTC, to the second: the agent may sit in another time zone than the server."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _user_events_outside_handoffs(events: Iterable[EventDict]) -> List[EventDict]:
    """User messages the bot handled: not those relayed to an agent during a handoff."""
    active = False
    handled = []
    for event in events:
        kind = event.get("event")
        if kind == "slot" and event.get("name") == SLOT_HANDOFF:
            handoff = Handoff.from_slot(event.get("value"))
            active = handoff is not None and handoff.active
        elif kind == "restart":  # resets every slot (a new session may carry them over)
            active = False
        elif kind == "user" and not active:
            handled.append(event)
    return handled


# `/greet` or `/inform{"order": "1"}`: a button's or a web chat's init payload, not typed words.
_INTENT_PAYLOAD = re.compile(r"^/[\w.-]+(\{.*\})?(@[\d.]+)?$", re.DOTALL)


def _is_intent_payload(text: Any) -> bool:
    return isinstance(text, str) and bool(_INTENT_PAYLOAD.match(text.strip()))


def _intent_name(event: EventDict) -> Optional[str]:
    intent = (event.get("parse_data") or {}).get("intent") or {}
    return intent.get("name") if isinstance(intent, Mapping) else None


def _user_turn(event: EventDict) -> Turn:
    metadata = event.get("metadata") or {}
    raw = metadata.get(USER_ATTACHMENTS_KEY) if isinstance(metadata, Mapping) else None
    attachments = [_attachment(item) for item in raw] if isinstance(raw, list) else []
    return Turn(
        role=ROLE_USER,
        text=(event.get("text") or "").strip(),
        timestamp=_timestamp(event),
        attachments=tuple(item for item in attachments if item is not None),
    )


def _bot_turn(event: EventDict) -> Turn:
    data = event.get("data") or {}
    metadata = event.get("metadata") or {}
    attachments: List[Optional[Attachment]] = []
    if data.get("image"):
        attachments.append(_attachment({"type": "image", "url": data["image"]}))
    if data.get("attachment"):
        attachments.append(_attachment(data["attachment"]))
    buttons = tuple(
        str(button.get("title") or button.get("payload"))
        for button in data.get("buttons") or []
        if isinstance(button, Mapping) and (button.get("title") or button.get("payload"))
    )
    agent = metadata.get(EVENT_ZENDESK_AGENT_NAME) if isinstance(metadata, Mapping) else None
    return Turn(
        role=ROLE_BOT,
        text=(event.get("text") or "").strip(),
        timestamp=_timestamp(event),
        attachments=tuple(item for item in attachments if item is not None),
        buttons=buttons,
        agent_name=str(agent) if agent else None,
    )


def _attachment(raw: Any) -> Optional[Attachment]:
    """An attachment from a URL string or a dict with `url` (or `mediaUrl`), `type`, `name`."""
    if isinstance(raw, str) and raw.strip():
        return Attachment(type="file", url=raw.strip())
    if not isinstance(raw, Mapping):
        return None
    url = raw.get("url") or raw.get("mediaUrl")
    payload = raw.get("payload")
    if not url and isinstance(payload, Mapping):  # {"type": "image", "payload": {"src": ...}}
        url = payload.get("src") or payload.get("url")
    if not isinstance(url, str) or not url.strip():
        return None
    name = raw.get("name") or raw.get("altText") or raw.get("title")
    return Attachment(
        type=str(raw.get("type") or "file"), url=url.strip(), name=str(name) if name else None
    )


def _describe_attachment(attachment: Attachment) -> str:
    name = f" {attachment.name}" if attachment.name else ""
    return f"[{attachment.type}{name}: {attachment.url}]"


def _describe_request(request: Request) -> str:
    label = "not understood" if request.intent == INTENT_NLU_FALLBACK else request.intent
    if request.count > 1:
        label += f" (x{request.count})"
    if request.entities:
        label += " [" + ", ".join(f"{name}={value}" for name, value in request.entities) + "]"
    return label


def _timestamp(event: EventDict) -> Optional[float]:
    value = event.get("timestamp")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _format_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_format_value(item) for item in value)
    return str(value)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
