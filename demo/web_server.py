"""The demo's customer page: a tiny static server for `demo/web/` plus its runtime config.

The page's web chat must reach the Rasa server on whatever port the demo chose, so the server
also answers `/config.js` with that address, and keeps the files a customer attaches
(`demo.uploads`); everything else is a plain file from `demo/web/` (the rasa-webchat bundle
included, installed there by `scripts/demo-deps`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional, Sequence

from aiohttp import web

from demo.uploads import MAX_UPLOAD_BYTES, Uploads

WEB_ROOT = Path(__file__).resolve().parent / "web"
WIDGET_BUNDLE = WEB_ROOT / "vendor" / "rasa-webchat-1.0.1" / "lib" / "index.js"


class MissingWidgetError(RuntimeError):
    """The rasa-webchat bundle is not installed: `scripts/demo-deps` fetches it."""


def build_app(rasa_port: int, web_root: Path = WEB_ROOT) -> web.Application:
    """Serve the page, the widget and `/config.js` (the Rasa port the web chat talks to)."""
    config = json.dumps({"rasaPort": rasa_port})

    async def config_js(_: web.Request) -> web.Response:
        return web.Response(
            text=f"window.DEMO_CONFIG = {config};\n",
            content_type="application/javascript",
            headers={"Cache-Control": "no-store"},
        )

    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(web_root / "index.html", headers={"Cache-Control": "no-store"})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
    Uploads().add_routes(app)
    app.router.add_get("/", index)
    app.router.add_get("/config.js", config_js)
    app.router.add_get("/health", health)
    app.router.add_static("/", web_root, show_index=False, follow_symlinks=False)
    return app


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Run the customer page server (started as a process of its own by the demo stack)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-port", type=int, default=5005)
    args = parser.parse_args(argv)
    if not WIDGET_BUNDLE.is_file():
        raise SystemExit(
            f"error: the web chat widget is missing ({WIDGET_BUNDLE}); run scripts/demo-deps"
        )
    web.run_app(build_app(args.rasa_port), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
