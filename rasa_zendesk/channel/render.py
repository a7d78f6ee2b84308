"""An agent's SunCo message as a Rasa `BotUttered`, the form every Rasa output channel can send.

Text stays text; an image is an image (Rasa's `image`, which socket.io web chat, Telegram,
Slack, ... show as a picture); a file becomes a markdown link named after the file (rasa-webchat
renders markdown, and elsewhere `[name](url)` still reads); every other content type (carousel,
list, location, form, ...) becomes readable text, so nothing the agent sends is lost. The event's
metadata carries the SunCo ids (the durable dedupe keys), the agent's display name and when
SunCo received the message.
"""

from __future__ import annotations

import posixpath
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import unquote, urlparse

from rasa.shared.core.events import BotUttered

from rasa_zendesk import constants
from rasa_zendesk.sunco.models import Content, Message

Buttons = List[Dict[str, str]]


def bot_uttered_for(message: Message, event_id: str) -> BotUttered:
    """The bot event that delivers and records one agent message."""
    text, data = render(message.content)
    metadata: Dict[str, Any] = {
        constants.EVENT_ZENDESK_MESSAGE_ID: message.id,
        constants.EVENT_ZENDESK_EVENT_ID: event_id,
    }
    if message.author.display_name:
        metadata[constants.EVENT_ZENDESK_AGENT_NAME] = message.author.display_name
    if message.received is not None:
        metadata[constants.EVENT_ZENDESK_RECEIVED] = message.received.timestamp()
    return BotUttered(text=text, data=data, metadata=metadata)


def render(content: Content) -> Tuple[Optional[str], Dict[str, Any]]:
    """Text and `BotUttered` data (`image`, `buttons`) for one SunCo content."""
    raw = content.dict(by_alias=True, exclude_none=True)
    kind = content.type
    data: Dict[str, Any] = {}
    text: Optional[str] = None
    if kind == "text":
        links, buttons = _actions(raw.get("actions"))
        text = _join(content.text or raw.get("markdownText"), *links)
        if buttons:
            data["buttons"] = buttons
    elif kind == "image" and content.media_url:
        return content.text or None, {"image": content.media_url}
    elif kind == "file" and content.media_url:
        text = _join(content.text, f"[{file_name(content)}]({content.media_url})")
    elif kind in ("carousel", "list"):
        text = _join(*(_item(item) for item in _dicts(raw.get("items"))))
    elif kind == "location":
        text = _location(raw)
    elif kind == "form":
        text = _join(content.text, *_form_fields(_dicts(raw.get("fields"))))
    elif kind == "formResponse":
        text = _join(*(_form_answer(field) for field in _dicts(raw.get("fields"))))
    return text or _fallback(content), data


def file_name(content: Content) -> str:
    """What to call an attached file: its alt text, else the last segment of its URL."""
    if content.alt_text:
        return content.alt_text
    path = urlparse(content.media_url or "").path
    return unquote(posixpath.basename(path)) or "file"


def _fallback(content: Content) -> str:
    readable = content.text or content.alt_text or content.media_url
    return readable or f"(The agent sent a {content.type} message that this chat cannot show.)"


def _join(*parts: Any) -> Optional[str]:
    """Non-empty text parts as paragraphs (anything that is not text is skipped)."""
    texts = [part.strip() for part in parts if isinstance(part, str) and part.strip()]
    return "\n\n".join(texts) or None


def _dicts(value: Any) -> List[Dict[str, Any]]:
    """The objects of a list field; anything else in it (or a non-list) is skipped."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _actions(actions: Any) -> Tuple[List[str], Buttons]:
    """Links as markdown lines; replies and postbacks as buttons that send their label."""
    links: List[str] = []
    buttons: Buttons = []
    for action in _dicts(actions):
        label = str(action.get("text") or "").strip()
        if not label:
            continue
        uri = action.get("uri")
        if isinstance(uri, str) and uri:
            links.append(f"[{label}]({uri})")
        else:
            buttons.append({"title": label, "payload": label})
    return links, buttons


def _item(item: Dict[str, Any]) -> Optional[str]:
    links, buttons = _actions(item.get("actions"))
    lines = [item.get("title"), item.get("description")]
    if item.get("mediaUrl"):
        lines.append(f"[{item.get('altText') or 'image'}]({item['mediaUrl']})")
    lines.extend(links)
    lines.extend(f"- {button['title']}" for button in buttons)
    return "\n".join(str(line) for line in lines if line) or None


def _location(raw: Dict[str, Any]) -> str:
    place = _dict(raw.get("location"))
    where = ", ".join(str(place[key]) for key in ("name", "address") if place.get(key))
    line = f"Location: {where}" if where else "Location:"
    coordinates = _dict(raw.get("coordinates"))
    lat, long = coordinates.get("lat"), coordinates.get("long")
    if lat is not None and long is not None:
        line += f" https://www.openstreetmap.org/?mlat={lat}&mlon={long}"
    return _join(raw.get("text"), line) or line


def _form_fields(fields: Iterable[Dict[str, Any]]) -> List[str]:
    lines = []
    for field in fields:
        label = field.get("label") or field.get("name") or ""
        options = [str(o.get("label") or o.get("name")) for o in _dicts(field.get("options"))]
        lines.append(f"{label}: {', '.join(options)}" if options else str(label))
    return lines


def _form_answer(field: Dict[str, Any]) -> Optional[str]:
    label = field.get("label") or field.get("name")
    value = field.get("text") or field.get("email")
    if value is None and _dicts(field.get("select")):
        value = ", ".join(str(o.get("label") or o.get("name")) for o in _dicts(field["select"]))
    if value is None:
        return None
    return f"{label}: {value}" if label else str(value)
