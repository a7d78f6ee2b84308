"""A platform whose sends hang harms no other conversation: Twilio's and Messenger's output
channels block on HTTP, so their sends run in threads of their own platform (not the loop's
default executor, which Rasa and asyncio's name lookups share), and each send fails after
`platform_send_timeout` (the webhook answers 5xx, so Zendesk retries it), as the channel read
it at start: the environment changed afterwards changes nothing.

The Twilio stand-in hangs for chosen numbers, more of them than the platform has threads;
meanwhile an SMS to another user, a Messenger message and a Telegram message go through.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, Callable, Iterator, List, Tuple

import httpx
import pytest
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.platforms import outputs
from rasa_zendesk.platforms.messenger import CheckedClient
from rasa_zendesk.settings import PlatformSettings, SettingsError, Sources
from testkit.channel_harness import CREDENTIALS, RasaServer, message_webhook
from testkit.platforms import (
    GraphApi,
    Received,
    TelegramApi,
    TwilioApi,
    add_telegram,
    facebook_input,
    text,
    twilio_input,
)
from testkit.reach import agent_sends, handoff_on

pytestmark = pytest.mark.timeout(60)

TIMEOUT = 3


@pytest.fixture
def hung(twilio_api: TwilioApi) -> Iterator[List[str]]:
    """The numbers whose SMS the Twilio stand-in holds until the test ends."""
    numbers: List[str] = []
    release = threading.Event()
    answer: Callable[[Received], Any] = twilio_api.answer

    def hold(request: Received) -> Any:
        if request.form().get("To", [None])[0] in numbers:
            release.wait(30)
        return answer(request)

    twilio_api.answer = hold  # type: ignore[method-assign]
    yield numbers
    release.set()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def hang(rasa: RasaServer, hung: List[str], numbers: List[str]) -> List[asyncio.Task]:
    """An agent's message to each of these SMS users, whose sends hang."""
    hung += numbers
    stuck = []
    for number in numbers:
        conversation_id = await handoff_on(rasa, number, "twilio")
        webhook = message_webhook(conversation_id, number, text("Are you there?"))
        stuck.append(asyncio.create_task(rasa.post_webhook(webhook)))
    return stuck


async def serve(rasa: RasaServer, *users: Tuple[str, str]) -> None:
    for sender_id, channel in users:
        conversation_id = await handoff_on(rasa, sender_id, channel)
        await agent_sends(rasa, conversation_id, sender_id, text(f"Hello on {channel}"))


@pytest.fixture(autouse=True)
def short_send_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short `platform_send_timeout` where the server starts (autouse: before `rasa`)."""
    monkeypatch.setenv("ZENDESK_PLATFORM_SEND_TIMEOUT", str(TIMEOUT))


@pytest.fixture
def channels(
    rasa: RasaServer,
    twilio_api: TwilioApi,
    graph_api: GraphApi,
    telegram_api: TelegramApi,
    monkeypatch: pytest.MonkeyPatch,
) -> RasaServer:
    """Twilio, Messenger and Telegram users; the send timeout changed after the server
    started, which no send reads (a hung send waiting 60 s fails the tests' time bounds)."""
    assert rasa.zendesk.config.sending.send_timeout == TIMEOUT
    monkeypatch.setenv("ZENDESK_PLATFORM_SEND_TIMEOUT", "60")
    rasa.app.ctx.input_channels += [twilio_input(), facebook_input()]
    add_telegram(rasa.app.ctx.input_channels, telegram_api)
    return rasa


async def test_a_hung_send_fails_in_time_while_everyone_else_is_served(
    channels: RasaServer,
    twilio_api: TwilioApi,
    graph_api: GraphApi,
    telegram_api: TelegramApi,
    hung: List[str],
) -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()
    [stuck] = await hang(channels, hung, ["+15550000001"])
    await until(lambda: len(twilio_api.messages()) == 1)
    graph_api.user_wrote("6543210987654321")

    await serve(
        channels,
        ("+15559990000", "twilio"),
        ("6543210987654321", "facebook"),
        ("7000099", "telegram"),
    )

    assert not stuck.done()  # the others went while it hung
    assert [m["Body"] for m in twilio_api.messages()[1:]] == [["Hello on twilio"]]
    assert [body["message"] for body in graph_api.sent()] == [{"text": "Hello on facebook"}]
    assert [f["text"] for m, f in telegram_api.calls() if m == "sendMessage"] == [
        "Hello on telegram"
    ]
    assert (await stuck).status_code == 500  # that delivery failed: Zendesk retries it
    assert loop.time() - began < TIMEOUT + 2


async def test_a_platform_that_hangs_every_send_starves_no_other_platform(
    channels: RasaServer, twilio_api: TwilioApi, graph_api: GraphApi, hung: List[str]
) -> None:
    """More hung SMS than Twilio's threads, and than the default executor has."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    count = max(outputs.SEND_THREADS, min(32, (os.cpu_count() or 1) + 4)) + 2
    stuck = await hang(channels, hung, [f"+1555000{index:04d}" for index in range(count)])
    await until(lambda: len(twilio_api.messages()) >= outputs.SEND_THREADS)
    graph_api.user_wrote("6543210987654321")

    await serve(channels, ("6543210987654321", "facebook"))

    assert [body["message"] for body in graph_api.sent()] == [{"text": "Hello on facebook"}]
    assert loop.time() - began < TIMEOUT  # it did not wait for the hung ones
    answers: List[httpx.Response] = await asyncio.gather(*stuck)
    assert [answer.status_code for answer in answers] == [500] * count
    assert loop.time() - began < TIMEOUT + 2  # the queued ones too: their wait counts


def test_the_timeout_read_at_start_bounds_each_http_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twilio's and Messenger's clients wait on one HTTP call at most the channel's
    `platform_send_timeout`, not what the environment says at the send."""
    config = ChannelConfig.from_credentials({**CREDENTIALS, "platform_send_timeout": "7"}, {})
    monkeypatch.setenv("ZENDESK_PLATFORM_SEND_TIMEOUT", "60")
    channels = [twilio_input(), facebook_input()]
    tracker = DialogueStateTracker("someone", [])

    sms = outputs.agent_output(channels, tracker, "twilio", config.sending)
    facebook = outputs.agent_output(channels, tracker, "facebook", config.sending)

    assert isinstance(sms, outputs.AgentOutput) and isinstance(facebook, outputs.AgentOutput)
    assert sms.sending.send_timeout == facebook.sending.send_timeout == 7
    assert sms.output.http_client.timeout == 7  # type: ignore[attr-defined]
    client = facebook.output.messenger_client  # type: ignore[attr-defined]
    assert isinstance(client, CheckedClient) and client.timeout == 7


def test_the_send_timeout_setting() -> None:
    assert PlatformSettings.read(Sources(None, {})).send_timeout == 15
    assert PlatformSettings.read(Sources({"platform_send_timeout": "5"}, {})).send_timeout == 5
    for wrong in ("0", "-1", "soon"):
        with pytest.raises(SettingsError, match="ZENDESK_PLATFORM_SEND_TIMEOUT"):
            PlatformSettings.read(Sources(None, {"ZENDESK_PLATFORM_SEND_TIMEOUT": wrong}))
