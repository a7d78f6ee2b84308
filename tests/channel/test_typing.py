"""Agent typing reaches a web chat; channels without a typing indicator ignore it."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import pytest
from aiogram.bot.api import TelegramAPIServer
from aiohttp import web
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.channels.rest import RestInput
from rasa.core.channels.telegram import TelegramInput, TelegramOutput

from rasa_zendesk.platforms.outputs import close_outputs, output_channel_for, show_typing
from testkit.channel_harness import (
    Handoff,
    RasaServer,
    new_id,
    start_handoff,
    typing_webhook,
)

pytestmark = pytest.mark.timeout(30)

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


async def test_agent_typing_reaches_the_web_chat(rasa: RasaServer, handoff: Handoff) -> None:
    start = await rasa.post_webhook(typing_webhook(handoff.conversation_id, handoff.sender_id))
    stop = await rasa.post_webhook(
        typing_webhook(handoff.conversation_id, handoff.sender_id, "typing:stop")
    )

    assert start.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert stop.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert await handoff.chat.next_typing() == {"typing": True, "agent_name": "Anna Agent"}
    assert await handoff.chat.next_typing() == {"typing": False, "agent_name": "Anna Agent"}
    handoff.chat.assert_no_more_messages()


async def test_typing_changes_nothing_in_the_tracker(rasa: RasaServer, handoff: Handoff) -> None:
    before = await rasa.tracker(handoff.sender_id)

    await rasa.post_webhook(typing_webhook(handoff.conversation_id, handoff.sender_id))

    await handoff.chat.next_typing()
    assert len((await rasa.tracker(handoff.sender_id)).events) == len(before.events)


async def test_user_typing_is_not_passed_on(rasa: RasaServer, handoff: Handoff) -> None:
    webhook = typing_webhook(handoff.conversation_id, handoff.sender_id)
    webhook["events"][0]["payload"]["activity"]["author"] = {"type": "user", "userId": "u1"}

    answer = await rasa.post_webhook(webhook)

    assert answer.json() == {"status": "ok", "processed": 0, "ignored": 1}
    assert handoff.chat.typing.empty()


async def test_channels_without_typing_ignore_it(rasa: RasaServer) -> None:
    sender_id, conversation_id = "rest-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id, input_channel="rest")

    answer = await rasa.post_webhook(typing_webhook(conversation_id, sender_id))

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "processed": 0, "ignored": 1}


class FakeTelegramApi:
    """A loopback stand-in for api.telegram.org (no internet here) that records calls."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, Dict[str, str]]] = []
        self.runner: Optional[web.AppRunner] = None
        self.port = 0

    async def start(self) -> str:
        async def method(request: web.Request) -> web.Response:
            self.calls.append((request.match_info["method"], dict(await request.post())))
            return web.json_response({"ok": True, "result": True})

        app = web.Application()
        app.router.add_post("/bot{token}/{method}", method)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{self.port}"


async def test_telegram_shows_typing_with_a_chat_action() -> None:
    """Rasa's TelegramInput.get_output_channel() calls asyncio.run(), which fails inside the
    server's loop; the channel builds Telegram's output channel itself."""
    telegram = TelegramInput(TOKEN, verify="acme_bot", webhook_url="https://bot.example.org/tg")
    with pytest.raises(RuntimeError):
        telegram.get_output_channel()
    output = output_channel_for([RestInput(), telegram], "telegram")
    assert isinstance(output, TelegramOutput)

    api = FakeTelegramApi()
    output.server = TelegramAPIServer.from_base(await api.start())
    try:
        assert await show_typing(output, "4242", True, "agent_typing")
        assert await show_typing(output, "4242", False, "agent_typing")  # nothing to send
    finally:
        await close_outputs([telegram])
        await api.runner.cleanup()  # type: ignore[union-attr]

    assert api.calls == [("sendChatAction", {"chat_id": "4242", "action": "typing"})]


async def test_channels_that_cannot_push_show_no_typing() -> None:
    output = output_channel_for([RestInput()], "rest")
    assert isinstance(output, CollectingOutputChannel)
    assert not await show_typing(output, "u1", True, "agent_typing")
    assert output.messages == []
