"""Twilio (SMS, MMS, WhatsApp): Rasa's `twilio` channel (`TwilioInput`, output `TwilioOutput`).

- Where an agent's message goes: the sender id is the user's number (`From`), and
  `TwilioOutput` sends to it from the configured `twilio_number`. Its `async` methods send
  with blocking HTTP calls (`requests`): they run in a worker thread, so one SMS does not
  stall every other conversation, and its HTTP client gives up after `platform_send_timeout`
  (Twilio's default is never), so a hung API does not hold the thread for good.
- Rich messages: one text listing the choices and links (`title: url`); the image as an MMS
  picture with the words; a file, cards and a place as text with links.
- Outcome: Rasa's `TwilioOutput` logs a `TwilioRestException` and returns, so a refused SMS
  looked sent; the output channel here is its subclass that sends the same request once and
  lets the error through, classified by Twilio's error code (`refusal`): an invalid,
  unreachable or unsubscribed number, or WhatsApp's window, is refused for good; anything
  else (auth, 429, 5xx, no answer) failed for now.
- WhatsApp (`whatsapp:` numbers, Twilio's WhatsApp sender as `twilio_number`): free-form
  messages only within 24 hours of the user's last message; later ones are refused before
  they are sent (Twilio would fail them with 63016). An agent's file goes as media.
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
import functools
import logging
import re
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

from rasa_zendesk import clock
from rasa_zendesk.platforms import outcome
from rasa_zendesk.platforms.base import (
    FileUnavailable,
    Platform,
    channel_named,
    last_user_message_at,
    lines,
)
from rasa_zendesk.platforms.outcome import Refusal, Refused
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

if TYPE_CHECKING:
    import httpx
    from rasa.core.channels.channel import InputChannel, OutputChannel
    from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

NAME = "twilio"
#: Twilio sends at most 10 media per message.
MAX_MEDIA = 10
#: The prefix of a WhatsApp address in Twilio's `To` and `From`.
WHATSAPP = "whatsapp:"
#: WhatsApp's customer service window: free-form messages this long after the user's last one.
WHATSAPP_WINDOW_SECONDS = 24 * 3600
#: Twilio's error codes of a send refused for good (twilio.com/docs/api/errors/<code>).
REFUSED_CODES = {
    21211: outcome.UNREACHABLE,  # the 'To' number is not a valid phone number
    21612: outcome.UNREACHABLE,  # the 'To' number cannot be reached from the 'From' number
    21614: outcome.UNREACHABLE,  # the 'To' number is not a valid mobile number
    21610: outcome.UNSUBSCRIBED,  # the recipient replied STOP
    21617: outcome.REJECTED,  # the body exceeds 1,600 characters
    63016: outcome.WINDOW_24H,  # a free-form WhatsApp message outside the 24-hour window
}
#: The longest body of an SMS (Twilio sends it as up to 10 segments), and of a WhatsApp
#: message (a `whatsapp:` number).
SMS_CHARS = 1600
WHATSAPP_CHARS = 4096


class Twilio(Platform):
    name = NAME
    output_class = "rasa.core.channels.twilio.TwilioOutput"
    blocking = True
    max_text = SMS_CHARS

    def text_limit(self, recipient_id: str) -> int:
        return WHATSAPP_CHARS if recipient_id.startswith(WHATSAPP) else SMS_CHARS

    def output(
        self, channel: InputChannel, tracker: Optional[DialogueStateTracker]
    ) -> Optional[OutputChannel]:
        sid, token = getattr(channel, "account_sid", None), getattr(channel, "auth_token", None)
        if not sid or not token:
            return super().output(channel, tracker)
        output = _checked_output()(sid, token, getattr(channel, "twilio_number", None))
        output.user_wrote_at = last_user_message_at(tracker)
        return output

    def bound(self, output: OutputChannel, seconds: int) -> None:
        http = getattr(output, "http_client", None)  # TwilioOutput is Twilio's `Client`
        if http is not None and getattr(http, "timeout", 0) is None:
            http.timeout = seconds

    def refusal(self, error: BaseException, recipient_id: str) -> Optional[Refusal]:
        from twilio.base.exceptions import TwilioRestException

        if not isinstance(error, TwilioRestException):
            return None
        cause = REFUSED_CODES.get(error.code or 0)
        if cause is None:
            return None
        return Refusal(_platform_of(recipient_id), cause, f"Twilio error {error.code}: {error.msg}")

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
        file_as_media = rich.file is not None and recipient.startswith(WHATSAPP)
        if rich.file and file_as_media:  # WhatsApp shows a document; MMS would not
            await output.send_custom_json(
                recipient, {"media_url": [rich.file.url], "body": rich.file.name}
            )
        rest = [
            link_text(rich.file.name, rich.file.url, PLAIN)
            if rich.file and not file_as_media
            else None,
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


def _platform_of(recipient_id: str) -> str:
    return "whatsapp" if recipient_id.startswith(WHATSAPP) else NAME


@functools.lru_cache(maxsize=None)
def _checked_output() -> Any:
    """Rasa's `TwilioOutput`, each message created once with its error let through (Rasa's
    logs it and returns; its retry loop stops at the first answer anyway)."""
    from rasa.core.channels.twilio import TwilioOutput

    class CheckedTwilioOutput(TwilioOutput):
        #: When the user last wrote (epoch seconds; None: not known), for WhatsApp's window.
        user_wrote_at: Optional[float] = None

        async def _send_message(self, message_data: Dict[str, Any]) -> Any:
            to = str(message_data.get("to") or "")
            since = None if self.user_wrote_at is None else clock.now() - self.user_wrote_at
            if to.startswith(WHATSAPP) and since is not None and since > WHATSAPP_WINDOW_SECONDS:
                hours = int(since // 3600)
                detail = f"the user last wrote {hours} hours ago; no template is configured"
                raise Refused(Refusal("whatsapp", outcome.WINDOW_24H, detail))
            return self.messages.create(**message_data)

    return CheckedTwilioOutput


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
