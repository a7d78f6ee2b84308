"""Twilio (SMS, MMS, WhatsApp): Rasa's `twilio` channel (`TwilioInput`, output `TwilioOutput`).

- Where an agent's message goes: the sender id is the user's number (`From`), and
  `TwilioOutput` sends to it from the configured `twilio_number`. Its `async` methods send
  with blocking HTTP calls (`requests`): they run in a worker thread, so one SMS does not
  stall every other conversation, and its HTTP client gives up after `platform_send_timeout`
  (Twilio's default is never), so a hung API does not hold the thread for good.
- Rich messages: one text listing the choices and links (`title: url`); the image as an MMS
  picture with the words; a file, cards and a place as text with links.
- Typing: SMS has none.
- Users' files: Rasa 3.6's `TwilioInput` reads only `Body`;
  `rasa_zendesk.channel.media_inputs.TwilioMediaInput` adds the media of the webhook's form
  (`NumMedia`, `MediaUrl0`, `MediaContentType0`, ...) to the message metadata (`media_of`).
  Twilio hands a media file out only with the account's Basic auth (account SID and auth
  token) when the account protects its media (its "HTTP Basic Authentication for media"
  setting): the media of the bot's own account go out as links the Rasa server serves
  (`media_id`), which it fetches with the Twilio channel's own credentials from
  credentials.yml (`user_file`); they never reach the tracker, the logs or the action server.
"""

from __future__ import annotations

import base64
import logging
import re
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

from rasa_zendesk.platforms.base import FileUnavailable, Platform, channel_named, lines
from rasa_zendesk.platforms.rich import (
    PLAIN,
    PROMPT,
    Rich,
    actions_text,
    card_text,
    link_text,
    markdown_to,
    place_text,
)
from rasa_zendesk.settings import PlatformSettings, Sources

if TYPE_CHECKING:
    import httpx
    from rasa.core.channels.channel import InputChannel, OutputChannel
    from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

NAME = "twilio"
#: Twilio sends at most 10 media per message.
MAX_MEDIA = 10
#: The longest body of an SMS (Twilio sends it as up to 10 segments), and of a WhatsApp
#: message (a `whatsapp:` number).
SMS_CHARS = 1600
WHATSAPP_CHARS = 4096
WHATSAPP_PREFIX = "whatsapp:"


class Twilio(Platform):
    name = NAME
    output_class = "rasa.core.channels.twilio.TwilioOutput"
    blocking = True
    max_text = SMS_CHARS

    def text_limit(self, recipient_id: str) -> int:
        return WHATSAPP_CHARS if recipient_id.startswith(WHATSAPP_PREFIX) else SMS_CHARS

    def output(
        self, channel: InputChannel, tracker: Optional[DialogueStateTracker]
    ) -> Optional[OutputChannel]:
        output = super().output(channel, tracker)
        http = getattr(output, "http_client", None)  # TwilioOutput is Twilio's `Client`
        if http is not None and getattr(http, "timeout", 0) is None:
            http.timeout = PlatformSettings.read(Sources(where="the environment")).send_timeout
        return output

    async def send_rich(self, output: Any, recipient: str, rich: Rich) -> None:
        text = markdown_to(rich.text, PLAIN) if rich.text else None
        offers = rich.actions and not rich.cards
        body = lines(text or PROMPT, actions_text(rich.actions, PLAIN)) if offers else text
        if rich.image and len(body or "") <= self.text_limit(recipient):  # one MMS, with words
            await output.send_custom_json(
                recipient, {"media_url": [rich.image.url], "body": body or ""}
            )
        else:
            if body:  # in parts of what one message holds (`outputs.AgentOutput`)
                await output.send_text_message(recipient, body)
            if rich.image:
                await output.send_image_url(recipient, rich.image.url)
        rest = [
            link_text(rich.file.name, rich.file.url, PLAIN) if rich.file else None,
            *(card_text(card, PLAIN) for card in rich.cards),
            actions_text(rich.actions, PLAIN) if rich.cards and rich.actions else None,
            place_text(rich.place, PLAIN) if rich.place else None,
        ]
        for part in rest:
            if part:
                await output.send_text_message(recipient, part)

    async def user_file(
        self, input_channels: Sequence[Any], client: httpx.AsyncClient, file_id: str
    ) -> httpx.Request:
        """The media's request on Twilio's API with the account's Basic auth (httpx leaves
        the credentials out when Twilio redirects to where the bytes are)."""
        channel = channel_named(input_channels, NAME)
        sid = getattr(channel, "account_sid", None)
        token = getattr(channel, "auth_token", None)
        if not sid or not token or not MEDIA_ID.fullmatch(file_id):
            logger.warning("A Twilio media link was requested but no Twilio channel runs here")
            raise FileUnavailable(404, "no Twilio channel")
        auth = base64.b64encode(f"{sid}:{token}".encode()).decode("ascii")
        return client.build_request(
            "GET", f"{media_prefix(sid)}{file_id}", headers={"Authorization": f"Basic {auth}"}
        )


PLATFORM = Twilio()
#: Twilio's REST API (a test points it at its stand-in).
API_URL = "https://api.twilio.com"
#: A media file of a message, under its account (`Messages/MM.../Media/ME...`).
MEDIA_ID = re.compile(r"Messages/MM[0-9A-Za-z]{32}/Media/ME[0-9A-Za-z]{32}")


def media_prefix(account_sid: str) -> str:
    """Where the account's media are on Twilio's API (the media id follows)."""
    return f"{API_URL}/2010-04-01/Accounts/{account_sid}/"


def media_id(url: str, account_sid: Optional[str]) -> Optional[str]:
    """The media id of a media URL of the account `account_sid` (None for any other)."""
    if not account_sid or not url.startswith(media_prefix(account_sid)):
        return None
    found = url[len(media_prefix(account_sid)) :]
    return found if MEDIA_ID.fullmatch(found) else None


def media_of(form: Mapping[str, Any]) -> List[Dict[str, str]]:
    """The media of Twilio's webhook form, each `{"type": "image" | "file", "url"}` (the shape
    of `rasa_zendesk.actions.attachments`); `form.get` gives a field's first value."""
    count = form.get("NumMedia") or "0"
    # ASCII digits only: "²" is a digit to `str.isdigit` but not a number to `int`.
    number = int(count) if count.isascii() and count.isdigit() and len(count) <= 3 else 0
    attachments: List[Dict[str, str]] = []
    for index in range(min(number, MAX_MEDIA)):
        url = form.get(f"MediaUrl{index}")
        if not url:
            continue
        media_type = form.get(f"MediaContentType{index}") or ""
        kind = "image" if media_type.startswith("image/") else "file"
        attachments.append({"type": kind, "url": url})
    return attachments
