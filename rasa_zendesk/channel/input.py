"""`rasa_zendesk.ZendeskInput`: the Rasa input channel that receives Zendesk (SunCo) webhooks.

Rasa mounts it at `/webhooks/zendesk/`: `POST /webhooks/zendesk/webhook` takes the SunCo v2
webhook envelope, `POST /webhooks/zendesk/ticket_status` Zendesk's ticket events (see
`tickets`; 404 unless its secret or API key is configured), `GET /webhooks/zendesk/health`
answers `{"status": "ok"}`, `GET /webhooks/zendesk/attachments/<token>` serves a private
Zendesk attachment through a signed, expiring link (see `attachment_links`),
`GET /webhooks/zendesk/metrics` the channel's Prometheus metrics (see
`rasa_zendesk.monitoring.metrics`; 404 unless `metrics` is on, 401 without `metrics_token` as
`Authorization: Bearer ...` or `X-API-Key`; never the webhook secret). Each
named connector has its own pair, `/webhooks/zendesk/<connector>/webhook` and
`/webhooks/zendesk/<connector>/ticket_status`, verified with its own secrets; the unnamed
routes are the default connector's.

The webhook is answered:
- 401 when `X-API-Key` is missing or is not the webhook secret (compared in constant time,
  before the body is read);
- 413 when the body is larger than `max_body_bytes`;
- 400 when the body is not a JSON object with an `events` list, or when a known event lacks
  what its type must carry (the valid events of the same post are still applied);
- 500 when an event could not be applied (tracker store, lock store, output channel or SunCo
  failed), naming it (`failed`): the other events of the post are applied all the same, except
  the later ones of the same conversation, held back to keep its order; SunCo retries the
  post, and the events already applied are skipped on the retry;
- 200 otherwise, with how many events were applied, ignored and refused. Unknown event types
  are ignored, since a 4xx would only make SunCo drop them. An event is refused (logged,
  counted, never applied) unless a handoff record of the Rasa user it names, current or past,
  has its conversation on this route's connector: the conversation's metadata only says whose
  records to read, since anyone who can create a conversation in the app can write it.

The ticket-status webhook is answered the same way, except that it authenticates with
Zendesk's signature or the configured API key (401 when neither is right) and its body is one
event, not an envelope.

Events are applied in the order of the post, one at a time; one conversation's failure
never holds back another's. No webhook ever becomes a user
message: the channel does not call Rasa's `on_new_message`.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple

from pydantic import ValidationError
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_zendesk.channel import error_pages
from rasa_zendesk.channel.attachment_links import ROUTE as ATTACHMENTS_ROUTE
from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.channel.conversations import Directories
from rasa_zendesk.channel.processor import WebhookProcessor
from rasa_zendesk.channel.timers.loop import TimerLoop
from rasa_zendesk.channel.write_path import EventResult, RasaContext
from rasa_zendesk.monitoring.metrics import ChannelMetrics, outcome_label
from rasa_zendesk.platforms.outputs import close_outputs
from rasa_zendesk.secret_compare import same_secret
from rasa_zendesk.settings import ZendeskSettings
from rasa_zendesk.sunco.client import SunCoClient
from rasa_zendesk.sunco.webhooks import MalformedEvent, WebhookEnvelope
from rasa_zendesk.tickets import auth as ticket_auth
from rasa_zendesk.tickets.events import MalformedTicketEvent, TicketEvent, status_change

logger = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-Key"
#: The `route` label of the webhook metrics.
WEBHOOK_ROUTE = "webhook"
TICKET_ROUTE = "ticket_status"


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
        self.metrics = ChannelMetrics()
        self.directories = Directories(
            config.connectors, sunco=sunco, observer_for=self.metrics.sunco_observer
        )
        self.processor = WebhookProcessor(
            config, self.directories, on_refused=self.metrics.delivery_refused
        )
        self.timers = TimerLoop(self.processor, observe=self.metrics.handoffs.observe)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes for Sanic; `on_new_message` is never called (see the module docstring)."""
        zendesk = Blueprint("zendesk_webhook")

        @zendesk.get("/")
        @zendesk.get("/health")
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @zendesk.get("/metrics")
        async def metrics(request: Request) -> HTTPResponse:
            return self.handle_metrics(request)

        @zendesk.route(f"{ATTACHMENTS_ROUTE}/<token>", methods=["GET", "HEAD"])
        @zendesk.route(f"{ATTACHMENTS_ROUTE}/<token>/<_name>", methods=["GET", "HEAD"])
        async def attachment(request: Request, token: str, _name: str = "") -> Any:
            return await self.processor.links.serve(request, token)

        for prefix, connector in self._routes():
            self._add_routes(zendesk, prefix, connector)

        @zendesk.listener("before_server_start")
        async def sturdy_error_pages(app: Sanic, __: Any) -> None:
            error_pages.sturdy(app)  # a malformed Accept header never turns a 4xx into a 500

        @zendesk.listener("after_server_start")
        async def start_timers(app: Sanic, __: Any) -> None:
            self.check_routing(getattr(app.ctx, "agent", None))
            self.timers.start(app)

        @zendesk.listener("before_server_stop")
        async def stop_timers(_: Sanic, __: Any) -> None:
            await self.timers.stop()

        @zendesk.listener("after_server_stop")
        async def close_clients(app: Sanic, __: Any) -> None:
            await self.aclose()
            await close_outputs(getattr(app.ctx, "input_channels", None) or [])

        return zendesk

    def check_routing(self, agent: Any) -> None:
        """The slots each connector's routing reads are in the bot's domain, once it is
        loaded (`SettingsError` naming them stops the start; no domain: nothing to check)."""
        domain = getattr(agent, "domain", None)
        if domain is None:
            return
        names = [slot.name for slot in domain.slots]
        for connector in self.config.connectors.by_name.values():
            connector.routing.check_slots(names, f"the bot's domain (connector {connector.name})")

    def _routes(self) -> List[Tuple[str, ZendeskSettings]]:
        """The unnamed routes for the default connector, then a pair per named connector."""
        connectors = self.config.connectors
        routes = [("", connectors.default)]
        if connectors.named:
            routes += [(f"/{name}", settings) for name, settings in connectors.by_name.items()]
        return routes

    def _add_routes(self, blueprint: Blueprint, prefix: str, connector: ZendeskSettings) -> None:
        suffix = f"_{connector.name}" if prefix else ""

        @blueprint.post(f"{prefix}/webhook", stream=True, name=f"webhook{suffix}")
        async def webhook(request: Request) -> HTTPResponse:
            answer = await self.handle_webhook(request, connector)
            self.metrics.webhook_request(WEBHOOK_ROUTE, answer.status)
            return answer

        @blueprint.post(f"{prefix}/ticket_status", stream=True, name=f"ticket_status{suffix}")
        async def ticket_status(request: Request) -> HTTPResponse:
            answer = await self.handle_ticket_status(request, connector)
            self.metrics.webhook_request(TICKET_ROUTE, answer.status)
            return answer

    def handle_metrics(self, request: Request) -> HTTPResponse:
        """The metrics in Prometheus' text format, to whoever has the token."""
        if not self.config.metrics:
            return _error(404, "metrics are off: set metrics: true (ZENDESK_METRICS) to serve them")
        token = self.config.metrics_token
        authorization = request.headers.get("Authorization") or ""
        scheme, _, bearer = authorization.partition(" ")
        given = (
            bearer.strip() if scheme.lower() == "bearer" else request.headers.get(API_KEY_HEADER)
        )
        if token is None or not same_secret(given, token):
            logger.warning(
                "Zendesk metrics request from %s rejected: missing or wrong token", request.ip
            )
            return _error(401, "missing or wrong Authorization: Bearer (or X-API-Key) header")
        body, content_type = self.metrics.exposition()
        return response.raw(body, content_type=content_type)

    async def aclose(self) -> None:
        await self.directories.aclose()
        await self.processor.links.aclose()

    async def handle_webhook(
        self, request: Request, connector: Optional[ZendeskSettings] = None
    ) -> HTTPResponse:
        """SunCo's webhook of a connector (None: the default one)."""
        connector = connector or self.config.settings
        _cap_stream(request, self.config.max_body_bytes)
        if not same_secret(request.headers.get(API_KEY_HEADER), connector.webhook_secret):
            logger.warning(
                "Zendesk webhook from %s rejected: missing or wrong %s header",
                request.ip,
                API_KEY_HEADER,
            )
            return _error(401, f"missing or wrong {API_KEY_HEADER} header")
        body, failed = await self._body(request, "Zendesk webhook")
        if failed is not None:
            return failed
        try:
            envelope = parse_envelope(body)
        except BadWebhook as error:
            logger.warning("Zendesk webhook from %s rejected: %s", request.ip, error)
            return _error(400, str(error))
        rasa, failed = self._rasa(request)
        if failed is not None:
            return failed
        return await self._apply_all(envelope, rasa, connector.name)

    async def handle_ticket_status(
        self, request: Request, connector: Optional[ZendeskSettings] = None
    ) -> HTTPResponse:
        """Zendesk's ticket-status webhook of a connector (see the module docstring)."""
        connector = connector or self.config.settings
        if not connector.ticket_webhook_enabled:
            return _error(
                404,
                "the ticket-status webhook is off: set ticket_webhook_secret or "
                "ticket_webhook_api_key to turn it on",
            )
        _cap_stream(request, self.config.max_body_bytes)
        body, failed = await self._body(request, "Zendesk ticket webhook")
        if failed is not None:
            return failed
        refused = ticket_auth.refusal(connector, request.headers, body)
        if refused is not None:
            logger.warning("Zendesk ticket webhook from %s rejected: %s", request.ip, refused)
            return _error(401, refused)
        try:
            event = parse_ticket_event(body)
            change = status_change(event)
        except (BadWebhook, MalformedTicketEvent) as error:
            logger.warning("Zendesk ticket webhook from %s rejected: %s", request.ip, error)
            return _error(400, str(error))
        if change is None:
            logger.info("Zendesk ticket webhook event %s (%s) ignored", event.id, event.type)
            return _ok(**self._counts(TICKET_ROUTE, event.type, [EventResult(False, "ignored")]))
        rasa, failed = self._rasa(request)
        if failed is not None:
            return failed
        try:
            outcome = await self.processor.ticket_status(change, rasa, connector.name)
        except Exception:
            logger.exception(
                "Zendesk ticket event %s could not be applied; Zendesk will retry", event.id
            )
            self.metrics.webhook_event(TICKET_ROUTE, event.type, "failed")
            return _error(500, f"event {event.id} could not be applied; retry later")
        logger.info("Zendesk ticket event %s: %s", event.id, outcome.note)
        return _ok(**self._counts(TICKET_ROUTE, event.type, [outcome]))

    def _counts(self, route: str, event_type: str, outcomes: List[EventResult]) -> Dict[str, int]:
        """`_counts` of one event type's outcomes, counted in the metrics too."""
        for outcome in outcomes:
            label = outcome_label(outcome.applied, outcome.refused, outcome.note)
            self.metrics.webhook_event(route, event_type, label)
        return _counts(outcomes)

    async def _body(self, request: Request, what: str) -> Tuple[bytes, Optional[HTTPResponse]]:
        cap = self.config.max_body_bytes
        body = await _read_body(request, cap)
        if body is None:
            logger.warning("%s from %s rejected: body over %d bytes", what, request.ip, cap)
            return b"", _error(413, f"body larger than {cap} bytes")
        return body, None

    def _rasa(self, request: Request) -> Tuple[Any, Optional[HTTPResponse]]:
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None:
            logger.warning("Zendesk webhook answered 503: the bot is not loaded yet")
            return None, _error(503, "the bot is not loaded yet; retry later")
        channels = getattr(request.app.ctx, "input_channels", None) or []
        return self.processor.context(agent, channels), None

    async def _apply_all(
        self, envelope: WebhookEnvelope, rasa: RasaContext, connector: str
    ) -> HTTPResponse:
        """Apply every event of the post, each on its own: one that fails holds back only the
        later events of its conversation (they would be out of order), and the answer is 500
        so SunCo retries the post; what was applied is skipped then (dedupe)."""
        outcomes: List[EventResult] = []
        malformed: List[MalformedEvent] = []
        failed: List[str] = []
        stalled: Set[Optional[str]] = set()  # conversations with an event that failed
        for event in envelope.parse_events():
            if isinstance(event, MalformedEvent):
                logger.warning("Zendesk webhook: %s", event)
                self.metrics.webhook_event(WEBHOOK_ROUTE, event.event_type, "malformed")
                malformed.append(event)
                continue
            conversation_id = event.conversation.id if event.conversation else None
            if conversation_id in stalled:
                logger.warning(
                    "Zendesk webhook event %s (%s) held back behind a failed event of "
                    "conversation %s; SunCo will retry it",
                    event.id,
                    event.type,
                    conversation_id,
                )
                self.metrics.webhook_event(WEBHOOK_ROUTE, event.type, "held")
                failed.append(event.id)
                continue
            try:
                outcome = await self.processor.apply(event, rasa, connector)
            except Exception:
                self.metrics.webhook_event(WEBHOOK_ROUTE, event.type, "failed")
                logger.exception(
                    "Zendesk webhook event %s (%s) could not be applied; SunCo will retry",
                    event.id,
                    event.type,
                )
                stalled.add(conversation_id)
                failed.append(event.id)
                continue
            logger.debug("Zendesk webhook event %s (%s): %s", event.id, event.type, outcome.note)
            self._counts(WEBHOOK_ROUTE, event.type, [outcome])
            outcomes.append(outcome)
        if failed:
            return _error(
                500,
                f"{_events(failed)} could not be applied; retry later",
                **_counts(outcomes),
                failed=failed,
            )
        if malformed:
            return _error(
                400,
                "; ".join(str(error) for error in malformed),
                **_counts(outcomes),
                malformed=[error.event_id for error in malformed],
            )
        return _ok(**_counts(outcomes))


def _events(ids: List[str]) -> str:
    """`event <id>`, or `events <id>, <id>`, for an answer."""
    return f"event {ids[0]}" if len(ids) == 1 else "events " + ", ".join(ids)


def parse_envelope(body: bytes) -> WebhookEnvelope:
    """The envelope of a webhook body; raises `BadWebhook` saying what is wrong."""
    data = _json_object(body)
    if not isinstance(data.get("events"), list):
        raise BadWebhook("body has no 'events' list")
    try:
        return WebhookEnvelope.parse_obj(data)
    except (ValidationError, RecursionError):
        raise BadWebhook("body is not a SunCo webhook envelope (events must be objects)") from None


def parse_ticket_event(body: bytes) -> TicketEvent:
    """The Zendesk event of a ticket webhook body; raises `BadWebhook` saying what is wrong."""
    data = _json_object(body)
    try:
        return TicketEvent.parse_obj(data)
    except (ValidationError, RecursionError):
        raise BadWebhook("body is not a Zendesk event (it needs an id and a type)") from None


def _json_object(body: bytes) -> Dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadWebhook("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadWebhook("body is not a JSON object")
    return data


def _cap_stream(request: Request, cap: int) -> None:
    """Bounds what Sanic reads (and drains after an early answer) for this request."""
    if request.stream is not None:
        request.stream.request_max_size = min(request.stream.request_max_size, cap)


def _counts(outcomes: List[EventResult]) -> Dict[str, int]:
    """How many events were applied and ignored, and refused when any were."""
    applied = sum(1 for outcome in outcomes if outcome.applied)
    refused = sum(1 for outcome in outcomes if outcome.refused)
    counts = {"processed": applied, "ignored": len(outcomes) - applied - refused}
    return {**counts, "refused": refused} if refused else counts


def _ok(**counts: int) -> HTTPResponse:
    return response.json({"status": "ok", **counts})


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
