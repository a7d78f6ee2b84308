"""Wiring: one aiohttp application with the SunCo routes, the control API and the console."""

from pathlib import Path

from aiohttp import web

from . import (
    api,
    control,
    control_apps,
    control_rich,
    control_support,
    control_tickets,
    integrations_api,
    oauth,
    private_media,
    support_api,
)
from .config import EmulatorConfig
from .middleware import middleware
from .registry import APPS, AppRegistry

STATIC = Path(__file__).parent / "static"
MAX_REQUEST_BYTES = 51 * 1024 * 1024  # uploads go up to 50MB


async def _console(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "console.html", headers={"Cache-Control": "no-store"})


async def _to_console(request: web.Request) -> web.Response:
    raise web.HTTPFound("/console")


def create_app(config: EmulatorConfig) -> web.Application:
    """Build the emulator's application; its apps are `app[APPS]` (the default app first)."""
    app = web.Application(middlewares=[middleware], client_max_size=MAX_REQUEST_BYTES)
    apps = AppRegistry(config)
    app[APPS] = apps
    api.add_routes(app)
    control.add_routes(app)
    control_tickets.add_routes(app)
    control_rich.add_routes(app)
    control_apps.add_routes(app)
    integrations_api.add_routes(app)
    control_support.add_routes(app)
    support_api.add_routes(app)
    oauth.add_routes(app)
    private_media.add_routes(app)
    app.router.add_get("/", _to_console)
    app.router.add_get("/console", _console)
    app.router.add_static("/console/static", STATIC)

    async def start(_: web.Application) -> None:
        await apps.start()

    async def end_hangs(_: web.Application) -> None:
        await apps.end_hangs()

    async def stop(_: web.Application) -> None:
        await apps.close()

    app.on_startup.append(start)
    app.on_shutdown.append(end_hangs)
    app.on_cleanup.append(stop)
    return app
