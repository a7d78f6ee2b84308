"""The app's integrations and webhooks as SunCo lists them, for `rasa-zendesk doctor`.

The app has one custom integration, the bot's (the switchboard's default), and its webhooks
are the emulator's webhook URLs: one webhook per URL (several URLs stand for a load balancer
in front of several Rasa instances; real SunCo gives a custom integration one webhook), v2,
with the app's webhook secret and the triggers it is subscribed to. Tests change the triggers
with `/_emulator/webhook-triggers`, and the emulator then sends only those events, as SunCo
would. (Agent Workspace is a switchboard integration, not listed here: SunCo lists it by
type under switchboards.)
"""

import hashlib
from typing import Any, Dict, List, Optional

from aiohttp import web
from pydantic import StrictStr, conlist

from .api import APP
from .bodies import Body, parse_body
from .engine import Emulator
from .errors import ApiError
from .httputil import read_json
from .registry import registry

#: The events the emulator sends, all of them unless the triggers say otherwise.
EMULATOR_TRIGGERS = (
    "conversation:create",
    "conversation:message",
    "conversation:read",
    "conversation:typing",
    "switchboard:acceptControl",
    "switchboard:offerControl",
    "switchboard:passControl",
    "switchboard:releaseControl",
)


class TriggersBody(Body):
    """`{"triggers": [...]}` subscribes the webhook to those events; `null` to all again."""

    triggers: Optional[conlist(StrictStr, min_items=1)] = None  # type: ignore[valid-type]


def webhooks_of(emulator: Emulator) -> List[Dict[str, Any]]:
    """The webhooks of the bot's integration, as List Webhooks returns them."""
    sender = emulator.sender
    triggers = list(sender.triggers or EMULATOR_TRIGGERS)
    listed = []
    for index, url in enumerate(sender.urls):
        webhook_id = sender.webhook_id if index == 0 else _derived_id(sender.webhook_id, url)
        listed.append(
            {
                "id": webhook_id,
                "version": "v2",
                "target": url,
                "triggers": triggers,
                "secret": sender.format.secret,
                "includeFullUser": False,
                "includeFullSource": False,
            }
        )
    return listed


def _derived_id(first_id: str, url: str) -> str:
    return hashlib.sha1(f"{first_id}:{url}".encode()).hexdigest()[:24]


def _app(request: web.Request) -> Emulator:
    return registry(request).require(request.match_info["appId"])


async def list_integrations(request: web.Request) -> web.Response:
    emulator = _app(request)
    bot = emulator.switchboard.bot
    custom = {
        "id": bot.integration_id,
        "type": "custom",
        "status": "active",
        "displayName": bot.name,
        "webhooks": webhooks_of(emulator),
    }
    return web.json_response({"integrations": [custom], "meta": {"hasMore": False}})


async def list_webhooks(request: web.Request) -> web.Response:
    emulator = _app(request)
    if request.match_info["integrationId"] != emulator.switchboard.bot.integration_id:
        raise ApiError(404, "integration_not_found", "Integration not found")
    return web.json_response({"webhooks": webhooks_of(emulator)})


async def get_triggers(request: web.Request) -> web.Response:
    sender = registry(request).app_of(request).sender
    return web.json_response({"triggers": list(sender.triggers or EMULATOR_TRIGGERS)})


async def set_triggers(request: web.Request) -> web.Response:
    body = parse_body(TriggersBody, await read_json(request))
    sender = registry(request).app_of(request).sender
    sender.triggers = tuple(dict.fromkeys(body.triggers)) if body.triggers else None
    return await get_triggers(request)


def add_routes(app: web.Application) -> None:
    """Register the listing routes (SunCo API) and the triggers' control route."""
    router = app.router
    router.add_get(APP + "/integrations", list_integrations)
    router.add_get(APP + "/integrations/{integrationId}/webhooks", list_webhooks)
    router.add_get("/_emulator/webhook-triggers", get_triggers)
    router.add_post("/_emulator/webhook-triggers", set_triggers)
