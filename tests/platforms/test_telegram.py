"""A Telegram user in a handoff gets the agent's messages and typing through one Telegram output
channel per Telegram input channel: one aiogram `Bot`, one HTTP session, kept between webhooks
and closed with `close_outputs` when the server stops.

Rasa's own `TelegramOutput` talks to a loopback stand-in of the Telegram Bot API (there is no
network here); the stand-in records each call and the client connection it came on.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

import pytest
from aiogram.bot.api import TelegramAPIServer
from aiohttp import web
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel
from rasa.core.channels.rest import RestInput
from rasa.core.channels.telegram import TelegramInput, TelegramOutput

from rasa_zendesk.platforms.outputs import close_outputs, output_channel_for
from testkit.channel_harness import (
    RasaServer,
    content,
    message_webhook,
    new_id,
    start_handoff,
    start_rasa,
    typing_webhook,
)

pytestmark = pytest.mark.timeout(30)

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
OTHER_TOKEN = "987654321:AAFakeTokenOfASecondTelegramBot0000"


class TelegramBotApi:
    """A loopback stand-in for api.telegram.org: answers `sendMessage` and `sendChatAction` as
    Telegram does, and records (method, chat id, text) and the client's address of each call."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, str, Optional[str]]] = []
        self.clients: List[Tuple[str, int]] = []
        self.tokens: List[str] = []
        self.runner: Optional[web.AppRunner] = None
        self.base_url = ""
        self._message_ids = itertools.count(1)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._method)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _method(self, request: web.Request) -> web.Response:
        method, params = request.match_info["method"], dict(await request.post())
        peer = request.transport.get_extra_info("peername")  # type: ignore[union-attr]
        self.clients.append((peer[0], peer[1]))
        self.tokens.append(request.match_info["token"])
        chat_id, text = str(params["chat_id"]), params.get("text")
        self.calls.append((method, chat_id, None if text is None else str(text)))
        result: Any = True
        if method == "sendMessage":
            result = {
                "message_id": next(self._message_ids),
                "date": 1_700_000_000,
                "chat": {"id": int(chat_id), "type": "private"},
                "text": text,
            }
        return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def telegram_api() -> AsyncIterator[TelegramBotApi]:
    api = TelegramBotApi()
    await api.start()
    yield api
    await api.stop()


def telegram_input(token: str = TOKEN) -> TelegramInput:
    return TelegramInput(token, verify="acme_bot", webhook_url="https://bot.example.org/tg")


def kept_output(channels: List[InputChannel], api: TelegramBotApi) -> TelegramOutput:
    """The Telegram output channel the webhooks will use, pointed at the stand-in."""
    output = output_channel_for(channels, "telegram")
    assert isinstance(output, TelegramOutput)
    output.server = TelegramAPIServer.from_base(api.base_url)
    return output


async def test_messages_and_typing_reuse_one_telegram_output_and_session(
    tmp_path: Path, telegram_api: TelegramBotApi
) -> None:
    rasa: RasaServer = await start_rasa(tmp_path / "tracker.db")
    channels: List[InputChannel] = rasa.app.ctx.input_channels
    channels.append(telegram_input())
    output = kept_output(channels, telegram_api)
    users: Dict[str, str] = {}  # Telegram chat id (the Rasa sender id) -> SunCo conversation
    try:
        for _ in range(2):
            chat_id, conversation_id = str(700_000_000 + len(users)), "conv_" + new_id()
            await start_handoff(rasa.store, chat_id, conversation_id, input_channel="telegram")
            users[chat_id] = conversation_id
        sessions: List[Any] = []
        expected: List[Tuple[str, str, Optional[str]]] = []
        for turn in range(3):
            for chat_id, conversation_id in users.items():
                typing = await rasa.post_webhook(typing_webhook(conversation_id, chat_id))
                text = content("text")
                text["text"] = f"Agent answer {turn} to {chat_id}"
                message = await rasa.post_webhook(message_webhook(conversation_id, chat_id, text))

                assert typing.json()["processed"] == 1, typing.text
                assert message.json()["processed"] == 1, message.text
                expected += [
                    ("sendChatAction", chat_id, None),
                    ("sendMessage", chat_id, text["text"]),
                ]
                sessions.append(output._session)
                assert output_channel_for(channels, "telegram") is output

        assert telegram_api.calls == expected
        assert all(session is sessions[0] for session in sessions)  # one HTTP session ...
        assert len(set(telegram_api.clients)) == 1  # ... and its one kept-alive connection
        assert set(telegram_api.tokens) == {TOKEN}
        session = output._session
        assert session is not None and not session.closed

        await close_outputs(channels)

        assert session.closed
        assert output_channel_for(channels, "telegram") is not output  # made anew after a stop
    finally:
        await rasa.stop()
        await close_outputs(channels)


async def test_each_telegram_channel_has_its_own_output_and_others_are_untouched(
    telegram_api: TelegramBotApi,
) -> None:
    first, second = telegram_input(TOKEN), telegram_input(OTHER_TOKEN)
    channels: List[InputChannel] = [RestInput(), first]
    output = kept_output(channels, telegram_api)

    assert output_channel_for([first], "telegram") is output
    other = output_channel_for([second], "telegram")
    assert isinstance(other, TelegramOutput) and other is not output
    assert type(output_channel_for(channels, "rest")) is CollectingOutputChannel

    other.server = TelegramAPIServer.from_base(telegram_api.base_url)
    await output.send_chat_action("42", "typing")
    await other.send_chat_action("43", "typing")
    assert list(zip(telegram_api.tokens, [call[1] for call in telegram_api.calls])) == [
        (TOKEN, "42"),
        (OTHER_TOKEN, "43"),
    ]

    await close_outputs([RestInput(), first, second])
    assert output._session is not None and output._session.closed
    assert other._session is not None and other._session.closed


async def test_closing_an_output_that_never_sent_anything_opens_nothing() -> None:
    channel = telegram_input()
    output = output_channel_for([channel], "telegram")
    assert isinstance(output, TelegramOutput)

    await close_outputs([channel])

    assert output._session is None


async def test_stopping_the_server_closes_the_telegram_session(tmp_path: Path) -> None:
    api = TelegramBotApi()
    await api.start()
    rasa = await start_rasa(tmp_path / "t.db")
    channels: List[InputChannel] = rasa.app.ctx.input_channels
    channels.append(telegram_input())
    output = output_channel_for(channels, "telegram")
    assert isinstance(output, TelegramOutput)
    output.server = TelegramAPIServer.from_base(api.base_url)
    chat, conv = "700000001", "conv_" + new_id()
    await start_handoff(rasa.store, chat, conv, input_channel="telegram")
    answer = await rasa.post_webhook(message_webhook(conv, chat, content("text")))
    assert answer.json()["processed"] == 1
    session = output._session
    assert session is not None and not session.closed
    await rasa.stop()
    await api.stop()
    assert session.closed
