"""Rasa's Twilio input channel, with the MMS media it leaves out.

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
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint
from sanic.request import Request

from rasa_zendesk.actions.summary import ATTACHMENTS_KEY

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
