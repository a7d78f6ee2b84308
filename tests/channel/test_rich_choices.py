"""A user's pick of an agent's reply or postback reaches Rasa as the words the user chose, once.

The agent's offer is rendered (`render`) and shaped for the platform
(`tests/platforms/test_send_rich.py` checks what the platform receives); here each platform's
own request for the user's pick (Slack's `block_actions`, Telegram's `callback_query` and
reply-keyboard message, Messenger's `postback` and `quick_reply`, rasa-webchat's
`user_uttered`) is posted to Rasa's own input channel, served by Sanic, and the user messages
Rasa makes of it are collected. The relay passes a user message's text to the agent as it is
(`actions/relay.py`), so the agent reads what the user chose.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any, AsyncIterator, Dict, List

import httpx
import pytest
import socketio
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Sanic

from rasa_zendesk.channel.render import render
from rasa_zendesk.sunco.models import Content
from testkit.channel_harness import content, new_id
from testkit.platforms import (
    SLACK_SIGNING_SECRET,
    TELEGRAM_TOKEN,
    GraphApi,
    TelegramApi,
    facebook_input,
    point_messenger_at,
    slack_input,
)
from testkit.processes import free_ports

pytestmark = pytest.mark.timeout(60)

OFFER = {
    "type": "text",
    "text": "Which size?",
    "actions": [
        {"type": "reply", "text": "Small", "payload": "SIZE_S"},
        {"type": "postback", "text": "Large", "payload": "SIZE_L"},
        {"type": "link", "text": "Size guide", "uri": "https://example.org/sizes"},
    ],
}


class Rasa:
    """Rasa's input channels on a Sanic server whose `on_new_message` collects what the
    channels make of a request, as Rasa's agent would get it."""

    def __init__(self, channels: List[InputChannel]) -> None:
        self.channels = channels
        self.messages: asyncio.Queue[UserMessage] = asyncio.Queue()
        self.url = ""
        self._server: Any = None

    async def start(self) -> Rasa:
        from rasa.core.channels.channel import register

        app = Sanic("choices_" + new_id())
        app.ctx.agent = self  # `register`'s handler calls agent.handle_message
        register(self.channels, app, route="/webhooks/")
        port = free_ports(1)[0]
        self._server = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
        )
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def handle_message(self, message: UserMessage) -> None:
        await self.messages.put(message)

    async def picked(self) -> List[str]:
        """The texts of the user messages Rasa made, once every background task is done."""
        await asyncio.sleep(0.3)  # Slack hands the message to a background task
        texts = []
        while not self.messages.empty():
            texts.append(self.messages.get_nowait().text)
        return texts

    async def stop(self) -> None:
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()


@pytest.fixture
def offered() -> Dict[str, Any]:
    """What the agent's offer records: its choices send their labels."""
    text, data = render(Content.parse_obj(OFFER))
    assert text == "Which size?"
    assert data["buttons"][:2] == [
        {"title": "Small", "payload": "Small"},
        {"title": "Large", "payload": "Large"},
    ]
    return data


async def running(*channels: InputChannel) -> Rasa:
    return await Rasa(list(channels)).start()


@pytest.fixture
async def stop_after() -> AsyncIterator[List[Rasa]]:
    started: List[Rasa] = []
    yield started
    for rasa in started:
        await rasa.stop()


async def test_a_slack_button_sends_its_label_and_a_link_button_nothing(
    offered: Dict[str, Any], stop_after: List[Rasa]
) -> None:
    rasa = await running(slack_input())
    stop_after.append(rasa)

    def click(action: Dict[str, Any]) -> Dict[str, Any]:
        payload = {
            "type": "block_actions",
            "user": {"id": "U0USER"},
            "channel": {"id": "C0SUPPORT"},
            "message": {"ts": "1700000300.000400", "thread_ts": "1700000000.000100"},
            "actions": [action],
        }
        body = str(httpx.QueryParams({"payload": json.dumps(payload)}))
        stamp = str(int(time.time()))
        digest = hmac.new(
            SLACK_SIGNING_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256
        ).hexdigest()
        return {
            "content": body,
            "headers": {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": f"v0={digest}",
            },
        }

    large = offered["buttons"][1]["payload"]
    async with httpx.AsyncClient(base_url=rasa.url) as http:
        for action in (
            {"type": "button", "action_id": "zendesk_1", "value": large},
            {"type": "button", "action_id": "zendesk_2", "url": "https://example.org/sizes"},
        ):
            answer = await http.post("/webhooks/slack/webhook", **click(action))
            assert answer.status_code == 200, answer.text

    assert await rasa.picked() == ["Large"]


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


async def test_a_messenger_postback_or_quick_reply_sends_its_label(
    offered: Dict[str, Any], stop_after: List[Rasa], monkeypatch: pytest.MonkeyPatch
) -> None:
    with GraphApi() as api:
        point_messenger_at(monkeypatch, api)  # Rasa marks the message seen, shows typing
        rasa = await running(facebook_input())
        stop_after.append(rasa)
        sender = {"id": "6543210987654323"}
        events = [
            {
                "sender": sender,
                "recipient": {"id": "PAGE"},
                "timestamp": 1,
                "postback": {"title": "Large", "payload": offered["buttons"][1]["payload"]},
            },
            {
                "sender": sender,
                "recipient": {"id": "PAGE"},
                "timestamp": 2,
                "message": {
                    "mid": "m1",
                    "text": "Small",
                    "quick_reply": {"payload": offered["buttons"][0]["payload"]},
                },
            },
        ]
        async with httpx.AsyncClient(base_url=rasa.url) as http:
            for event in events:
                body = json.dumps(
                    {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [event]}]}
                )
                signature = hmac.new(b"app-secret", body.encode(), hashlib.sha1).hexdigest()
                answer = await http.post(
                    "/webhooks/facebook/webhook",
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature": f"sha1={signature}",
                    },
                )
                assert answer.text == "success"
        picked = await rasa.picked()

    assert picked == ["Large", "Small"]


async def test_a_web_chat_quick_reply_sends_its_label(stop_after: List[Rasa]) -> None:
    rasa = await running(SocketIOInput())
    stop_after.append(rasa)
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        rasa.url, socketio_path="/socket.io", transports=["polling"], wait_timeout=5
    )
    try:
        # rasa-webchat shows the reply's title as the user's words and sends its payload.
        await client.emit("user_uttered", {"message": "Small", "session_id": "s1"})
        for _ in range(50):
            if not rasa.messages.empty():
                break
            await asyncio.sleep(0.05)
    finally:
        await client.disconnect()

    assert await rasa.picked() == ["Small"]


def test_a_card_choice_names_its_card() -> None:
    _, data = render(Content.parse_obj(content("carousel")))

    payloads = [
        button.get("payload") for element in data["elements"] for button in element["buttons"]
    ]
    assert payloads == ["Select (Tacos)", None, "Select (Ramen)", None]
