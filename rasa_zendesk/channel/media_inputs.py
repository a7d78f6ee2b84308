"""Rasa's Twilio and Telegram input channels, with the users' files they leave out.

Rasa 3.6's `TwilioInput` reads only `Body` (and a location) from Twilio's webhook: the media of
an MMS or WhatsApp message (`NumMedia`, `MediaUrl0`, `MediaContentType0`, ...) never reaches
the tracker, and a message with media but no text crashes it (Sanic's form leaves out the empty
`Body`, and the channel calls `.replace` on None: a 500 that Twilio retries and never
delivers). `TwilioMediaInput` is the same channel (same name, routes and output) that takes a
missing `Body` for empty and puts the media into the message metadata in the shape the relay
action reads (`rasa_zendesk.actions.attachments`). A media file of the channel's own account
goes in as a link the Zendesk channel serves (`attachment_links`): Twilio hands it out only
with the account's credentials, which stay in this server (`platforms.twilio.user_file`). In
credentials.yml:

    rasa_zendesk.channel.media_inputs.TwilioMediaInput:
      account_sid: ...
      auth_token: ...
      twilio_number: ...

Rasa 3.6's `TelegramInput` answers a photo or a document without passing any message on.
`TelegramMediaInput` (below) passes them on; see its docstring and `attachment_links`.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from pydantic import ValidationError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_zendesk import constants
from rasa_zendesk.channel import error_pages
from rasa_zendesk.channel.attachment_links import links_of
from rasa_zendesk.platforms import telegram, twilio
from rasa_zendesk.platforms.outputs import AgentOutput
from rasa_zendesk.settings import PlatformSettings, Sources

logger = logging.getLogger(__name__)


class TwilioMediaInput(TwilioInput):
    """Twilio SMS/MMS/WhatsApp, with each media's address in `metadata.attachments`."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        twilio_webhook = super().blueprint(on_new_message)
        twilio_webhook.listener("before_server_start")(_sturdy_error_pages)

        @twilio_webhook.middleware("request")
        async def empty_body(request: Request) -> None:
            """A media-only message: its empty `Body` is text "", not a crash."""
            if request.method == "POST" and request.form.get("Body") is None:
                request.form["Body"] = [""]

        return twilio_webhook

    def get_metadata(self, request: Request) -> Optional[Dict[str, Any]]:
        attachments = twilio.media_of(request.form)
        links = links_of(getattr(request.app.ctx, "input_channels", None) or [])
        for attachment in attachments:
            found = twilio.media_id(attachment["url"], self.account_sid)
            if found is None:
                continue  # not of this account: passed on as it is
            name = found.rsplit("/", 1)[-1]
            url = links.platform_link(twilio.NAME, found, name) if links else None
            if url is None:
                logger.warning(
                    "A Twilio user's media is passed on as Twilio's address: where the "
                    "account protects its media, the action server cannot fetch it without "
                    "a link of the rasa_zendesk.ZendeskInput channel (set its public_url)"
                )
                continue
            attachment.update(url=url, name=name)
        return {constants.USER_ATTACHMENTS_KEY: attachments} if attachments else None


async def _sturdy_error_pages(app: Sanic, _: Any) -> None:
    """Errors Sanic answers itself stay 4xx whatever the `Accept` header (`error_pages`)."""
    error_pages.sturdy(app)


# Telegram ----------------------------------------------------------------------------------

NOT_SET_UP = "this bot is not set up to pass files on from Telegram"


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
        # Telegram does not block, so its sends take no timeout; this input channel has no
        # ChannelConfig, so it reads the setting once here, at start, as the channel would.
        sending = PlatformSettings.read(Sources(where="the environment"))

        async def closing_aware(message: UserMessage) -> Any:
            """The bot's answers go through `AgentOutput`: the end of a handoff the user asked
            for (the end action's notice) takes the agent's reply keyboard away too."""
            message.output_channel = AgentOutput(message.output_channel, sending)
            return await on_new_message(message)

        telegram_webhook = super().blueprint(closing_aware)
        telegram_webhook.listener("before_server_start")(_sturdy_error_pages)

        @telegram_webhook.middleware("request")
        async def files_as_text(request: Request) -> Optional[HTTPResponse]:
            """Rasa's handler reads an update unchecked (a 500 that Telegram retries): what it
            cannot read is answered here (`telegram.update_refusal`). A button press is
            answered (`answerCallbackQuery`: Rasa's handler never does, and the user's app
            shows the button loading until then). Rasa passes on only a message with text:
            give a file one, and keep what the metadata gets for `get_metadata`."""
            if not request.path.endswith("/webhook"):
                return None
            if request.method != "POST":
                return response.text("only POST", status=405)
            update = request.json
            refused = telegram.update_refusal(update)
            if refused is not None:
                if refused[0] >= 400:
                    logger.warning("Telegram webhook from %s refused: %s", request.ip, refused[1])
                return response.text(refused[1], status=refused[0])
            query = update.get("callback_query")
            if isinstance(query, dict):
                await telegram.PLATFORM.answer_button(self, query.get("id"))
            message = update.get("message") if isinstance(update, dict) else None
            if not isinstance(message, dict) or message.get("text") is not None:
                return None
            try:
                found = telegram.file_of(telegram.FileMessage.parse_obj(message))
            except ValidationError:
                logger.warning("Telegram message with a malformed photo or document ignored")
                return None
            if found is None:
                return None
            message["text"] = found.text
            request.ctx.telegram_files = self._metadata_of(request, found)
            return None

        return telegram_webhook

    def get_metadata(self, request: Request) -> Optional[Dict[str, Any]]:
        return getattr(request.ctx, "telegram_files", None)

    def _metadata_of(self, request: Request, file: telegram.UserFile) -> Dict[str, Any]:
        """The file as an attachment (a link to it), or as refused with the reason."""
        refused = {"name": file.name, "reason": file.too_big}
        if file.too_big:
            return {constants.USER_ATTACHMENTS_REFUSED_KEY: [refused]}
        links = links_of(getattr(request.app.ctx, "input_channels", None) or [])
        if links is None:
            logger.warning(
                "A Telegram user's file cannot be passed on: add the rasa_zendesk.ZendeskInput "
                "channel (with public_url) to credentials.yml"
            )
        url = links.platform_link(telegram.NAME, file.file_id, file.name) if links else None
        if url is None:
            refused["reason"] = NOT_SET_UP
            return {constants.USER_ATTACHMENTS_REFUSED_KEY: [refused]}
        attachment = {"type": file.kind, "url": url, "name": file.name}
        return {constants.USER_ATTACHMENTS_KEY: [attachment]}
