"""The `/_emulator/` JSON control API (no auth): what tests and the agent console use.

Read back state, requests and webhook deliveries; act as the agent (reply, type, solve);
configure webhooks and make their delivery unkind; inject faults and latency; reset.

With several apps: a conversation's routes find its app by the conversation id; app settings
(webhook config and modes, faults, latency, requests) take `?app=<appId>` (default: the
default app); views, delivery lists, waits and reset cover every app unless `?app=` names one.
Webhook routes take `?kind=sunco` (default) or `?kind=ticket` (Zendesk's ticket webhooks).
"""

from typing import Any, Dict, List, Literal, Optional, Tuple

from aiohttp import web
from pydantic import StrictBool, StrictStr, confloat, conint, constr, root_validator, validator

from .bodies import Body, check_uri, parse_body
from .delivery_modes import DeliveryModeRequest
from .engine import Emulator, agent_queue, user_display_name
from .errors import ApiError, bad_request
from .faults import FaultRequest
from .httputil import public_base, read_json
from .registry import registry
from .samples import samples
from .store import Conversation
from .webhook_formats import SUNCO
from .webhooks import Delivery, WebhookSender

PREFIX = "/_emulator"
AgentName = Optional[constr(strict=True, min_length=1, max_length=100)]
#: How Agent Workspace gives a conversation back (the switchboard event it sends).
HandbackKind = Literal["releaseControl", "passControl"]


class AgentMessageBody(Body):
    type: Literal["text", "image", "file"] = "text"
    text: Optional[constr(strict=True, min_length=1, max_length=4096)] = None
    mediaUrl: Optional[constr(strict=True, min_length=1)] = None
    altText: Optional[constr(strict=True, max_length=128)] = None
    agentName: AgentName = None

    @root_validator(skip_on_failure=True)
    def _complete(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values.get("type") == "text" and not values.get("text"):
            raise ValueError("a text message needs text")
        if values.get("type") != "text" and not values.get("mediaUrl"):
            raise ValueError("an image or file message needs mediaUrl")
        return values


class TypingBody(Body):
    typing: StrictBool
    agentName: AgentName = None


class SolveBody(Body):
    handback: HandbackKind = "releaseControl"
    #: Why Agent Workspace gives the conversation back: the ticket was closed, or the agent
    #: moved the conversation to email (the ticket stays open for it).
    reason: Literal["ticketClosed", "transferToEmail"] = "ticketClosed"


class WebhookConfigBody(Body):
    urls: Optional[List[StrictStr]] = None
    url: Optional[StrictStr] = None
    secret: Optional[constr(strict=True, min_length=1)] = None

    @validator("url", allow_reuse=True)
    def _url(cls, value: Optional[str]) -> Optional[str]:
        return check_uri(value)

    @validator("urls", each_item=True, allow_reuse=True)
    def _urls(cls, value: str) -> str:
        return check_uri(value)  # type: ignore[return-value]


class LatencyBody(Body):
    ms: conint(strict=True, ge=0, le=600000)


class WaitBody(Body):
    timeout: confloat(gt=0, le=300) = 10.0


def _emulator(request: web.Request) -> Emulator:
    """The app of an app-level call: `?app=`, else the default app."""
    return registry(request).app_of(request)


def _conversation(request: web.Request) -> Tuple[Emulator, Conversation]:
    """The conversation of the path, and its app."""
    return registry(request).conversation(request.match_info["conversationId"])


def _sender(request: web.Request, emulator: Emulator) -> WebhookSender:
    """The sender of `?kind=` (sunco by default, or ticket)."""
    kind = request.query.get("kind", SUNCO)
    sender = emulator.senders.get(kind)
    if sender is None:
        raise bad_request(f"kind must be one of {', '.join(emulator.senders)}")
    return sender


def _avatar(request: web.Request) -> str:
    return public_base(request, _emulator(request).config) + PREFIX + "/samples/agent-avatar.png"


def conversation_view(emulator: Emulator, conversation: Conversation) -> Dict[str, Any]:
    users = [emulator.store.users[uid] for uid in conversation.participants]
    status = "open"
    if conversation.active is None or not conversation.active.is_agent_workspace:
        status = conversation.closed_reason or "bot"
    return {
        **conversation.to_api(),
        "participants": [
            {**user.to_api(), "displayName": user_display_name(user)} for user in users
        ],
        "messages": [message.to_api() for message in conversation.messages],
        "agentStatus": status,
        "handedOffAt": conversation.handed_off_at,
        "closedAt": conversation.closed_at,
        "handoffMetadata": conversation.handoff_metadata,
        "agentTyping": conversation.agent_typing,
        "firstAgentMessageAt": conversation.first_agent_message_at,
        "handback": _handback_view(emulator, conversation),
        "ticket": conversation.ticket.to_view() if conversation.ticket else None,
        "appId": emulator.app_id,
        # Whether Zendesk tells the bot of a solved ticket (what Solve does to the bot).
        "ticketWebhook": bool(emulator.ticket_sender.urls),
    }


def _handback_view(emulator: Emulator, conversation: Conversation) -> Optional[Dict[str, Any]]:
    """How the last handoff ended, as the bot hears of it: the switchboard event, its reason,
    and whether its webhook went out (held and dropped ones did not); None while with the agent
    or never handed off."""
    handback = conversation.handback
    if handback is None:
        return None
    delivery = emulator.sender.deliveries.get(handback.event_id)
    return {
        "type": handback.type,
        "reason": handback.reason,
        "eventId": handback.event_id,
        "webhookStatus": delivery.status if delivery is not None else None,
    }


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "appId": _emulator(request).config.app_id})


def app_view(emulator: Emulator) -> Dict[str, Any]:
    """An app as the control API lists it: ids and targets, never a secret."""
    config = emulator.config
    return {
        "id": emulator.app_id,
        "name": config.app_name or emulator.app_id,
        "keyId": config.key_id,
        "accountId": config.account_id,
        "webhook": emulator.sender.view(),
        "ticketWebhook": emulator.ticket_sender.view(),
    }


async def state(request: web.Request) -> web.Response:
    """Everything, of every app (or of `?app=`); `app` and `switchboard` are the default
    app's (or that app's), each user and conversation names its `appId`."""
    apps = registry(request).apps_of(request)
    first = apps[0]
    switchboard = first.switchboard
    return web.json_response(
        {
            "app": {"id": first.app_id},
            "apps": [app_view(emulator) for emulator in apps],
            "switchboard": {
                **switchboard.to_api(),
                "integrations": [i.to_api() for i in switchboard.integrations],
            },
            "users": [
                {**user.to_api(), "appId": e.app_id}
                for e in apps
                for user in e.store.users.values()
            ],
            "conversations": [
                conversation_view(e, c) for e in apps for c in e.store.conversations.values()
            ],
            "attachments": [
                {
                    "id": a.id,
                    "filename": a.filename,
                    "mediaType": a.media_type,
                    "size": len(a.data),
                    "appId": e.app_id,
                }
                for e in apps
                for a in e.store.attachments.values()
            ],
        }
    )


async def queue(request: web.Request) -> web.Response:
    """The agent console's queue, across apps (or of `?app=`)."""
    apps = registry(request).apps_of(request)
    app_of = {id(c): e for e in apps for c in e.store.conversations.values()}
    conversations = [c for e in apps for c in e.store.conversations.values()]
    return web.json_response(
        {
            "agentName": registry(request).default.config.agent_name,
            "apps": [e.app_id for e in apps],
            "conversations": [
                conversation_view(app_of[id(c)], c) for c in agent_queue(conversations)
            ],
        }
    )


async def requests_log(request: web.Request) -> web.Response:
    """SunCo API calls received, oldest first, of every app (or of `?app=`)."""
    path_contains = request.query.get("pathContains", "")
    method = request.query.get("method", "").upper()
    entries = [
        entry
        for emulator in registry(request).apps_of(request)
        for entry in emulator.requests
        if path_contains in entry["path"] and (not method or entry["method"] == method)
    ]
    entries.sort(key=lambda entry: entry["at"])
    return web.json_response({"requests": entries})


def _senders(request: web.Request) -> List[Tuple[Emulator, WebhookSender]]:
    """The senders of `?kind=`, of every app or of `?app=`."""
    return [(e, _sender(request, e)) for e in registry(request).apps_of(request)]


def delivery_view(emulator: Emulator, sender: WebhookSender, delivery: Delivery) -> Dict[str, Any]:
    return {**delivery.to_json(), "appId": emulator.app_id, "kind": sender.kind}


def _deliveries(request: web.Request) -> List[Dict[str, Any]]:
    query = request.query
    wanted = {key: query.get(key) for key in ("type", "conversationId", "status")}
    result = []
    for emulator, sender in _senders(request):
        for delivery in sender.deliveries.values():
            # Filtered before the view is built: the console asks for the held ones every second.
            if wanted["type"] and delivery.event["type"] != wanted["type"]:
                continue
            if wanted["conversationId"] and delivery.conversation_id != wanted["conversationId"]:
                continue
            if wanted["status"] and delivery.status != wanted["status"]:
                continue
            result.append(delivery_view(emulator, sender, delivery))
    return result


async def webhooks(request: web.Request) -> web.Response:
    return web.json_response({"deliveries": _deliveries(request)})


async def webhooks_wait(request: web.Request) -> web.Response:
    body = parse_body(WaitBody, await read_json(request, required=False))
    idle = True
    for _, sender in _senders(request):  # one shared deadline would be stricter; fine here
        idle = await sender.wait_idle(body.timeout) and idle
    return web.json_response({"idle": idle, "deliveries": _deliveries(request)})


def _holder(request: web.Request, event_id: Optional[str] = None) -> Tuple[Emulator, WebhookSender]:
    """The app and sender that made the event (of the path, unless given; ids are unique)."""
    event_id = event_id or request.match_info["eventId"]
    for emulator in registry(request).apps_of(request):
        for sender in emulator.senders.values():
            if event_id in sender.deliveries:
                return emulator, sender
    raise ApiError(404, "not_found", "No such webhook event")


async def redeliver(request: web.Request) -> web.Response:
    emulator, sender = _holder(request)
    delivery = await sender.redeliver(request.match_info["eventId"])
    if delivery is None:
        raise ApiError(404, "not_found", "No such webhook event")
    return web.json_response({"delivery": delivery_view(emulator, sender, delivery)})


async def release(request: web.Request) -> web.Response:
    emulator, sender = _holder(request)
    try:
        delivery = await sender.release(request.match_info["eventId"])
    except ValueError as exc:
        raise ApiError(409, "conflict", f"Only a held event can be released: {exc}") from None
    if delivery is None:
        raise ApiError(404, "not_found", "No such webhook event")
    return web.json_response({"delivery": delivery_view(emulator, sender, delivery)})


class ReleaseTogetherBody(Body):
    eventIds: List[constr(strict=True, min_length=1, max_length=100)]


async def release_together(request: web.Request) -> web.Response:
    """Held events delivered in one post (SunCo batches events of several conversations)."""
    body = parse_body(ReleaseTogetherBody, await read_json(request))
    emulator, sender = _holder(request, body.eventIds[0] if body.eventIds else "")
    try:
        released = sender.release_together(body.eventIds)
    except KeyError as exc:
        raise ApiError(404, "not_found", f"No such webhook event: {exc.args[0]}") from None
    except ValueError as exc:
        raise ApiError(409, "conflict", f"Cannot release these together: {exc}") from None
    views = [delivery_view(emulator, sender, delivery) for delivery in released]
    return web.json_response({"deliveries": views})


def _webhook_mode_view(sender: WebhookSender) -> Dict[str, Any]:
    held = [d.event_id for d in sender.deliveries.values() if d.status == "held"]
    return {"rules": [rule.to_json() for rule in sender.modes.rules], "held": held}


async def get_webhook_mode(request: web.Request) -> web.Response:
    return web.json_response(_webhook_mode_view(_sender(request, _emulator(request))))


async def add_webhook_mode(request: web.Request) -> web.Response:
    body = parse_body(DeliveryModeRequest, await read_json(request))
    rule = _sender(request, _emulator(request)).modes.add(body)
    return web.json_response({"rule": rule.to_json()}, status=201)


async def clear_webhook_mode(request: web.Request) -> web.Response:
    """Back to the default (in order, once); held events stay held until released."""
    sender = _sender(request, _emulator(request))
    sender.modes.reset()
    return web.json_response(_webhook_mode_view(sender))


def webhook_urls(body: WebhookConfigBody) -> Optional[List[str]]:
    """The new targets of a config body: `url` first, then `urls` (None: unchanged)."""
    if body.url is not None:
        return [body.url] + list(body.urls or [])
    return body.urls


async def get_webhook_config(request: web.Request) -> web.Response:
    return web.json_response(_emulator(request).sender.view())


async def set_webhook_config(request: web.Request) -> web.Response:
    body = parse_body(WebhookConfigBody, await read_json(request))
    sender = _emulator(request).sender
    sender.configure(urls=webhook_urls(body), secret=body.secret)
    return web.json_response(sender.view())


async def agent_message(request: web.Request) -> web.Response:
    emulator, conversation = _conversation(request)
    body = parse_body(AgentMessageBody, await read_json(request))
    if body.type == "text":
        content: Dict[str, Any] = {"type": "text", "text": body.text}
    else:
        media_url = str(body.mediaUrl)
        if media_url.startswith("/"):  # a path on the emulator itself, e.g. a sample
            media_url = public_base(request, emulator.config) + media_url
        _check_uri_or_400(media_url)
        content = {"type": body.type, "mediaUrl": media_url}
        if body.altText:
            content["altText"] = body.altText
        if body.text:
            content["text"] = body.text
    name = body.agentName or emulator.config.agent_name
    message = emulator.agent_message(conversation, content, name, _avatar(request))
    return web.json_response({"message": message.to_api()}, status=201)


def _check_uri_or_400(url: str) -> None:
    try:
        check_uri(url)
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"mediaUrl: {exc}") from None


async def typing(request: web.Request) -> web.Response:
    emulator, conversation = _conversation(request)
    body = parse_body(TypingBody, await read_json(request))
    name = body.agentName or emulator.config.agent_name
    emulator.agent_typing(conversation, body.typing, name, _avatar(request))
    return web.json_response({"typing": body.typing})


async def solve(request: web.Request) -> web.Response:
    """Agent Workspace hands the conversation back: the ticket closed (it becomes `closed`),
    or moved to email (the ticket stays as it is)."""
    emulator, conversation = _conversation(request)
    body = parse_body(SolveBody, await read_json(request, required=False))
    emulator.solve(conversation, body.handback, body.reason)
    return web.json_response({"conversation": conversation_view(emulator, conversation)})


async def list_faults(request: web.Request) -> web.Response:
    injector = _emulator(request).faults
    return web.json_response(
        {"faults": [f.to_json() for f in injector.faults], "latencyMs": injector.latency_ms}
    )


async def add_fault(request: web.Request) -> web.Response:
    body = parse_body(FaultRequest, await read_json(request))
    fault = _emulator(request).faults.add(body)
    return web.json_response({"fault": fault.to_json()}, status=201)


async def clear_faults(request: web.Request) -> web.Response:
    _emulator(request).faults.faults.clear()
    return web.json_response({"faults": []})


async def latency(request: web.Request) -> web.Response:
    body = parse_body(LatencyBody, await read_json(request))
    _emulator(request).faults.latency_ms = body.ms
    return web.json_response({"latencyMs": body.ms})


async def reset(request: web.Request) -> web.Response:
    """Forget the data of every app (or of `?app=`); the apps and their settings stay."""
    for emulator in registry(request).apps_of(request):
        await emulator.reset()
    return web.json_response({"reset": True})


async def sample(request: web.Request) -> web.Response:
    found = samples().get(request.match_info["name"])
    if found is None:
        raise ApiError(404, "not_found", "No such sample")
    media_type, data = found
    return web.Response(body=data, content_type=media_type)


def add_routes(app: web.Application) -> None:
    """Register the control routes."""
    r = app.router
    r.add_get(PREFIX + "/health", health)
    r.add_get(PREFIX + "/state", state)
    r.add_get(PREFIX + "/queue", queue)
    r.add_get(PREFIX + "/requests", requests_log)
    r.add_get(PREFIX + "/webhooks", webhooks)
    r.add_post(PREFIX + "/webhooks/wait", webhooks_wait)
    r.add_post(PREFIX + "/webhooks/{eventId}/redeliver", redeliver)
    r.add_post(PREFIX + "/webhooks/release-together", release_together)
    r.add_post(PREFIX + "/webhooks/{eventId}/release", release)
    r.add_get(PREFIX + "/webhook-mode", get_webhook_mode)
    r.add_post(PREFIX + "/webhook-mode", add_webhook_mode)
    r.add_delete(PREFIX + "/webhook-mode", clear_webhook_mode)
    r.add_get(PREFIX + "/webhook-config", get_webhook_config)
    r.add_post(PREFIX + "/webhook-config", set_webhook_config)
    conversation = PREFIX + "/conversations/{conversationId}"
    r.add_post(conversation + "/agent-message", agent_message)
    r.add_post(conversation + "/typing", typing)
    r.add_post(conversation + "/solve", solve)
    r.add_get(PREFIX + "/faults", list_faults)
    r.add_post(PREFIX + "/faults", add_fault)
    r.add_delete(PREFIX + "/faults", clear_faults)
    r.add_post(PREFIX + "/latency", latency)
    r.add_post(PREFIX + "/reset", reset)
    r.add_get(PREFIX + "/samples/{name}", sample)
