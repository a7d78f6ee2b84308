"""The customer page server: the page, the locally bundled widget, and the Rasa address."""

from __future__ import annotations

from typing import AsyncIterator

import httpx
import pytest
from aiohttp import web

from demo.web_server import WIDGET_BUNDLE, build_app
from testkit.processes import free_ports


@pytest.fixture
async def page_url() -> AsyncIterator[str]:
    (port,) = free_ports(1)
    runner = web.AppRunner(build_app(rasa_port=6123))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_the_page_loads_the_local_widget_and_its_config(page_url: str) -> None:
    async with httpx.AsyncClient(base_url=page_url) as client:
        page = await client.get("/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert '<script src="/vendor/rasa-webchat-1.0.1/lib/index.js">' in page.text
        assert "initPayload" in page.text and 'storage: "session"' in page.text
        # Nothing on the page comes from another host.
        assert "https://" not in page.text

        config = await client.get("/config.js")
        assert config.status_code == 200
        assert config.text.strip() == 'window.DEMO_CONFIG = {"rasaPort": 6123};'

        assert WIDGET_BUNDLE.is_file(), "run scripts/demo-deps"
        widget = await client.get("/vendor/rasa-webchat-1.0.1/lib/index.js")
        assert widget.status_code == 200
        assert "WebChat" in widget.text[:1000]
        assert "fonts.googleapis.com" not in widget.text


async def test_unknown_and_escaping_paths_are_404(page_url: str) -> None:
    async with httpx.AsyncClient(base_url=page_url) as client:
        assert (await client.get("/nothing-here.js")).status_code == 404
        assert (await client.get("/../web_server.py")).status_code == 404
        assert (await client.get("/%2e%2e/web_server.py")).status_code in (403, 404)
