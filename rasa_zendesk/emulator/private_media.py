"""Zendesk's "private attachments" setting: uploaded media that only the app's key can fetch.

Off by default, as in Zendesk: `GET /sc/attachments/v2/{id}/{name}` answers anyone. Turned on
for an app (`POST /_emulator/private-attachments {"enabled": true}`, `?app=<appId>` for
another app than the default; `GET` reads it), a download of that app's attachments needs the
app's key, Basic or JWT, as every SunCo API call does: without it the answer is SunCo's 401
body. The setting survives `/_emulator/reset`, as an app's other settings do.
"""

from typing import Set

from aiohttp import web
from pydantic import StrictBool

from .auth import check_authorization
from .bodies import Body, parse_body
from .control import PREFIX
from .httputil import read_json
from .middleware import Handler
from .registry import registry

PRIVATE_APPS = web.AppKey("private_media_apps", set)
ROUTE = PREFIX + "/private-attachments"
DOWNLOAD_ROUTE = "/sc/attachments/v2/{attachmentId}/{filename}"


class PrivateBody(Body):
    enabled: StrictBool


def _private(request: web.Request) -> Set[str]:
    return request.app[PRIVATE_APPS]


async def get_setting(request: web.Request) -> web.Response:
    emulator = registry(request).app_of(request)
    enabled = emulator.app_id in _private(request)
    return web.json_response({"appId": emulator.app_id, "enabled": enabled})


async def set_setting(request: web.Request) -> web.Response:
    emulator = registry(request).app_of(request)
    body = parse_body(PrivateBody, await read_json(request))
    if body.enabled:
        _private(request).add(emulator.app_id)
    else:
        _private(request).discard(emulator.app_id)
    return web.json_response({"appId": emulator.app_id, "enabled": body.enabled})


@web.middleware
async def require_key(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Inside the SunCo middleware (which answers the 401 with SunCo's body and logs the call):
    a private app's attachment needs that app's key."""
    route = request.match_info.route.resource
    if route is not None and route.canonical == DOWNLOAD_ROUTE:
        found = registry(request).attachment(request.match_info.get("attachmentId", ""))
        if found is not None and found[0].app_id in _private(request):
            config = found[0].config
            check_authorization(
                request.headers.get("Authorization"), config.key_id, config.key_secret
            )
    return await handler(request)


def add_routes(app: web.Application) -> None:
    """The setting's control route, and the check on downloads (the app's last middleware)."""
    app[PRIVATE_APPS] = set()
    app.router.add_get(ROUTE, get_setting)
    app.router.add_post(ROUTE, set_setting)
    app.middlewares.append(require_key)
