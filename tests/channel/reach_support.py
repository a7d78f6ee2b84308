"""What the reach and rich-message tests share: the platforms' stand-ins pointed at, a Rasa
server whose callback channel posts to its stand-in, users in a handoff on a platform, and
the agent's side as SunCo webhooks."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional

import pytest
from aiogram.bot.api import TelegramAPIServer
from rasa.core.channels.channel import InputChannel
from rasa.core.channels.facebook import FacebookInput
from rasa.core.channels.slack import SlackInput
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.core.channels.twilio import TwilioInput
from rasa.shared.core.events import UserUttered

from rasa_zendesk.channel.outputs import close_outputs, output_channel_for
from testkit.platforms import (
    PAGE_TOKEN,
    SLACK_SIGNING_SECRET,
    SLACK_TOKEN,
    TELEGRAM_TOKEN,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    CallbackServer,
    GraphApi,
    SlackApi,
    TelegramApi,
    TwilioApi,
    point_messenger_at,
    point_slack_at,
    point_twilio_at,
)
from tests.channel.harness import (
    RasaServer,
    content,
    message_webhook,
    new_id,
    start_handoff,
    start_rasa,
    typing_webhook,
)


@pytest.fixture(name="slack_api")
def slack_api_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackApi]:
    with SlackApi() as api:
        point_slack_at(monkeypatch, api)
        yield api


@pytest.fixture(name="twilio_api")
def twilio_api_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[TwilioApi]:
    with TwilioApi() as api:
        point_twilio_at(monkeypatch, api)
        yield api


@pytest.fixture(name="graph_api")
def graph_api_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphApi]:
    with GraphApi() as api:
        point_messenger_at(monkeypatch, api)
        yield api


@pytest.fixture(name="telegram_api")
def telegram_api_fixture() -> Iterator[TelegramApi]:
    with TelegramApi() as api:
        yield api


@pytest.fixture(name="callback")
def callback_fixture() -> Iterator[CallbackServer]:
    with CallbackServer() as server:
        yield server


@pytest.fixture(name="rasa")
async def rasa_fixture(tmp_path: Path, callback: CallbackServer) -> AsyncIterator[RasaServer]:
    server = await start_rasa(tmp_path / "tracker.db", callback_url=callback.url)
    yield server
    await server.stop()
    await close_outputs(server.app.ctx.input_channels)


def slack_input(use_threads: bool = True, granularity: str = "sender") -> SlackInput:
    """Rasa's Slack channel as credentials.yml makes it."""
    channel = SlackInput.from_credentials(
        {
            "slack_token": SLACK_TOKEN,
            "slack_channel": "C0DEFAULT",  # where get_output_channel() alone would post
            "slack_signing_secret": SLACK_SIGNING_SECRET,
            "use_threads": use_threads,
            "conversation_granularity": granularity,
        }
    )
    assert isinstance(channel, SlackInput)
    return channel


def slack_event_metadata(channel: str, ts: str, thread_ts: Optional[str] = None) -> Dict[str, Any]:
    """What Rasa's `SlackInput.get_metadata` makes of Slack's event for a user's message."""
    event = {"type": "message", "user": "U0USER", "channel": channel, "ts": ts, "text": "hi"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    body = {"type": "event_callback", "event": event, "authorizations": [{"user_id": "U0BOT"}]}
    request = SimpleNamespace(headers={"content-type": "application/json"}, json=body)
    return slack_input().get_metadata(request)  # type: ignore[arg-type]


async def handoff_on(
    rasa: RasaServer, sender_id: str, channel: str, *metadata: Dict[str, Any]
) -> str:
    """A handoff the user began on `channel`; each `metadata` is one more message of theirs."""
    conversation_id = "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id, input_channel=channel)
    if metadata:
        tracker = await rasa.tracker(sender_id)
        for index, data in enumerate(metadata):
            tracker.update(UserUttered(f"message {index}", input_channel=channel, metadata=data))
        await rasa.store.save(tracker)
    return conversation_id


async def agent_sends(
    rasa: RasaServer, conversation_id: str, sender_id: str, *contents: Dict[str, Any]
) -> None:
    for message in contents:
        answer = await rasa.post_webhook(message_webhook(conversation_id, sender_id, message))
        assert answer.json()["processed"] == 1, answer.text


async def agent_types(rasa: RasaServer, conversation_id: str, sender_id: str) -> None:
    for activity in ("typing:start", "typing:stop"):
        webhook = typing_webhook(conversation_id, sender_id, activity)
        assert (await rasa.post_webhook(webhook)).status_code == 200


def text(value: str) -> Dict[str, Any]:
    return {"type": "text", "text": value}


def twilio_input() -> TwilioInput:
    return TwilioInput(TWILIO_SID, TWILIO_TOKEN, TWILIO_NUMBER)


def facebook_input() -> FacebookInput:
    return FacebookInput("verify-token", "app-secret", PAGE_TOKEN)


def add_telegram(channels: List[InputChannel], api: TelegramApi) -> TelegramOutput:
    """A Telegram channel, its kept output channel pointed at the stand-in."""
    channels.append(TelegramInput(TELEGRAM_TOKEN, "acme_bot", "https://bot.example.org/tg"))
    output = output_channel_for(channels, "telegram")
    assert isinstance(output, TelegramOutput)
    output.server = TelegramAPIServer.from_base(api.base_url)
    return output


def without_chat(fields: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in fields.items() if key != "chat_id"}


# The agent's rich messages, as SunCo contents ---------------------------------------------

DOCS = "https://example.org/docs"
PLANS = "https://example.org/plans"
TACO = "https://example.org/image.jpg"
MAP = "https://www.openstreetmap.org/?mlat=52.52&mlon=13.405"

QUICK_REPLIES = {
    "type": "text",
    "text": "Which size?",
    "actions": [
        {"type": "reply", "text": "Small", "payload": "SIZE_S"},
        {"type": "reply", "text": "Large", "payload": "SIZE_L"},
    ],
}
POSTBACK_AND_LINK = {
    "type": "text",
    "text": "Pick one",
    "actions": [
        {"type": "postback", "text": "Yes", "payload": "YES"},
        {"type": "link", "text": "Docs", "uri": DOCS},
    ],
}
CAROUSEL = content("carousel")  # Tacos and Ramen, each "Select" (postback) and "More info"
LOCATION = {
    "type": "location",
    "coordinates": {"lat": 52.52, "long": 13.405},
    "location": {"name": "Acme store", "address": "1 Main St"},
}
FORM = {
    "type": "form",
    "fields": [
        {
            "type": "select",
            "name": "size",
            "label": "Size",
            "options": [{"name": "s", "label": "Small"}, {"name": "l", "label": "Large"}],
        }
    ],
}
LIST = {
    "type": "list",
    "items": [
        {
            "title": "Plan A",
            "description": "10 EUR a month",
            "actions": [{"type": "postback", "text": "Choose", "payload": "PLAN_A"}],
        }
    ],
    "actions": [{"type": "link", "text": "All plans", "uri": PLANS}],
}
IMAGE_WITH_ACTIONS = {
    "type": "image",
    "mediaUrl": TACO,
    "text": "Like it?",
    "actions": [{"type": "reply", "text": "Yes"}, {"type": "reply", "text": "No"}],
}
ALL = [QUICK_REPLIES, POSTBACK_AND_LINK, CAROUSEL, LOCATION, FORM, LIST, IMAGE_WITH_ACTIONS]
