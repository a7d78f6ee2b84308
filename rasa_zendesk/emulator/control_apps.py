"""Control routes of the apps one emulator serves: list them, add one while it runs.

`POST /_emulator/apps` takes the same body as an entry of `--apps-file` (see `apps.AppBody`);
no route ever shows a secret, only whether one is set.
"""

from aiohttp import web

from .apps import AppBody
from .bodies import parse_body
from .control import PREFIX, app_view
from .httputil import read_json
from .registry import registry


async def list_apps(request: web.Request) -> web.Response:
    return web.json_response({"apps": [app_view(emulator) for emulator in registry(request)]})


async def add_app(request: web.Request) -> web.Response:
    body = parse_body(AppBody, await read_json(request))
    emulator = await registry(request).add(body)
    return web.json_response({"app": app_view(emulator)}, status=201)


def add_routes(app: web.Application) -> None:
    """Register the app routes."""
    app.router.add_get(PREFIX + "/apps", list_apps)
    app.router.add_post(PREFIX + "/apps", add_app)
