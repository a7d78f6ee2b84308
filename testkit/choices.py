"""A Rasa server with one platform's own input channel (Sanic, a free port) that collects the
user messages Rasa makes of a platform's request, and the agent's offer of choices: for the
tests that a user's pick of a rendered reply or postback reaches Rasa as the words they chose
(each platform's test module posts its own request: Slack's `block_actions`, Telegram's
`callback_query`, Messenger's `postback`, rasa-webchat's `user_uttered`)."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Dict, List

import pytest
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from rasa_zendesk.channel.render import render
from rasa_zendesk.sunco.models import Content
from testkit.channel_harness import new_id
from testkit.platforms import text_with
from testkit.processes import free_ports

OFFER = text_with(
    "Which size?",
    ("reply", "Small", "SIZE_S"),
    ("postback", "Large", "SIZE_L"),
    ("link", "Size guide", "https://example.org/sizes"),
)


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


@pytest.fixture(name="offered")
def offered_fixture() -> Dict[str, Any]:
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


@pytest.fixture(name="stop_after")
async def stop_after_fixture() -> AsyncIterator[List[Rasa]]:
    started: List[Rasa] = []
    yield started
    for rasa in started:
        await rasa.stop()
