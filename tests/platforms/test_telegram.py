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

import httpx
import pytest
from aiogram.bot.api import TelegramAPIServer
from aiohttp import web
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel
from rasa.core.channels.rest import RestInput
from rasa.core.channels.telegram import TelegramInput, TelegramOutput

from rasa_zendesk.platforms.outputs import AgentOutput, close_outputs, show_typing, user_output
from rasa_zendesk.settings import PlatformSettings
from testkit.channel_harness import RasaServer, content, message_webhook, start_rasa, typing_webhook
from testkit.choices import Rasa, running
from testkit.platforms import (
    ALL,
    DOCS,
    PLANS,
    TACO,
    TELEGRAM_TOKEN,
    TelegramApi,
    add_telegram,
    text,
    without_chat,
)
from testkit.reach import FILE, IMAGE, agent_sends, agent_types, handoff_on

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
async def bot_api() -> AsyncIterator[TelegramBotApi]:
    api = TelegramBotApi()
    await api.start()
    yield api
    await api.stop()


def telegram_input(token: str = TOKEN) -> TelegramInput:
    return TelegramInput(token, verify="acme_bot", webhook_url="https://bot.example.org/tg")


def kept_output(channels: List[InputChannel], api: TelegramBotApi) -> TelegramOutput:
    """The Telegram output channel the webhooks will use, pointed at the stand-in."""
    output = user_output(channels, None, "telegram")
    assert isinstance(output, TelegramOutput)
    output.server = TelegramAPIServer.from_base(api.base_url)
    return output


async def test_messages_and_typing_reuse_one_telegram_output_and_session(
    tmp_path: Path, bot_api: TelegramBotApi
) -> None:
    rasa: RasaServer = await start_rasa(tmp_path / "tracker.db")
    channels: List[InputChannel] = rasa.app.ctx.input_channels
    channels.append(telegram_input())
    output = kept_output(channels, bot_api)
    users: Dict[str, str] = {}  # Telegram chat id (the Rasa sender id) -> SunCo conversation
    try:
        for _ in range(2):
            chat_id = str(700_000_000 + len(users))
            users[chat_id] = await handoff_on(rasa, chat_id, "telegram")
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
                assert user_output(channels, None, "telegram") is output

        assert bot_api.calls == expected
        assert all(session is sessions[0] for session in sessions)  # one HTTP session ...
        assert len(set(bot_api.clients)) == 1  # ... and its one kept-alive connection
        assert set(bot_api.tokens) == {TOKEN}
        session = output._session
        assert session is not None and not session.closed

        await close_outputs(channels)

        assert session.closed
        assert user_output(channels, None, "telegram") is not output  # made anew after a stop
    finally:
        await rasa.stop()
        await close_outputs(channels)


async def test_each_telegram_channel_has_its_own_output_and_others_are_untouched(
    bot_api: TelegramBotApi,
) -> None:
    first, second = telegram_input(TOKEN), telegram_input(OTHER_TOKEN)
    channels: List[InputChannel] = [RestInput(), first]
    output = kept_output(channels, bot_api)

    assert user_output([first], None, "telegram") is output
    other = user_output([second], None, "telegram")
    assert isinstance(other, TelegramOutput) and other is not output
    assert type(user_output(channels, None, "rest")) is CollectingOutputChannel

    other.server = TelegramAPIServer.from_base(bot_api.base_url)
    await output.send_chat_action("42", "typing")
    await other.send_chat_action("43", "typing")
    assert list(zip(bot_api.tokens, [call[1] for call in bot_api.calls])) == [
        (TOKEN, "42"),
        (OTHER_TOKEN, "43"),
    ]

    await close_outputs([RestInput(), first, second])
    assert output._session is not None and output._session.closed
    assert other._session is not None and other._session.closed


async def test_closing_an_output_that_never_sent_anything_opens_nothing() -> None:
    channel = telegram_input()
    output = user_output([channel], None, "telegram")
    assert isinstance(output, TelegramOutput)

    await close_outputs([channel])

    assert output._session is None


async def test_stopping_the_server_closes_the_telegram_session(tmp_path: Path) -> None:
    api = TelegramBotApi()
    await api.start()
    rasa = await start_rasa(tmp_path / "t.db")
    channels: List[InputChannel] = rasa.app.ctx.input_channels
    channels.append(telegram_input())
    output = user_output(channels, None, "telegram")
    assert isinstance(output, TelegramOutput)
    output.server = TelegramAPIServer.from_base(api.base_url)
    chat = "700000001"
    conv = await handoff_on(rasa, chat, "telegram")
    answer = await rasa.post_webhook(message_webhook(conv, chat, content("text")))
    assert answer.json()["processed"] == 1
    session = output._session
    assert session is not None and not session.closed
    await rasa.stop()
    await api.stop()
    assert session.closed


@pytest.mark.timeout(60)
async def test_a_telegram_key_or_inline_button_sends_its_label(
    offered: Dict[str, Any], stop_after: List[Rasa], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiogram.bot.api import TelegramAPIServer

    with TelegramApi() as api:
        output = TelegramOutput(TELEGRAM_TOKEN)
        output.server = TelegramAPIServer.from_base(api.base_url)
        # Rasa's channel registers its webhook with asyncio.run when it makes its blueprint;
        # here it gets the output channel pointed at the stand-in (`getMe` checks the bot).
        monkeypatch.setattr(TelegramInput, "get_output_channel", lambda self: output)
        rasa = await running(TelegramInput(TELEGRAM_TOKEN, "acme_bot", "https://x.org/tg"))
        stop_after.append(rasa)
        chat = {"id": 700000046, "type": "private"}
        user = {"id": 700000046, "is_bot": False, "first_name": "Ann"}
        inline_pick = {
            "update_id": 1,
            "callback_query": {
                "id": "cb1",
                "from": user,
                "chat_instance": "ci1",
                "data": offered["buttons"][1]["payload"],
                "message": {"message_id": 7, "date": 1_700_000_000, "chat": chat, "text": "x"},
            },
        }
        key_pick = {  # a reply keyboard's key sends its words as a message
            "update_id": 2,
            "message": {
                "message_id": 8,
                "date": 1_700_000_001,
                "chat": chat,
                "from": user,
                "text": offered["buttons"][0]["payload"],
            },
        }
        async with httpx.AsyncClient(base_url=rasa.url) as http:
            for update in (inline_pick, key_pick):
                answer = await http.post("/webhooks/telegram/webhook", json=update)
                assert answer.status_code == 200, answer.text
        picked = await rasa.picked()
        await output.close()

    assert picked == ["Large", "Small"]


async def telegram_handoff(rasa: RasaServer, api: TelegramApi, chat_id: str) -> Tuple[str, str]:
    """The Telegram user `chat_id` in a handoff, their channel's output pointed at `api`."""
    add_telegram(rasa.app.ctx.input_channels, api)
    return chat_id, await handoff_on(rasa, chat_id, "telegram")


@pytest.mark.timeout(60)
async def test_telegram_users_get_them_in_their_chat(
    rasa: RasaServer, telegram_api: TelegramApi
) -> None:
    chat_id, conversation_id = await telegram_handoff(rasa, telegram_api, "700000042")

    await agent_types(rasa, conversation_id, chat_id)
    await agent_sends(rasa, conversation_id, chat_id, text("Hi there"), IMAGE, FILE)

    calls = telegram_api.calls()
    assert {fields["chat_id"] for _, fields in calls} == {chat_id}
    assert [(method, without_chat(fields)) for method, fields in calls] == [
        ("sendChatAction", {"action": "typing"}),  # typing:stop: Telegram's fades by itself
        ("sendMessage", {"text": "Hi there"}),
        ("sendPhoto", {"photo": IMAGE["mediaUrl"], "caption": "Hello!"}),
        ("sendMessage", {"text": "Here's our FAQ!"}),
        ("sendDocument", {"document": FILE["mediaUrl"]}),
    ]


@pytest.mark.timeout(60)
async def test_what_telegram_cannot_fetch_becomes_a_link(
    rasa: RasaServer, telegram_api: TelegramApi
) -> None:
    telegram_api.fail_media = True
    chat_id, conversation_id = await telegram_handoff(rasa, telegram_api, "700000043")

    await agent_sends(rasa, conversation_id, chat_id, IMAGE, FILE)

    sent = [(m, f.get("text")) for m, f in telegram_api.calls() if m == "sendMessage"]
    assert sent == [
        ("sendMessage", f"Hello!\nimage.jpg: {IMAGE['mediaUrl']}"),
        ("sendMessage", "Here's our FAQ!"),
        ("sendMessage", f"FAQ.pdf: {FILE['mediaUrl']}"),
    ]


@pytest.mark.timeout(60)
async def test_telegram_shows_keyboards_photos_and_a_venue(
    rasa: RasaServer, telegram_api: TelegramApi
) -> None:
    chat_id, conversation_id = await telegram_handoff(rasa, telegram_api, "700000044")

    await agent_sends(rasa, conversation_id, chat_id, *ALL)

    calls = [(method, without_chat(fields)) for method, fields in telegram_api.calls()]

    def keys(*labels: str) -> Dict[str, Any]:
        rows = [[{"text": label}] for label in labels]
        return {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}

    def inline(*buttons: Dict[str, str]) -> Dict[str, Any]:
        return {"inline_keyboard": [[button] for button in buttons]}

    more_info = {"text": "More info", "url": "https://example.org"}
    assert calls == [
        ("sendMessage", {"text": "Which size?", "reply_markup": keys("Small", "Large")}),
        (
            "sendMessage",
            {
                "text": "Pick one",
                "reply_markup": inline(
                    {"text": "Yes", "callback_data": "Yes"}, {"text": "Docs", "url": DOCS}
                ),
            },
        ),
        (
            "sendPhoto",
            {
                "photo": TACO,
                "caption": "Tacos\nGet your tacos today!",
                "reply_markup": inline(
                    {"text": "Select", "callback_data": "Select (Tacos)"}, more_info
                ),
            },
        ),
        (
            "sendPhoto",
            {
                "photo": TACO,
                "caption": "Ramen\nGet your ramen today!",
                "reply_markup": inline(
                    {"text": "Select", "callback_data": "Select (Ramen)"}, more_info
                ),
            },
        ),
        (
            "sendVenue",
            {
                "latitude": "52.52",
                "longitude": "13.405",
                "title": "Acme store",
                "address": "1 Main St",
            },
        ),
        ("sendMessage", {"text": "Size", "reply_markup": keys("Small", "Large")}),
        (
            "sendMessage",
            {
                "text": "Plan A\n10 EUR a month",
                "reply_markup": inline({"text": "Choose", "callback_data": "Choose (Plan A)"}),
            },
        ),
        (
            "sendMessage",
            {"text": "Please choose:", "reply_markup": inline({"text": "All plans", "url": PLANS})},
        ),
        ("sendPhoto", {"photo": TACO, "caption": "Like it?", "reply_markup": keys("Yes", "No")}),
    ]


@pytest.mark.timeout(60)
async def test_telegram_puts_choices_too_long_for_callback_data_on_a_reply_keyboard(
    rasa: RasaServer, telegram_api: TelegramApi
) -> None:
    chat_id, conversation_id = await telegram_handoff(rasa, telegram_api, "700000045")
    long_label = "Yes, please send the replacement parcel to my office address instead"
    assert len(long_label.encode()) > 64  # more than Telegram's callback_data holds
    offer = {
        "type": "text",
        "text": "Where to?",
        "actions": [
            {"type": "postback", "text": long_label, "payload": "OFFICE"},
            {"type": "link", "text": "Docs", "uri": DOCS},
        ],
    }

    await agent_sends(rasa, conversation_id, chat_id, offer)

    ((method, fields),) = telegram_api.calls()
    assert (method, fields["text"]) == ("sendMessage", f"Where to?\nDocs: {DOCS}")
    assert fields["reply_markup"]["keyboard"] == [[{"text": long_label}]]


async def test_telegram_shows_typing_with_a_chat_action() -> None:
    """Rasa's TelegramInput.get_output_channel() calls asyncio.run(), which fails inside the
    server's loop; the channel builds Telegram's output channel itself."""
    telegram = TelegramInput(TOKEN, verify="acme_bot", webhook_url="https://bot.example.org/tg")
    with pytest.raises(RuntimeError):
        telegram.get_output_channel()
    output = user_output([RestInput(), telegram], None, "telegram")
    assert isinstance(output, TelegramOutput)

    with TelegramApi() as api:
        output.server = TelegramAPIServer.from_base(api.base_url)
        try:
            agent = AgentOutput(output, PlatformSettings())
            assert await show_typing(agent, "4242", True, "agent_typing")
            assert await show_typing(agent, "4242", False, "agent_typing")  # nothing to send
        finally:
            await close_outputs([telegram])

    assert api.calls() == [("sendChatAction", {"chat_id": "4242", "action": "typing"})]
