"""An agent's SunCo message as a Rasa `BotUttered`, in Rasa's usual shapes (see `rich`).

Every content type an agent can send becomes what Rasa's channels know:
- `text`: its text; its `actions` become quick replies (all `reply`) or buttons (`postback`,
  `reply`, and `link`/`webview` as link buttons); an action Rasa's channels cannot offer
  (`locationRequest`, `buy` without an address) is left out;
- `image`: the image, its text as the caption, its actions as buttons;
- `file`: an attachment named after the file (its alt text, else its URL), its text before it;
- `carousel` and `list`: cards (title, description, image, up to three actions each; a card's
  choice sends its label and the card's title, "Select (Ramen)"); a list's own actions follow
  as buttons;
- `location`: the place in words with a map link, and its coordinates for platforms that
  show a pin;
- `form`: its fields in words; a form that asks one choice offers its options as quick replies;
- `formResponse`: the answers in words;
- anything else: readable text, so nothing the agent sends is lost.

The event's metadata carries the SunCo ids (the durable dedupe keys), the agent's display name
and avatar, and when SunCo received the message; with `agent_name_prefix`, the text of a
platform that does not show who wrote it starts with the agent's name. How each platform
shows it is `rasa_zendesk.platforms`' work.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple

from rasa.shared.core.events import BotUttered

from rasa_zendesk import constants
from rasa_zendesk.platforms.rich import (
    Action,
    Card,
    Choice,
    Link,
    Media,
    Place,
    Rich,
    choice_payload,
    name_of,
)
from rasa_zendesk.sunco.models import Content, Message


def bot_uttered_for(
    message: Message, event_id: str, name_prefix: Optional[str] = None
) -> BotUttered:
    """The bot event that delivers and records one agent message; its text after
    `name_prefix` (`agent_name_prefix`, for a platform that does not show who wrote it)."""
    text, data = render(message.content)
    if text and name_prefix:
        text = name_prefix.format(agent_name=message.author.display_name or "Agent") + text
    metadata: Dict[str, Any] = {
        constants.EVENT_ZENDESK_MESSAGE_ID: message.id,
        constants.EVENT_ZENDESK_EVENT_ID: event_id,
    }
    if message.author.display_name:
        metadata[constants.EVENT_ZENDESK_AGENT_NAME] = message.author.display_name
    if message.author.avatar_url:
        metadata[constants.EVENT_ZENDESK_AGENT_AVATAR] = message.author.avatar_url
    if message.received is not None:
        metadata[constants.EVENT_ZENDESK_RECEIVED] = message.received.timestamp()
    return BotUttered(text=text, data=data, metadata=metadata)


def render(content: Content) -> Tuple[Optional[str], Dict[str, Any]]:
    """Text and `BotUttered` data for one SunCo content."""
    text, data = rich_of(content).rasa()
    return (text or _fallback(content) if not data else text), data


def rich_of(content: Content) -> Rich:
    """What one SunCo content shows."""
    raw = content.dict(by_alias=True, exclude_none=True)
    kind = content.type
    text = _text(content.text) or _text(raw.get("markdownText"))
    actions, quick = _actions(raw.get("actions"))
    if kind == "text":
        return Rich(text=text, actions=actions, quick=quick)
    if kind == "image" and content.media_url:
        image = Media(content.media_url, name_of(content.media_url))  # Rasa's image: its URL
        return Rich(text=text, actions=actions, quick=quick, image=image)
    if kind == "file" and content.media_url:
        return Rich(
            text=text, file=Media(content.media_url, file_name(content), content.media_type)
        )
    if kind in ("carousel", "list"):
        cards = tuple(card for card in map(_card, _dicts(raw.get("items"))) if card)
        return Rich(text=text, actions=actions, quick=quick, cards=cards)
    if kind == "location":
        return Rich(text=text, place=_place(raw))
    if kind == "form":
        return _form(text, _dicts(raw.get("fields")))
    if kind == "formResponse":
        answers = [_form_answer(field) for field in _dicts(raw.get("fields"))]
        return Rich(text="\n\n".join(answer for answer in answers if answer) or text)
    return Rich(text=text)


def file_name(content: Content) -> str:
    """What to call an attached file: its alt text, else the last segment of its URL."""
    if content.alt_text:
        return content.alt_text
    return name_of(content.media_url or "")


def _fallback(content: Content) -> str:
    readable = content.text or content.alt_text or content.media_url
    return readable or f"(The agent sent a {content.type} message that this chat cannot show.)"


def _text(value: Any) -> Optional[str]:
    return value.strip() or None if isinstance(value, str) else None


def _dicts(value: Any) -> List[Dict[str, Any]]:
    """The objects of a list field; anything else in it (or a non-list) is skipped."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _actions(actions: Any) -> Tuple[Tuple[Action, ...], bool]:
    """The actions Rasa's channels can offer, and whether all of them are SunCo replies."""
    made: List[Action] = []
    replies = True
    for action in _dicts(actions):
        label = _text(action.get("text"))
        uri = _text(action.get("uri")) if isinstance(action.get("uri"), str) else None
        kind = action.get("type")
        if not label:
            continue
        if uri:
            made.append(Link(label, uri))
            replies = False
        elif kind in ("reply", "postback") and choice_payload(label):
            made.append(Choice(label, choice_payload(label)))
            replies = replies and kind == "reply"
    return tuple(made), replies and bool(made)


def _card(item: Dict[str, Any]) -> Optional[Card]:
    title = _text(item.get("title"))
    actions, _ = _actions(item.get("actions"))
    media = _text(item.get("mediaUrl")) if isinstance(item.get("mediaUrl"), str) else None
    subtitle = _text(item.get("description"))
    if not title:
        title = subtitle or (actions[0].title if actions else None)
        subtitle = None if title == subtitle else subtitle
    if not title:
        return None
    return Card(title=title, subtitle=subtitle, image=media, actions=_of_card(actions[:3], title))


def _of_card(actions: Tuple[Action, ...], title: str) -> Tuple[Action, ...]:
    """A card's choices send their card's title too ("Select (Ramen)"): the same label on
    several cards would not tell the agent which one the user chose."""
    return tuple(
        Choice(a.title, choice_payload(f"{a.title} ({title})"))
        if isinstance(a, Choice) and title.casefold() not in a.title.casefold()
        else a
        for a in actions
    )


def _place(raw: Dict[str, Any]) -> Place:
    place, coordinates = _dict(raw.get("location")), _dict(raw.get("coordinates"))
    lat, long = coordinates.get("lat"), coordinates.get("long")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, long))
    return Place(
        lat=lat if numbers else None,
        long=long if numbers else None,
        name=_text(place.get("name")),
        address=_text(place.get("address")),
    )


def _form(text: Optional[str], fields: List[Dict[str, Any]]) -> Rich:
    lines = _form_fields(fields)
    if len(fields) == 1 and fields[0].get("type") == "select":
        options = [_option_label(o) for o in _dicts(fields[0].get("options"))]
        choices = tuple(Choice(o, choice_payload(o)) for o in options if o and choice_payload(o))
        if choices:
            prompt = _text(fields[0].get("label")) or _text(fields[0].get("name"))
            return Rich(
                text="\n\n".join(p for p in (text, prompt) if p) or None,
                actions=choices,
                quick=True,
            )
    return Rich(text="\n\n".join(p for p in (text, *lines) if p) or None)


def _option_label(option: Dict[str, Any]) -> str:
    return str(option.get("label") or option.get("name") or "").strip()


def _form_fields(fields: Iterable[Dict[str, Any]]) -> List[str]:
    lines = []
    for field in fields:
        label = field.get("label") or field.get("name") or ""
        options = [_option_label(o) for o in _dicts(field.get("options"))]
        lines.append(f"{label}: {', '.join(options)}" if options else str(label))
    return [line for line in lines if line]


def _form_answer(field: Dict[str, Any]) -> Optional[str]:
    label = field.get("label") or field.get("name")
    value = field.get("text") or field.get("email")
    if value is None and _dicts(field.get("select")):
        value = ", ".join(_option_label(o) for o in _dicts(field["select"]))
    if value is None:
        return None
    return f"{label}: {value}" if label else str(value)
