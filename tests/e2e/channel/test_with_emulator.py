"""The channel against the project's Zendesk emulator, in-process: the sender id lookup that
asks SunCo when a webhook lacks the conversation metadata, and the whole agent side (reply,
image, typing, solve) arriving as the emulator's own webhooks."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest

from rasa_zendesk import constants
from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.emulator import EmulatorConfig, run_emulator
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.client import SunCoClient
from rasa_zendesk.sunco.models import Author
from testkit.channel_harness import (
    CREDENTIALS,
    HANDOFF_ENDED_TEXT,
    WebChat,
    content,
    message_webhook,
    new_id,
    open_web_chat,
    start_rasa,
)
from testkit.emulator_stack import EmulatorStack, emulator_stack

pytestmark = pytest.mark.timeout(40)


@pytest.fixture
async def stack(db_path: Path) -> AsyncIterator[EmulatorStack]:
    async with emulator_stack(db_path) as running:
        yield running


async def test_without_metadata_the_sender_id_is_asked_of_sunco_once(stack: EmulatorStack) -> None:
    sender_id, conversation_id = await stack.new_handoff()
    chat = await open_web_chat(stack.rasa.url, sender_id)
    try:
        for text in ("first", "second"):
            webhook = message_webhook(conversation_id, None, {"type": "text", "text": text})
            answer = await stack.rasa.post_webhook(webhook)
            assert answer.json() == {"status": "ok", "processed": 1, "ignored": 0}
            assert await chat.next_message() == {"text": text}
    finally:
        await chat.client.disconnect()
    lookups = await stack.api_calls("GET", f"/conversations/{conversation_id}")
    assert [r["status"] for r in lookups] == [200]  # then cached


async def test_a_conversation_sunco_does_not_know_is_ignored_with_a_warning(
    stack: EmulatorStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rasa_zendesk")
    unknown = "conv_" + new_id()

    answer = await stack.rasa.post_webhook(message_webhook(unknown, None, content("text")))

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "processed": 0, "ignored": 1}
    assert f"is for conversation {unknown}, which has no Rasa sender id" in caplog.text
    assert [r["status"] for r in await stack.api_calls("GET", unknown)] == [404]


async def test_a_conversation_without_our_metadata_is_not_ours(stack: EmulatorStack) -> None:
    sender_id, conversation_id = await stack.new_handoff(metadata=False)

    answer = await stack.rasa.post_webhook(message_webhook(conversation_id, None, content("text")))

    assert answer.json() == {"status": "ok", "processed": 0, "ignored": 1}
    assert [e.text for e in await stack.rasa.bot_events(sender_id)] == [
        "An agent will be with you shortly."
    ]


async def test_a_lookup_survives_one_sunco_failure(stack: EmulatorStack) -> None:
    sender_id, conversation_id = await stack.new_handoff()
    await stack.control(
        "POST", "/faults", {"method": "GET", "pathContains": conversation_id, "status": 503}
    )

    answer = await stack.rasa.post_webhook(message_webhook(conversation_id, None, content("text")))

    assert answer.json()["processed"] == 1
    assert [r["status"] for r in await stack.api_calls("GET", conversation_id)] == [503, 200]


async def test_when_sunco_cannot_answer_the_webhook_is_retried_later(db_path: Path) -> None:
    """Not knowing whether the conversation is ours, the channel must not drop the message."""
    async with run_emulator(
        EmulatorConfig(
            port=0,
            app_id=CREDENTIALS["app_id"],
            key_id=CREDENTIALS["key_id"],
            key_secret=CREDENTIALS["key_secret"],
        )
    ) as emulator:
        config = ChannelConfig.from_credentials({**CREDENTIALS, "api_url": emulator.api_url})
        sunco = SunCoClient.from_settings(config.settings, deadline=0.5, backoff_base=0.05)
        rasa = await start_rasa(db_path, zendesk=ZendeskInput(config, sunco=sunco))
        try:
            async with httpx.AsyncClient(base_url=emulator.base_url) as http:
                await http.post(
                    "/_emulator/faults",
                    json={"pathContains": "/conversations/", "status": 500, "count": 100},
                )
            answer = await rasa.post_webhook(message_webhook("conv_x", None, content("text")))
            assert answer.status_code == 500
        finally:
            await rasa.stop()


async def test_the_agent_side_through_the_emulator(stack: EmulatorStack) -> None:
    sender_id, conversation_id = await stack.new_handoff()
    await stack.sunco.pass_control(conversation_id, constants.AGENT_WORKSPACE)
    chat: WebChat = await open_web_chat(stack.rasa.url, sender_id)
    conversation = f"/conversations/{conversation_id}"
    try:
        # The plugin's own transcript line comes back as a webhook: an echo, not relayed.
        await stack.sunco.post_message(
            conversation_id, Author.business("Bot"), "transcript", constants.ORIGIN_METADATA
        )
        await stack.control("POST", conversation + "/typing", {"typing": True})
        await stack.control("POST", conversation + "/agent-message", {"text": "Hi, I am Alex"})
        await stack.control(
            "POST",
            conversation + "/agent-message",
            {"type": "image", "mediaUrl": "https://example.org/screen.png"},
        )
        await stack.control("POST", conversation + "/solve")
        deliveries = await stack.settled()

        assert await chat.next_typing() == {"typing": True, "agent_name": "Alex (Zendesk agent)"}
        assert await chat.next_message() == {"text": "Hi, I am Alex"}
        assert await chat.next_message() == {
            "attachment": {"type": "image", "payload": {"src": "https://example.org/screen.png"}}
        }
        assert await chat.next_message() == {"text": HANDOFF_ENDED_TEXT}
        chat.assert_no_more_messages()
    finally:
        await chat.client.disconnect()
    assert deliveries and all(d["attempts"][-1]["status"] == 200 for d in deliveries), deliveries
    tracker = await stack.rasa.tracker(sender_id)
    ended = state.current(tracker.events)
    assert ended is not None and ended.state == state.ENDED
    assert ended.end_reason == state.TICKET_CLOSED
    agent_events = [e for e in tracker.events if e.metadata.get(constants.EVENT_ZENDESK_AGENT_NAME)]
    assert [e.text for e in agent_events] == ["Hi, I am Alex", None]
