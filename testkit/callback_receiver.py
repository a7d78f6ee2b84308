"""The bot owner's server behind Rasa's callback channel, on a port fixed in advance, so a test
can take it down (the channel's sends then fail: connection refused) and bring it back."""

from __future__ import annotations

from typing import Any, Dict, List

from aiohttp import web


class CallbackReceiver:
    """Records each message Rasa's callback channel posts to `/callback` while it is up."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/callback"
        self.received: List[Dict[str, Any]] = []
        self._runner: Any = None

    def texts(self) -> List[str]:
        return [message.get("text") or "" for message in self.received]

    async def start(self) -> None:
        async def receive(request: web.Request) -> web.Response:
            self.received.append(await request.json())
            return web.json_response({})

        app = web.Application()
        app.router.add_post("/callback", receive)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
