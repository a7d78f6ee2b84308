"""Rasa's Twilio and Telegram input channels, with the users' files they leave out.

Rasa 3.6's `TwilioInput` reads only `Body` (and a location) from Twilio's webhook: the media of
an MMS or WhatsApp message (`NumMedia`, `MediaUrl0`, `MediaContentType0`, ...) never reaches
the tracker, and a message with media but no text crashes it (Sanic's form leaves out the empty
`Body`, and the channel calls `.replace` on None: a 500 that Twilio retries and never
delivers). `TwilioMediaInput` is the same channel (same name, routes and output) that takes a
missing `Body` for empty and puts the media into the message metadata in the shape the relay
action reads (`rasa_zendesk.actions.attachments`). In credentials.yml:

    rasa_zendesk.channel.media_inputs.TwilioMediaInput:
      account_sid: ...
      auth_token: ...
      twilio_number: ...

Rasa 3.6's `TelegramInput` answers a photo or a document without passing any message on.
`TelegramMediaInput` (below) passes them on; see its docstring and `attachment_links`.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from pydantic import BaseModel, Extra, ValidationError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint
from sanic.request import Request

from rasa_zendesk.actions.summary import ATTACHMENTS_KEY
from rasa_zendesk.actions.user_files import REFUSED_KEY
from rasa_zendesk.channel.attachment_links import links_of

logger = logging.getLogger(__name__)

#: Twilio sends at most 10 media per message.
MAX_MEDIA = 10


class TwilioMediaInput(TwilioInput):
    """Twilio SMS/MMS/WhatsApp, with each media's address in `metadata.attachments`."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        twilio_webhook = super().blueprint(on_new_message)

        @twilio_webhook.middleware("request")
        async def empty_body(request: Request) -> None:
            """A media-only message: its empty `Body` is text "", not a crash."""
            if request.method == "POST" and request.form.get("Body") is None:
                request.form["Body"] = [""]

        return twilio_webhook

    def get_metadata(self, request: Request) -> Optional[Dict[str, Any]]:
        form = request.form
        count = form.get("NumMedia") or "0"
        attachments: List[Dict[str, str]] = []
        for index in range(min(int(count), MAX_MEDIA) if count.isdigit() else 0):
            url = form.get(f"MediaUrl{index}")
            if not url:
                continue
            media_type = form.get(f"MediaContentType{index}") or ""
            kind = "image" if media_type.startswith("image/") else "file"
            attachments.append({"type": kind, "url": url})
        return {ATTACHMENTS_KEY: attachments} if attachments else None


# Telegram ----------------------------------------------------------------------------------

#: The largest file the Bot API hands a bot (`getFile`); larger ones cannot be fetched.
TELEGRAM_MAX_FILE_BYTES = 20 * 1024 * 1024
#: The text of a photo or document without a caption (the bot and the agent see it).
PHOTO_TEXT = "[photo]"
DOCUMENT_TEXT = "[document]"
#: Telegram sends every photo as JPEG.
PHOTO_NAME = "photo.jpg"
NOT_SET_UP = "this bot is not set up to pass files on from Telegram"


class TelegramPhotoSize(BaseModel):
    """One size of a photo (Bot API `PhotoSize`)."""

    file_id: str
    width: int = 0
    height: int = 0
    file_size: Optional[int] = None

    class Config:
        extra = Extra.ignore


class TelegramDocument(BaseModel):
    """A general file (Bot API `Document`)."""

    file_id: str
    file_name: Optional[str] = None
    mime_type: Optional[str] = None
    file_size: Optional[int] = None

    class Config:
        extra = Extra.ignore


class TelegramFileMessage(BaseModel):
    """The parts of a Bot API `Message` with a photo or a document that this channel reads."""

    text: Optional[str] = None
    caption: Optional[str] = None
    photo: List[TelegramPhotoSize] = []
    document: Optional[TelegramDocument] = None

    class Config:
        extra = Extra.ignore


class TelegramMediaInput(TelegramInput):
    """Telegram, with a user's photo (its largest size) or document passed on: the caption
    (else `[photo]` / `[document]`) as the text, the file in `metadata.attachments` as a link
    the Zendesk channel serves (Telegram's address carries the bot token). Same name, routes
    and output as Rasa's channel. In credentials.yml, next to `rasa_zendesk.ZendeskInput`
    (whose `public_url` the links need):

        rasa_zendesk.channel.media_inputs.TelegramMediaInput:
          access_token: ...
          verify: ...
          webhook_url: ...
    """

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = super().blueprint(on_new_message)

        @telegram_webhook.middleware("request")
        async def files_as_text(request: Request) -> None:
            """Rasa's handler passes on only a message with text: give a file one, and keep
            what the metadata gets for `get_metadata`."""
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return
            update = request.json
            message = update.get("message") if isinstance(update, dict) else None
            if not isinstance(message, dict) or message.get("text") is not None:
                return
            try:
                parsed = TelegramFileMessage.parse_obj(message)
            except ValidationError:
                logger.warning("Telegram message with a malformed photo or document ignored")
                return
            found = _telegram_file(parsed)
            if found is None:
                return
            message["text"] = parsed.caption or (PHOTO_TEXT if parsed.photo else DOCUMENT_TEXT)
            request.ctx.telegram_files = self._metadata_of(request, *found)

        return telegram_webhook

    def get_metadata(self, request: Request) -> Optional[Dict[str, Any]]:
        return getattr(request.ctx, "telegram_files", None)

    def _metadata_of(
        self, request: Request, kind: str, file_id: str, name: str, size: Optional[int]
    ) -> Dict[str, Any]:
        """The file as an attachment (a link to it), or as refused with the reason."""
        if size is not None and size > TELEGRAM_MAX_FILE_BYTES:
            limit = TELEGRAM_MAX_FILE_BYTES // (1024 * 1024)
            reason = f"it is larger than Telegram's limit of {limit} MB for bots"
            return {REFUSED_KEY: [{"name": name, "reason": reason}]}
        links = links_of(getattr(request.app.ctx, "input_channels", None) or [])
        if links is None:
            logger.warning(
                "A Telegram user's file cannot be passed on: add the rasa_zendesk.ZendeskInput "
                "channel (with public_url) to credentials.yml"
            )
        url = links.telegram_link(file_id, name) if links else None
        if url is None:
            return {REFUSED_KEY: [{"name": name, "reason": NOT_SET_UP}]}
        return {ATTACHMENTS_KEY: [{"type": kind, "url": url, "name": name}]}


def _telegram_file(message: TelegramFileMessage) -> Optional[Tuple[str, str, str, Optional[int]]]:
    """(kind, file id, name, size) of the message's photo (its largest size) or document."""
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return "image", largest.file_id, PHOTO_NAME, largest.file_size
    if message.document:
        document = message.document
        media_type = document.mime_type or ""
        kind = "image" if media_type.startswith("image/") else "file"
        return kind, document.file_id, document.file_name or "document", document.file_size
    return None
