"""`rasa_zendesk.ZendeskInput`: the Rasa input channel that receives Zendesk (SunCo) webhooks.

Rasa mounts it at `/webhooks/zendesk/`: `POST /webhooks/zendesk/webhook` takes the SunCo v2
webhook envelope, `GET /webhooks/zendesk/health` answers `{"status": "ok"}`.

The webhook is answered:
- 401 when `X-API-Key` is missing or is not the webhook secret (compared in constant time,
  before the body is read);
- 413 when the body is larger than `max_body_bytes`;
- 400 when the body is not a JSON object with an `events` list, or when a known event lacks
  what its type must carry (the valid events of the same post are still applied);
- 500 when an event could not be applied (tracker store, lock store, output channel or SunCo
  failed): SunCo retries, and the events already applied are skipped on the retry;
- 200 otherwise, with how many events were applied and how many ignored. Unknown event types
  are ignored, since a 4xx would only make SunCo drop them.

Events are applied in the order of the post, one at a time. No webhook ever becomes a user
message: the channel does not call Rasa's `on_new_message`.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

from pydantic import ValidationError
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.channel.conversations import ConversationDirectory
from rasa_zendesk.channel.outputs import close_outputs
from rasa_zendesk.channel.processor import RasaContext, WebhookProcessor
from rasa_zendesk.channel.timers.loop import TimerLoop
from rasa_zendesk.sunco.client import SunCoClient
from rasa_zendesk.sunco.webhooks import MalformedEvent, WebhookEnvelope

logger = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-Key"


class BadWebhook(ValueError):
    """The body is not a webhook envelope; the message says why (and never echoes the body)."""


class ZendeskInput(InputChannel):
    """Relays Zendesk agents' messages to the user's own channel and ends handoffs."""

    @classmethod
    def name(cls) -> str:
        return "zendesk"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Build from credentials.yml; raises `SettingsError` naming any missing setting."""
        return cls(ChannelConfig.from_credentials(credentials))

    def __init__(self, config: ChannelConfig, sunco: Optional[SunCoClient] = None) -> None:
        self.config = config
        self.directory = ConversationDirectory(config.settings, sunco=sunco)
        self.processor = WebhookProcessor(config, self.directory)
        self.timers = TimerLoop(self.processor)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes for Sanic; `on_new_message` is never called (see the module docstring)."""
        zendesk = Blueprint("zendesk_webhook")

        @zendesk.get("/")
        @zendesk.get("/health")
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @zendesk.post("/webhook", stream=True)
        async def webhook(request: Request) -> HTTPResponse:
            return await self.handle_webhook(request)

        @zendesk.listener("after_server_start")
        async def start_timers(app: Sanic, __: Any) -> None:
            self.timers.start(app)

        @zendesk.listener("before_server_stop")
        async def stop_timers(_: Sanic, __: Any) -> None:
            await self.timers.stop()

        @zendesk.listener("after_server_stop")
        async def close_clients(app: Sanic, __: Any) -> None:
            await self.aclose()
            await close_outputs(getattr(app.ctx, "input_channels", None) or [])

        return zendesk

    async def aclose(self) -> None:
        await self.directory.aclose()

    async def handle_webhook(self, request: Request) -> HTTPResponse:
        cap = self.config.max_body_bytes
        if request.stream is not None:
            # Bounds what Sanic reads (and drains after an early answer) for this request.
            request.stream.request_max_size = min(request.stream.request_max_size, cap)
        if not self._authorized(request.headers.get(API_KEY_HEADER)):
            logger.warning(
                "Zendesk webhook from %s rejected: missing or wrong %s header",
                request.ip,
                API_KEY_HEADER,
            )
            return _error(401, f"missing or wrong {API_KEY_HEADER} header")
        body = await _read_body(request, cap)
        if body is None:
            logger.warning("Zendesk webhook from %s rejected: body over %d bytes", request.ip, cap)
            return _error(413, f"body larger than {cap} bytes")
        try:
            envelope = parse_envelope(body)
        except BadWebhook as error:
            logger.warning("Zendesk webhook from %s rejected: %s", request.ip, error)
            return _error(400, str(error))

        agent = getattr(request.app.ctx, "agent", None)
        if agent is None:
            logger.warning("Zendesk webhook answered 503: the bot is not loaded yet")
            return _error(503, "the bot is not loaded yet; retry later")
        rasa = self.processor.context(agent, getattr(request.app.ctx, "input_channels", None) or [])
        return await self._apply_all(envelope, rasa)

    async def _apply_all(self, envelope: WebhookEnvelope, rasa: RasaContext) -> HTTPResponse:
        applied, ignored = 0, 0
        malformed: List[MalformedEvent] = []
        for event in envelope.parse_events():
            if isinstance(event, MalformedEvent):
                logger.warning("Zendesk webhook: %s", event)
                malformed.append(event)
                continue
            try:
                outcome = await self.processor.apply(event, rasa)
            except Exception:
                logger.exception(
                    "Zendesk webhook event %s (%s) could not be applied; SunCo will retry",
                    event.id,
                    event.type,
                )
                # Later events wait for the retry too, so a conversation's order is kept.
                return _error(
                    500,
                    f"event {event.id} could not be applied; retry later",
                    processed=applied,
                    ignored=ignored,
                )
            logger.debug("Zendesk webhook event %s (%s): %s", event.id, event.type, outcome.note)
            applied, ignored = applied + outcome.applied, ignored + (not outcome.applied)
        if malformed:
            return _error(
                400,
                "; ".join(str(error) for error in malformed),
                processed=applied,
                ignored=ignored,
                malformed=[error.event_id for error in malformed],
            )
        return response.json({"status": "ok", "processed": applied, "ignored": ignored})

    def _authorized(self, given: Optional[str]) -> bool:
        if not given:
            return False
        return hmac.compare_digest(
            given.encode("utf-8"), self.config.settings.webhook_secret.encode("utf-8")
        )


def parse_envelope(body: bytes) -> WebhookEnvelope:
    """The envelope of a webhook body; raises `BadWebhook` saying what is wrong."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadWebhook("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadWebhook("body is not a JSON object")
    if not isinstance(data.get("events"), list):
        raise BadWebhook("body has no 'events' list")
    try:
        return WebhookEnvelope.parse_obj(data)
    except (ValidationError, RecursionError):
        raise BadWebhook("body is not a SunCo webhook envelope (events must be objects)") from None


async def _read_body(request: Request, cap: int) -> Optional[bytes]:
    """The body, or None when it is larger than `cap` bytes (told or found while reading)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        return None
    if request.stream is None:
        return request.body if len(request.body) <= cap else None
    chunks: List[bytes] = []
    size = 0
    try:
        async for chunk in request.stream:
            size += len(chunk)
            if size > cap:
                return None
            chunks.append(chunk)
    except PayloadTooLarge:
        return None
    return b"".join(chunks)


def _error(status: int, message: str, **extra: Any) -> HTTPResponse:
    return response.json({"status": "error", "error": message, **extra}, status=status)
