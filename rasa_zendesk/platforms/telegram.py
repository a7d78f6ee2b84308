"""Telegram: Rasa's `telegram` channel (`TelegramInput`, output `TelegramOutput`, an aiogram `Bot`).

- Where an agent's message goes: the chat (the sender id), through one kept `TelegramOutput`
  per Telegram input channel. Rasa's `TelegramInput.get_output_channel()` registers its
  webhook with `asyncio.run`, which cannot run inside the server's event loop, so the output
  channel is made from the channel's token; it has its own HTTP session (a connection pool),
  made on first use, kept for every agent message and typing event of the channel's users,
  and closed when the server stops (`close`).
- Rich messages: text; choices on an inline keyboard (quick replies on a one-time reply
  keyboard), links as URL buttons; the image as a photo with its caption and keyboard; a file
  as a document; each card as a photo or message with its keyboard; a place as a venue pin.
  Limits: 64 bytes of `callback_data` (longer choices go on a reply keyboard), 1024
  characters of caption. A photo or document Telegram cannot fetch becomes a link.
- Outcome: aiogram raises Telegram's errors; `refusal` takes a blocked bot, a deactivated
  user, a chat the bot cannot start or was kicked from (403) and "chat not found" (400) as
  refused for good; a wrong token (401), 429 and 5xx failed for now.
- Typing: `send_chat_action("typing")`; it has no "stop": the indicator fades by itself.
- Users' files: Rasa 3.6's `TelegramInput` answers a photo or a document without passing any
  message on; `rasa_zendesk.channel.media_inputs.TelegramMediaInput` passes them on as links
  the Rasa server serves (Telegram's download address carries the bot token). `file_of` reads
  the file from the update, `user_file` downloads it when the link is requested.
"""

from __future__ import annotations

import logging
import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Tuple, Union

from pydantic import BaseModel, Extra, StrictInt, StrictStr, ValidationError

from rasa_zendesk.platforms import outcome
from rasa_zendesk.platforms.base import FileUnavailable, Platform, Typing, channel_named, lines
from rasa_zendesk.platforms.outcome import Refusal
from rasa_zendesk.platforms.rich import (
    PLAIN,
    PROMPT,
    Action,
    Choice,
    Link,
    Rich,
    actions_text,
    link_text,
    markdown_to,
    place_text,
)

if TYPE_CHECKING:
    import httpx
    from rasa.core.channels.channel import InputChannel, OutputChannel
    from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

NAME = "telegram"
CALLBACK_BYTES = 64
CAPTION_CHARS = 1024
#: The largest file the Bot API hands a bot (`getFile`); larger ones cannot be fetched.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: The text of a photo or document without a caption (the bot and the agent see it).
PHOTO_TEXT = "[photo]"
DOCUMENT_TEXT = "[document]"
#: Telegram sends every photo as JPEG.
PHOTO_NAME = "photo.jpg"
#: A bot token in a Bot API address (`/bot<id>:<secret>/`), as it is redacted from logs.
BOT_TOKEN_IN_URL = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")

#: The Telegram output channel of each Telegram input channel (gone with the input channel).
_outputs: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


class Telegram(Platform):
    name = NAME
    output_class = "rasa.core.channels.telegram.TelegramOutput"

    def output(
        self, channel: InputChannel, tracker: Optional[DialogueStateTracker]
    ) -> Optional[OutputChannel]:
        if not getattr(channel, "access_token", None):
            return channel.get_output_channel()
        output = _outputs.get(channel)
        if output is None:
            from rasa.core.channels.telegram import TelegramOutput

            output = TelegramOutput(channel.access_token)  # type: ignore[attr-defined]
            _outputs[channel] = output
        return output

    async def close(self, channel: InputChannel) -> None:
        output = _outputs.pop(channel, None)
        session = getattr(output, "_session", None)  # aiogram makes it on first request
        if session is not None and not session.closed:
            await session.close()

    def refusal(self, error: BaseException, recipient_id: str) -> Optional[Refusal]:
        from aiogram.utils import exceptions as telegram

        causes = (
            (telegram.BotBlocked, outcome.BLOCKED),
            (telegram.UserDeactivated, outcome.UNREACHABLE),
            (telegram.CantInitiateConversation, outcome.UNREACHABLE),
            (telegram.BotKicked, outcome.CHAT_GONE),
            (telegram.ChatNotFound, outcome.CHAT_GONE),
        )
        for kind, cause in causes:
            if isinstance(error, kind):
                return Refusal(NAME, cause, str(error))
        return None

    async def show_typing(self, output: OutputChannel, typing: Typing) -> bool:
        if typing.typing:
            await output.send_chat_action(typing.recipient_id, "typing")  # type: ignore[attr-defined]
        return True

    async def send_rich(self, output: Any, recipient: str, rich: Rich) -> None:
        from aiogram.utils.exceptions import BadRequest

        text = markdown_to(rich.text, PLAIN) if rich.text else None
        markup, extra = (None, None)
        if rich.actions and not rich.cards:
            markup, extra = _keyboard(rich.actions, quick=rich.quick)
        body = lines(text, extra)
        if markup is not None:
            body = body or PROMPT
        captioned = bool(rich.image and body and len(body) <= CAPTION_CHARS)
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
                    lines(body if captioned else None, link),
                    reply_markup=markup if captioned else None,
                )
        if rich.file:
            try:
                await output.send_document(recipient, rich.file.url)
            except BadRequest as error:
                _unshown("document", recipient, error)
                file_link = link_text(rich.file.name, rich.file.url, PLAIN)
                await output.send_message(recipient, file_link)
        for card in rich.cards:
            keyboard, extra_lines = _keyboard(card.actions, quick=False)
            caption = lines(card.title, card.subtitle, extra_lines) or card.title
            sent = False
            if card.image and len(caption) <= CAPTION_CHARS:
                try:
                    await output.send_photo(
                        recipient, card.image, caption=caption, reply_markup=keyboard
                    )
                    sent = True
                except BadRequest as error:
                    _unshown("photo", recipient, error)
            if not sent:
                with_link = lines(
                    caption, link_text("image", card.image, PLAIN) if card.image else None
                )
                await output.send_message(recipient, with_link, reply_markup=keyboard)
        if rich.cards and rich.actions:
            keyboard, extra_lines = _keyboard(rich.actions, quick=rich.quick)
            await output.send_message(recipient, lines(PROMPT, extra_lines), reply_markup=keyboard)
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

    async def user_file(
        self, input_channels: Sequence[Any], client: httpx.AsyncClient, file_id: str
    ) -> httpx.Request:
        """Its path from `getFile`, then the request of its bytes, both with the bot token of
        this server's Telegram channel (never logged, never in an answer)."""
        channel = channel_named(input_channels, NAME)
        if channel is None or not getattr(channel, "access_token", None):
            logger.warning("A Telegram file link was requested but no Telegram channel runs here")
            raise FileUnavailable(404, "no Telegram channel")
        _redact_bot_tokens()
        token: str = channel.access_token
        server = api_server(channel)
        found = await client.get(server.api_url(token, "getFile"), params={"file_id": file_id})
        answer = GetFileAnswer.parse_raw(found.content)
        file_path = answer.result.file_path if answer.ok and answer.result else None
        if not file_path:
            logger.warning(
                "Telegram's getFile answered %d for a user's file: %s",
                found.status_code,
                (answer.description or "no file path")[:200],
            )
            too_big = "too big" in (answer.description or "")
            raise FileUnavailable(413 if too_big else 404, "no file path")
        return client.build_request("GET", server.file_url(token, file_path))


PLATFORM = Telegram()


def api_server(channel: Any) -> Any:
    """The Bot API server of the channel's kept output channel (Telegram's, or a local Bot API
    server's), so files come from where its messages go."""
    from aiogram.bot.api import TELEGRAM_PRODUCTION

    output = PLATFORM.output(channel, None)
    return getattr(output, "server", None) or TELEGRAM_PRODUCTION


def _keyboard(actions: Tuple[Action, ...], quick: bool) -> Tuple[Any, Optional[str]]:
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
    too_long = any(len(c.payload.encode("utf-8")) > CALLBACK_BYTES for c in choices)
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


def _unshown(what: str, recipient: str, error: Exception) -> None:
    logger.warning(
        "Telegram could not send the agent's %s to chat %s (%s): sent as a link",
        what,
        recipient,
        error,
    )


# Users' files ------------------------------------------------------------------------------


class PhotoSize(BaseModel):
    """One size of a photo (Bot API `PhotoSize`)."""

    file_id: str
    width: int = 0
    height: int = 0
    file_size: Optional[int] = None

    class Config:
        extra = Extra.ignore


class Document(BaseModel):
    """A general file (Bot API `Document`)."""

    file_id: str
    file_name: Optional[str] = None
    mime_type: Optional[str] = None
    file_size: Optional[int] = None

    class Config:
        extra = Extra.ignore


class FileMessage(BaseModel):
    """The parts of a Bot API `Message` with a photo or a document that are read."""

    text: Optional[str] = None
    caption: Optional[str] = None
    photo: List[PhotoSize] = []
    document: Optional[Document] = None

    class Config:
        extra = Extra.ignore


@dataclass(frozen=True)
class UserFile:
    """A photo (its largest size) or document a user sent, and the text its message gets."""

    kind: str
    file_id: str
    name: str
    size: Optional[int]
    text: str

    @property
    def too_big(self) -> Optional[str]:
        """Why the Bot API will not hand it out, when it is too large."""
        if self.size is None or self.size <= MAX_FILE_BYTES:
            return None
        limit = MAX_FILE_BYTES // (1024 * 1024)
        return f"it is larger than Telegram's limit of {limit} MB for bots"


def file_of(message: FileMessage) -> Optional[UserFile]:
    """The message's photo (its largest size) or document; its caption (else `[photo]` /
    `[document]`) is the text."""
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        text = message.caption or PHOTO_TEXT
        return UserFile("image", largest.file_id, PHOTO_NAME, largest.file_size, text)
    if message.document:
        document = message.document
        kind = "image" if (document.mime_type or "").startswith("image/") else "file"
        name = document.file_name or "document"
        text = message.caption or DOCUMENT_TEXT
        return UserFile(kind, document.file_id, name, document.file_size, text)
    return None


# What Rasa's handler reads of an update ----------------------------------------------------


class _Chat(BaseModel):
    id: Union[StrictInt, StrictStr]


class _Location(BaseModel):
    longitude: float
    latitude: float


class _Message(BaseModel):
    chat: _Chat
    text: Optional[StrictStr] = None
    location: Optional[_Location] = None


class _CallbackQuery(BaseModel):
    message: Optional[_Message] = None
    data: Optional[StrictStr] = None


class _Update(BaseModel):
    """The parts of a Bot API `Update` that Rasa 3.6's `TelegramInput` reads, unchecked:
    it fails with a 500 on anything else (Telegram then retries the update)."""

    update_id: StrictInt
    message: Optional[_Message] = None
    edited_message: Optional[_Message] = None
    callback_query: Optional[_CallbackQuery] = None


def update_refusal(data: Any) -> Optional[Tuple[int, str]]:
    """None when Rasa's handler can read this webhook body; else the answer it gets
    instead: 400 for what is not an update, 200 ("success", as Rasa answers an update it
    ignores) for an update without a message Rasa reads (a channel post, an inline
    button's query)."""
    from aiogram.types import Update

    if not isinstance(data, dict):
        return 400, "not a Telegram update"
    try:
        update = _Update.parse_obj(data)
        Update(**data)  # what Rasa makes of it
    except (ValidationError, RecursionError, ValueError, TypeError, AttributeError):
        return 400, "not a Telegram update"
    query = update.callback_query
    if (query.message if query else update.edited_message or update.message) is None:
        return 200, "success"
    return None


class TelegramFile(BaseModel):
    """The part of the Bot API's `File` the download needs."""

    file_path: Optional[str] = None


class GetFileAnswer(BaseModel):
    """The Bot API's answer to `getFile`."""

    ok: bool
    result: Optional[TelegramFile] = None
    description: Optional[str] = None


class _RedactBotTokens(logging.Filter):
    """httpx logs each request's address; a Bot API address carries the bot token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if BOT_TOKEN_IN_URL.search(message):
            record.msg, record.args = BOT_TOKEN_IN_URL.sub("/bot<token>", message), ()
        return True


def _redact_bot_tokens() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactBotTokens) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactBotTokens())
