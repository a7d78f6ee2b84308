"""An agent's message between SunCo and the user's platform: what it offers, in one model.

`Rich` holds what an agent's message shows: its text, the actions it offers (a `Choice` the
user picks, a `Link` the user opens), an image or a file, cards (a carousel's or a list's
items) and a place. `render` makes it from SunCo content; here it becomes Rasa's usual shapes,
which the tracker records and Rasa's channels know, and is read back from them when it is
sent (`outputs.AgentOutput`), so the record and what is sent never differ:

- `text`;
- `quick_replies` (`[{"title", "payload"}]`) when every action is a SunCo `reply`, else
  `buttons`: a choice is `{"title", "payload"}`, a link `{"title", "url", "type": "web_url"}`
  (the button shape of Rasa's Messenger channel and of rasa-webchat);
- `image` (its URL);
- `attachment`: a file, `{"type": "file", "payload": {"src", "title", "media_type"?}}` (the
  `{"type", "payload": {"src"}}` shape Rasa's socket.io channel gives images);
- `elements`: cards, `[{"title", "subtitle"?, "image_url"?, "buttons": [...]}]` (Rasa's
  generic template);
- `custom`: `{"location": {"lat", "long", "name"?, "address"?}}`.

A choice's payload is its label (without leading slashes, so Rasa never reads it as an intent):
whatever the platform sends back when the user picks it, Rasa gets the words the user chose,
and the relay passes them to the agent as the user's message, once.

Where a platform cannot show a part, `readable` gives it as text with links, in the link style
the platform reads: markdown (`[title](url)`), mrkdwn (`<url|title>`) or plain
(`title: url`).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import unquote, urlparse

from rasa_zendesk.constants import EVENT_ZENDESK_AGENT_AVATAR, EVENT_ZENDESK_AGENT_NAME

WEB_URL = "web_url"
#: The text of a message that offers actions but says nothing (platforms need some text).
PROMPT = "Please choose:"

#: The link styles of `link_text`: `[title](url)`, `<url|title>`, `title: url`.
MARKDOWN = "markdown"
MRKDWN = "mrkdwn"
PLAIN = "plain"


@dataclass(frozen=True)
class Choice:
    """Something the user picks (SunCo `reply` or `postback`): it sends `payload` back."""

    title: str
    payload: str


@dataclass(frozen=True)
class Link:
    """Something the user opens (SunCo `link`, `webview`, or any action with a `uri`)."""

    title: str
    url: str


Action = Union[Choice, Link]


@dataclass(frozen=True)
class Media:
    """An image or a file, by URL."""

    url: str
    name: str
    media_type: Optional[str] = None


@dataclass(frozen=True)
class Card:
    """A carousel's or a list's item."""

    title: str
    subtitle: Optional[str] = None
    image: Optional[str] = None
    actions: Tuple[Action, ...] = ()


@dataclass(frozen=True)
class Place:
    lat: Optional[float] = None
    long: Optional[float] = None
    name: Optional[str] = None
    address: Optional[str] = None

    @property
    def map_url(self) -> Optional[str]:
        if self.lat is None or self.long is None:
            return None
        return f"https://www.openstreetmap.org/?mlat={self.lat}&mlon={self.long}"

    def line(self) -> str:
        """The place in words, with a map link."""
        where = ", ".join(part for part in (self.name, self.address) if part)
        line = f"Location: {where}" if where else "Location:"
        return f"{line} {self.map_url}" if self.map_url else line


@dataclass(frozen=True)
class Author:
    """Who wrote an agent's message: Zendesk's display name and avatar, when it gives them."""

    name: Optional[str] = None
    avatar_url: Optional[str] = None


@dataclass(frozen=True)
class Rich:
    """What one agent message shows."""

    text: Optional[str] = None
    actions: Tuple[Action, ...] = ()
    #: Every action is a SunCo `reply`: quick replies, gone once one is picked.
    quick: bool = False
    image: Optional[Media] = None
    file: Optional[Media] = None
    cards: Tuple[Card, ...] = ()
    place: Optional[Place] = None
    author: Author = Author()

    @property
    def choices(self) -> Tuple[Choice, ...]:
        return tuple(action for action in self.actions if isinstance(action, Choice))

    @property
    def links(self) -> Tuple[Link, ...]:
        return tuple(action for action in self.actions if isinstance(action, Link))

    def with_media(self, rewrite: Callable[[str, str], str]) -> Rich:
        """The same message with each image and file URL (and its name) passed through
        `rewrite`; links the agent offers are left as they are."""
        image = (
            replace(self.image, url=rewrite(self.image.url, self.image.name))
            if self.image
            else None
        )
        file = replace(self.file, url=rewrite(self.file.url, self.file.name)) if self.file else None
        cards = tuple(
            replace(card, image=rewrite(card.image, name_of(card.image))) if card.image else card
            for card in self.cards
        )
        return replace(self, image=image, file=file, cards=cards)

    # Rasa's shapes -----------------------------------------------------------------------

    def rasa(self) -> Tuple[Optional[str], Dict[str, Any]]:
        """The text and `BotUttered` data that record and carry this message."""
        data: Dict[str, Any] = {}
        text = self.text
        if self.actions:
            text = text or PROMPT
            if self.quick:
                data["quick_replies"] = [_choice_button(c) for c in self.choices]
            else:
                data["buttons"] = [_button(action) for action in self.actions]
        if self.image:
            data["image"] = self.image.url
        if self.file:
            payload = {"src": self.file.url, "title": self.file.name}
            if self.file.media_type:
                payload["media_type"] = self.file.media_type
            data["attachment"] = {"type": "file", "payload": payload}
        if self.cards:
            data["elements"] = [card_element(card) for card in self.cards]
        if self.place:
            data["custom"] = {"location": _place_json(self.place)}
            text = _join(text, self.place.line())
        return text, data

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Rich:
        """Read back what `rasa` made, from a bot message (`BotUttered.message()`)."""
        custom = _mapping(message.get("custom"))
        place = _place(_mapping(custom.get("location"))) if custom.get("location") else None
        text = _text(message.get("text"))
        if place is not None and text is not None:  # the place's line was added to the text
            text = _strip_suffix(text, place.line())
        quick = bool(message.get("quick_replies"))
        buttons = message.get("quick_replies") if quick else message.get("buttons")
        actions = _actions_of(buttons)
        if actions and text == PROMPT:
            text = None
        image = _text(message.get("image"))
        return cls(
            text=text,
            actions=actions,
            quick=quick and bool(actions),
            image=Media(image, name_of(image)) if image else None,
            file=_file(message.get("attachment")),
            cards=tuple(_card(e) for e in _mappings(message.get("elements")) if e.get("title")),
            place=place,
            author=Author(
                _text(message.get(EVENT_ZENDESK_AGENT_NAME)),
                _text(message.get(EVENT_ZENDESK_AGENT_AVATAR)),
            ),
        )


# Text for what a platform cannot show ------------------------------------------------------


def link_text(title: str, url: str, style: str = MARKDOWN) -> str:
    if style == MRKDWN:
        return f"<{url}|{_mrkdwn_escape(title)}>"
    if style == PLAIN:
        return f"{title}: {url}" if title and title != url else url
    return f"[{_markdown_escape(title)}]({url})"


def actions_text(actions: Tuple[Action, ...], style: str = MARKDOWN) -> Optional[str]:
    """Actions as lines: `- title` for a choice, a link for a link."""
    lines = [
        link_text(action.title, action.url, style)
        if isinstance(action, Link)
        else f"- {action.title}"
        for action in actions
    ]
    return "\n".join(lines) or None


def card_text(card: Card, style: str = MARKDOWN, with_actions: bool = True) -> str:
    lines = [card.title, card.subtitle]
    if card.image:
        lines.append(link_text(name_of(card.image), card.image, style))
    if with_actions:
        lines.append(actions_text(card.actions, style))
    return "\n".join(line for line in lines if line)


def readable(rich: Rich, style: str = MARKDOWN) -> str:
    """The whole message as text with links: for a platform that shows none of its parts."""
    parts: List[Optional[str]] = [
        lines(rich.text, actions_text(rich.actions, style)) if rich.actions else rich.text
    ]
    if rich.image:
        parts.append(link_text(rich.image.name, rich.image.url, style))
    if rich.file:
        parts.append(link_text(rich.file.name, rich.file.url, style))
    parts += [card_text(card, style) for card in rich.cards]
    if rich.place:
        parts.append(place_text(rich.place, style))
    return _join(*parts) or ""


def place_text(place: Place, style: str = MARKDOWN) -> str:
    if style == MRKDWN and place.map_url:
        return place.line().replace(place.map_url, f"<{place.map_url}|map>")
    return place.line()


def markdown_to(text: str, style: str) -> str:
    """The agent's markdown links (`[title](url)`) in another platform's style (for mrkdwn,
    the rest of the text escaped as it needs: `&`, `<`, `>`)."""
    if style == MARKDOWN:
        return text
    escape = _mrkdwn_text if style == MRKDWN else str
    parts, last = [], 0
    for match in _MARKDOWN_LINK.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(link_text(match.group(1), match.group(2), style))
        last = match.end()
    parts.append(escape(text[last:]))
    return "".join(parts)


def name_of(url: str) -> str:
    """What to call a file by its URL: the last segment of its path."""
    return unquote(posixpath.basename(urlparse(url or "").path)) or "file"


def choice_payload(title: str) -> str:
    """What a choice sends back: its label, without leading slashes (Rasa reads `/intent`)."""
    return title.lstrip("/").strip()


# Helpers -------------------------------------------------------------------------------------

_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")


def _join(*parts: Any) -> Optional[str]:
    """Non-empty text parts as paragraphs (anything that is not text is skipped)."""
    texts = [part.strip() for part in parts if isinstance(part, str) and part.strip()]
    return "\n\n".join(texts) or None


def lines(*parts: Optional[str]) -> Optional[str]:
    """Non-empty text parts, one a line."""
    texts = [part.strip() for part in parts if isinstance(part, str) and part.strip()]
    return "\n".join(texts) or None


def _strip_suffix(text: str, suffix: str) -> Optional[str]:
    if text == suffix:
        return None
    if text.endswith("\n\n" + suffix):
        return text[: -len(suffix) - 2].strip() or None
    return text


def _markdown_escape(title: str) -> str:
    return title.replace("[", "(").replace("]", ")")


def _mrkdwn_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn_escape(title: str) -> str:
    return _mrkdwn_text(title).replace("|", "¦")


def _text(value: Any) -> Optional[str]:
    return value.strip() or None if isinstance(value, str) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _mappings(value: Any) -> List[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _choice_button(choice: Choice) -> Dict[str, str]:
    return {"title": choice.title, "payload": choice.payload}


def _button(action: Action) -> Dict[str, str]:
    if isinstance(action, Link):
        return {"title": action.title, "url": action.url, "type": WEB_URL}
    return _choice_button(action)


def _actions_of(buttons: Any) -> Tuple[Action, ...]:
    actions: List[Action] = []
    for button in _mappings(buttons):
        title = _text(button.get("title"))
        url = _text(button.get("url"))
        if title and url and button.get("type") == WEB_URL:
            actions.append(Link(title, url))
        elif title:
            actions.append(Choice(title, str(button.get("payload") or choice_payload(title))))
    return tuple(actions)


def card_element(
    card: Card, button: Callable[[Action], Dict[str, str]] = _button
) -> Dict[str, Any]:
    """A card as a generic template's element (Rasa's `elements`); `button` shapes its
    actions (Rasa's buttons, or a platform's own)."""
    element: Dict[str, Any] = {"title": card.title}
    if card.subtitle:
        element["subtitle"] = card.subtitle
    if card.image:
        element["image_url"] = card.image
    element["buttons"] = [button(action) for action in card.actions]
    return element


def _card(element: Mapping[str, Any]) -> Card:
    return Card(
        title=str(element["title"]),
        subtitle=_text(element.get("subtitle")),
        image=_text(element.get("image_url")),
        actions=_actions_of(element.get("buttons")),
    )


def _file(attachment: Any) -> Optional[Media]:
    attachment = _mapping(attachment)
    payload = _mapping(attachment.get("payload"))
    url = _text(payload.get("src")) or _text(payload.get("url"))
    if attachment.get("type") != "file" or not url:
        return None
    name = _text(payload.get("title")) or name_of(url)
    return Media(url, name, _text(payload.get("media_type")))


def _place_json(place: Place) -> Dict[str, Any]:
    made: Dict[str, Any] = {"lat": place.lat, "long": place.long}
    made.update({key: getattr(place, key) for key in ("name", "address") if getattr(place, key)})
    return made


def _place(raw: Mapping[str, Any]) -> Place:
    return Place(
        lat=_number(raw.get("lat")),
        long=_number(raw.get("long")),
        name=_text(raw.get("name")),
        address=_text(raw.get("address")),
    )


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value
