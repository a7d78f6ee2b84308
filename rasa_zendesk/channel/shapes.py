"""How an agent's message (`rich.Rich`) is shown on each platform, through Rasa's own output
channel classes; what a platform cannot show becomes text with links it reads.

- socket.io (rasa-webchat): text; SunCo replies as `quick_replies` (shown until the next
  message), postbacks as `buttons` (shown for good), links as `web_url` buttons; the image; a
  file as a markdown link; cards as a carousel (generic template); a place in words with a
  map link.
- Slack: mrkdwn text; choices and links as Block Kit buttons; the image as an image block; a
  file as a link; cards as sections with their image and buttons.
- Telegram: text; choices on an inline keyboard (quick replies on a one-time reply keyboard),
  links as URL buttons; the image as a photo with its caption and keyboard; a file as a
  document; each card as a photo or message with its keyboard; a place as a venue pin.
- Facebook Messenger: text; a button template (up to 3 actions) or quick replies; the image;
  a file attachment; cards as a generic template; a place in words with a map link.
- Twilio (SMS, WhatsApp): one text listing the choices and links (`title: url`); the image as
  an MMS picture with the words; a file, cards and a place as text with links.
- callback: Rasa's shapes, as `CollectingOutputChannel` collects them.
- any other channel: Rasa's text, buttons, quick replies and image; a file, cards' images and
  links as markdown links, each card as a text with its choices as buttons.

Platform limits are kept: Slack's 25 buttons per block and 3000 characters per section,
Telegram's 64 bytes of `callback_data` (longer choices go on a reply keyboard) and 1024
characters of caption, Messenger's 3 template buttons, 13 quick replies and 20-character
titles (the payload, what comes back, stays whole). A photo or document Telegram cannot fetch
becomes a link.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from rasa.core.channels.callback import CallbackOutput
from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.facebook import MessengerBot
from rasa.core.channels.slack import SlackBot
from rasa.core.channels.socketio import SocketIOOutput
from rasa.core.channels.telegram import TelegramOutput
from rasa.core.channels.twilio import TwilioOutput

from rasa_zendesk.channel.outputs import off_loop
from rasa_zendesk.channel.rich import (
    MARKDOWN,
    PLAIN,
    PROMPT,
    SLACK,
    Action,
    Card,
    Choice,
    Link,
    Rich,
    actions_text,
    card_text,
    link_text,
    markdown_to,
    place_text,
    readable,
)

logger = logging.getLogger(__name__)

Sender = Callable[[Any, str, Rich], Awaitable[None]]

SLACK_BUTTONS_PER_BLOCK = 25
SLACK_SECTION_CHARS = 3000
SLACK_MAX_BLOCKS = 50
TELEGRAM_CALLBACK_BYTES = 64
TELEGRAM_CAPTION_CHARS = 1024
MESSENGER_BUTTONS = 3
MESSENGER_QUICK_REPLIES = 13
MESSENGER_TITLE_CHARS = 20
MESSENGER_TEMPLATE_TEXT_CHARS = 640
MESSENGER_ELEMENTS = 10
MESSENGER_ELEMENT_CHARS = 80


async def send_rich(output: OutputChannel, recipient_id: str, rich: Rich) -> None:
    """Show `rich` to `recipient_id` through the platform's own output channel."""
    sender = _sender(output)
    await off_loop(output, lambda: sender(output, recipient_id, rich))


def _sender(output: OutputChannel) -> Sender:
    for kind, sender in (
        (SocketIOOutput, _socketio),
        (SlackBot, _slack),
        (TelegramOutput, _telegram),
        (MessengerBot, _messenger),
        (TwilioOutput, _twilio),
        (CallbackOutput, _callback),
    ):
        if isinstance(output, kind):
            return sender
    return _generic


# socket.io (rasa-webchat) ------------------------------------------------------------------


async def _socketio(output: SocketIOOutput, recipient: str, rich: Rich) -> None:
    async def emit(payload: Dict[str, Any]) -> None:
        await output.sio.emit(output.bot_message_evt, payload, room=recipient)

    async def offer(text: str, actions: Tuple[Action, ...], quick: bool) -> None:
        # As SocketIOOutput.send_text_with_buttons: paragraphs, the actions on the last one.
        # rasa-webchat shows `quick_replies` until the next message, `buttons` for good.
        parts = text.strip().split("\n\n")
        for part in parts[:-1]:
            await emit({"text": part})
        if quick:
            await emit({"text": parts[-1], "quick_replies": [_webchat_reply(a) for a in actions]})
        else:
            await emit({"text": parts[-1], "buttons": [_webchat_button(a) for a in actions]})

    if rich.actions and not rich.cards:
        await offer(rich.text or PROMPT, rich.actions, rich.quick)
    elif rich.text:
        await output.send_text_message(recipient, rich.text)
    if rich.image:
        await output.send_image_url(recipient, rich.image.url)
    if rich.file:  # rasa-webchat shows no file attachment; it shows markdown links
        await output.send_text_message(recipient, link_text(rich.file.name, rich.file.url))
    if rich.cards:
        elements = [_webchat_element(card) for card in rich.cards]
        payload = {"template_type": "generic", "elements": elements}
        await emit({"attachment": {"type": "template", "payload": payload}})
        if rich.actions:
            await offer(PROMPT, rich.actions, rich.quick)
    if rich.place:
        await output.send_text_message(recipient, place_text(rich.place))


def _webchat_reply(action: Action) -> Dict[str, str]:
    if isinstance(action, Link):
        return {"type": "web_url", "title": action.title, "url": action.url}
    return {"content_type": "text", "title": action.title, "payload": action.payload}


def _webchat_button(action: Action) -> Dict[str, str]:
    if isinstance(action, Link):
        return {"type": "web_url", "title": action.title, "url": action.url}
    return {"type": "postback", "title": action.title, "payload": action.payload}


def _webchat_element(card: Card) -> Dict[str, Any]:
    element: Dict[str, Any] = {"title": card.title}
    if card.subtitle:
        element["subtitle"] = card.subtitle
    if card.image:
        element["image_url"] = card.image
    element["buttons"] = [_webchat_button(action) for action in card.actions]
    return element


# Slack -------------------------------------------------------------------------------------


async def _slack(output: SlackBot, recipient: str, rich: Rich) -> None:
    text = markdown_to(rich.text, SLACK) if rich.text else None
    if rich.actions and not rich.cards:
        await _slack_offer(output, recipient, text, rich.actions, readable(rich, SLACK))
    elif text:
        await output.send_text_message(recipient, text)
    if rich.image:
        await output.send_image_url(recipient, rich.image.url)
    if rich.file:
        await output.send_text_message(recipient, link_text(rich.file.name, rich.file.url, SLACK))
    if rich.cards:
        blocks: List[Dict[str, Any]] = []
        for index, card in enumerate(rich.cards):
            if index:
                blocks.append({"type": "divider"})
            blocks.append(_slack_card_section(card))
            blocks += _slack_buttons(card.actions, f"zendesk_card_{index}")
        fallback = "\n\n".join(card_text(card, SLACK) for card in rich.cards)
        await output.send_custom_json(
            recipient, {"text": fallback, "blocks": blocks[:SLACK_MAX_BLOCKS]}
        )
        if rich.actions:
            await _slack_offer(
                output, recipient, None, rich.actions, actions_text(rich.actions, SLACK)
            )
    if rich.place:
        await output.send_text_message(recipient, place_text(rich.place, SLACK))


async def _slack_offer(
    output: SlackBot,
    recipient: str,
    text: Optional[str],
    actions: Tuple[Action, ...],
    fallback: Optional[str],
) -> None:
    if text and len(text) > SLACK_SECTION_CHARS:
        await output.send_text_message(recipient, text)
        text = None
    section = {"type": "section", "text": {"type": "mrkdwn", "text": text or PROMPT}}
    blocks = [section, *_slack_buttons(actions, "zendesk")]
    await output.send_custom_json(
        recipient, {"text": fallback or text or PROMPT, "blocks": blocks[:SLACK_MAX_BLOCKS]}
    )


def _slack_buttons(actions: Tuple[Action, ...], prefix: str) -> List[Dict[str, Any]]:
    elements = []
    for index, action in enumerate(actions):
        button: Dict[str, Any] = {
            "type": "button",
            "action_id": f"{prefix}_{index}",
            "text": {"type": "plain_text", "text": _cut(action.title, 75), "emoji": True},
        }
        if isinstance(action, Link):
            button["url"] = action.url
        else:
            button["value"] = action.payload[:2000]
        elements.append(button)
    return [
        {"type": "actions", "elements": elements[start : start + SLACK_BUTTONS_PER_BLOCK]}
        for start in range(0, len(elements), SLACK_BUTTONS_PER_BLOCK)
    ]


def _slack_card_section(card: Card) -> Dict[str, Any]:
    text = f"*{card.title}*" + (f"\n{card.subtitle}" if card.subtitle else "")
    section: Dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _cut(text, SLACK_SECTION_CHARS)},
    }
    if card.image:
        section["accessory"] = {"type": "image", "image_url": card.image, "alt_text": card.title}
    return section


# Telegram ----------------------------------------------------------------------------------


async def _telegram(output: TelegramOutput, recipient: str, rich: Rich) -> None:
    from aiogram.utils.exceptions import BadRequest

    text = markdown_to(rich.text, PLAIN) if rich.text else None
    markup, extra = (None, None)
    if rich.actions and not rich.cards:
        markup, extra = _telegram_keyboard(rich.actions, quick=rich.quick)
    body = _lines(text, extra)
    if markup is not None:
        body = body or PROMPT
    captioned = bool(rich.image and body and len(body) <= TELEGRAM_CAPTION_CHARS)
    if body and not captioned:
        await output.send_message(recipient, body, reply_markup=markup)
    if rich.image:
        try:
            await output.send_photo(
                recipient,
                rich.image.url,
                caption=body if captioned else None,
                reply_markup=markup if captioned else None,
            )
        except BadRequest as error:  # Telegram could not fetch or read it: a link instead
            _unshown("photo", recipient, error)
            link = link_text(rich.image.name, rich.image.url, PLAIN)
            await output.send_message(
                recipient,
                _lines(body if captioned else None, link),
                reply_markup=markup if captioned else None,
            )
    if rich.file:
        try:
            await output.send_document(recipient, rich.file.url)
        except BadRequest as error:
            _unshown("document", recipient, error)
            await output.send_message(recipient, link_text(rich.file.name, rich.file.url, PLAIN))
    for card in rich.cards:
        keyboard, lines = _telegram_keyboard(card.actions, quick=False)
        caption = _lines(card.title, card.subtitle, lines) or card.title
        sent = False
        if card.image and len(caption) <= TELEGRAM_CAPTION_CHARS:
            try:
                await output.send_photo(
                    recipient, card.image, caption=caption, reply_markup=keyboard
                )
                sent = True
            except BadRequest as error:
                _unshown("photo", recipient, error)
        if not sent:
            with_link = _lines(
                caption, link_text("image", card.image, PLAIN) if card.image else None
            )
            await output.send_message(recipient, with_link, reply_markup=keyboard)
    if rich.cards and rich.actions:
        keyboard, lines = _telegram_keyboard(rich.actions, quick=rich.quick)
        await output.send_message(recipient, _lines(PROMPT, lines), reply_markup=keyboard)
    if rich.place:
        place = rich.place
        if place.lat is not None and place.long is not None:
            if place.name or place.address:
                title = place.name or place.address or ""
                await output.send_venue(
                    recipient, place.lat, place.long, title, place.address or ""
                )
            else:
                await output.send_location(recipient, place.lat, place.long)
        else:
            await output.send_message(recipient, place_text(place, PLAIN))


def _telegram_keyboard(actions: Tuple[Action, ...], quick: bool) -> Tuple[Any, Optional[str]]:
    """The keyboard of a message, and the lines of what it cannot hold.

    Choices go on an inline keyboard (`callback_data`, at most 64 bytes) with links as URL
    buttons; quick replies, and choices too long for `callback_data`, on a one-time reply
    keyboard (a key sends its words), with links as lines of the text."""
    from aiogram.types import (
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        KeyboardButton,
        ReplyKeyboardMarkup,
    )

    choices = [a for a in actions if isinstance(a, Choice)]
    links = tuple(a for a in actions if isinstance(a, Link))
    too_long = any(len(c.payload.encode("utf-8")) > TELEGRAM_CALLBACK_BYTES for c in choices)
    if choices and (quick or too_long):
        keyboard = ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True)
        for choice in choices:
            keyboard.row(KeyboardButton(choice.payload))
        return keyboard, actions_text(links, PLAIN)
    if not actions:
        return None, None
    inline = InlineKeyboardMarkup()
    for action in actions:
        if isinstance(action, Link):
            inline.row(InlineKeyboardButton(action.title, url=action.url))
        else:
            inline.row(InlineKeyboardButton(action.title, callback_data=action.payload))
    return inline, None


# Facebook Messenger ------------------------------------------------------------------------


async def _messenger(output: MessengerBot, recipient: str, rich: Rich) -> None:
    text = markdown_to(rich.text, PLAIN) if rich.text else None
    if rich.actions and not rich.cards:
        await _messenger_offer(output, recipient, text, rich.actions, rich.quick)
    elif text:
        await output.send_text_message(recipient, text)
    if rich.image:
        await output.send_image_url(recipient, rich.image.url)
    if rich.file:
        attachment = {"type": "file", "payload": {"url": rich.file.url, "is_reusable": False}}
        await output.send_custom_json(recipient, {"attachment": attachment})
    if rich.cards:
        elements = [_messenger_element(card) for card in rich.cards[:MESSENGER_ELEMENTS]]
        await output.send_elements(recipient, elements)
        if rich.actions:
            await _messenger_offer(output, recipient, None, rich.actions, rich.quick)
    if rich.place:
        await output.send_text_message(recipient, place_text(rich.place, PLAIN))


async def _messenger_offer(
    output: MessengerBot,
    recipient: str,
    text: Optional[str],
    actions: Tuple[Action, ...],
    quick: bool,
) -> None:
    choices = [a for a in actions if isinstance(a, Choice)]
    links = tuple(a for a in actions if isinstance(a, Link))
    template = len(actions) <= MESSENGER_BUTTONS and len(text or PROMPT) <= (
        MESSENGER_TEMPLATE_TEXT_CHARS
    )
    if template and not quick:
        buttons = [_messenger_button(action) for action in actions]
        await output.send_text_with_buttons(recipient, text or PROMPT, buttons)
    elif choices and len(choices) <= MESSENGER_QUICK_REPLIES:
        replies = [
            {"title": _cut(c.title, MESSENGER_TITLE_CHARS), "payload": c.payload} for c in choices
        ]
        body = _lines(text, actions_text(links, PLAIN)) or PROMPT
        await output.send_quick_replies(recipient, body, replies)
    else:
        body = _lines(text, actions_text(actions, PLAIN))
        if body:
            await output.send_text_message(recipient, body)


def _messenger_button(action: Action) -> Dict[str, str]:
    title = _cut(action.title, MESSENGER_TITLE_CHARS)
    if isinstance(action, Link):
        return {"type": "web_url", "title": title, "url": action.url}
    return {"type": "postback", "title": title, "payload": action.payload}


def _messenger_element(card: Card) -> Dict[str, Any]:
    element: Dict[str, Any] = {"title": _cut(card.title, MESSENGER_ELEMENT_CHARS)}
    if card.subtitle:
        element["subtitle"] = _cut(card.subtitle, MESSENGER_ELEMENT_CHARS)
    if card.image:
        element["image_url"] = card.image
    if card.actions:
        element["buttons"] = [_messenger_button(a) for a in card.actions[:MESSENGER_BUTTONS]]
    return element


# Twilio (SMS, WhatsApp) --------------------------------------------------------------------


async def _twilio(output: TwilioOutput, recipient: str, rich: Rich) -> None:
    text = markdown_to(rich.text, PLAIN) if rich.text else None
    offers = rich.actions and not rich.cards
    body = _lines(text or PROMPT, actions_text(rich.actions, PLAIN)) if offers else text
    if rich.image:  # one MMS: the picture with the words
        await output.send_custom_json(
            recipient, {"media_url": [rich.image.url], "body": body or ""}
        )
    elif body:
        await output.send_text_message(recipient, body)
    rest = [
        link_text(rich.file.name, rich.file.url, PLAIN) if rich.file else None,
        *(card_text(card, PLAIN) for card in rich.cards),
        actions_text(rich.actions, PLAIN) if rich.cards and rich.actions else None,
        place_text(rich.place, PLAIN) if rich.place else None,
    ]
    for part in rest:
        if part:
            await output.send_text_message(recipient, part)


# callback, and any other channel -----------------------------------------------------------


async def _callback(output: CallbackOutput, recipient: str, rich: Rich) -> None:
    """The callback URL gets Rasa's shapes, as `CollectingOutputChannel` collects them."""
    text, data = rich.rasa()
    await output.send_response(recipient, {"text": text, **data})


async def _generic(output: OutputChannel, recipient: str, rich: Rich) -> None:
    """A channel this module does not know: Rasa's text, buttons and image, the rest as text
    with markdown links (its attachment and custom payloads have no agreed shape)."""

    async def offer(text: Optional[str], actions: Tuple[Action, ...], quick: bool) -> None:
        choices = [
            {"title": a.title, "payload": a.payload} for a in actions if isinstance(a, Choice)
        ]
        body = _lines(text, actions_text(tuple(a for a in actions if isinstance(a, Link))))
        if not choices:
            if body:
                await output.send_text_message(recipient, body)
        elif quick:
            await output.send_quick_replies(recipient, body or PROMPT, choices)
        else:
            await output.send_text_with_buttons(recipient, body or PROMPT, choices)

    if rich.cards:
        if rich.text:
            await output.send_text_message(recipient, rich.text)
    else:
        await offer(rich.text, rich.actions, rich.quick)
    if rich.image:
        await output.send_image_url(recipient, rich.image.url)
    if rich.file:
        await output.send_text_message(
            recipient, link_text(rich.file.name, rich.file.url, MARKDOWN)
        )
    for card in rich.cards:
        await offer(card_text(card, with_actions=False), card.actions, quick=False)
    if rich.cards and rich.actions:
        await offer(None, rich.actions, rich.quick)
    if rich.place:
        await output.send_text_message(recipient, place_text(rich.place))


# Helpers -----------------------------------------------------------------------------------


def _lines(*parts: Optional[str]) -> Optional[str]:
    texts = [part.strip() for part in parts if isinstance(part, str) and part.strip()]
    return "\n".join(texts) or None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _unshown(what: str, recipient: str, error: Exception) -> None:
    logger.warning(
        "Telegram could not send the agent's %s to chat %s (%s): sent as a link",
        what,
        recipient,
        error,
    )
