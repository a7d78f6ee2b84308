"""An agent's message (`rasa_zendesk.channel.handlers.agent_message`): what is left alone, and
the first message of a waiting handoff, which says who joined first."""

from __future__ import annotations

from typing import Any, Dict, Optional

import pytest

from rasa_zendesk import constants
from rasa_zendesk.channel.handlers import agent_message
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.webhooks import MessageEvent, parse_event
from testkit.action_calls import DOMAIN
from testkit.channel_harness import content, message_webhook
from testkit.in_memory_rasa import CONVERSATION, SENDER, in_memory_rasa


def message(author: str = "business", metadata: Optional[Dict[str, Any]] = None) -> MessageEvent:
    envelope = message_webhook(CONVERSATION, SENDER, content("text"), author=author)
    if metadata is not None:
        envelope["events"][0]["payload"]["message"]["metadata"] = metadata
    event = parse_event(envelope["events"][0])
    assert isinstance(event, MessageEvent)
    return event


@pytest.mark.parametrize(
    ("event", "note"),
    [
        (message(author="user"), "authored by the user"),
        (message(metadata=constants.ORIGIN_METADATA), "posted by the plugin (echo)"),
    ],
)
async def test_what_is_not_an_agents_message(event: MessageEvent, note: str) -> None:
    server = await in_memory_rasa(DOMAIN)
    result = await agent_message.handle(event, server.rasa, "default")
    assert (result.applied, result.note) == (False, note)
    assert await server.said() == []


async def test_the_first_message_says_who_joined_then_what_they_wrote() -> None:
    server = await in_memory_rasa(DOMAIN)
    event = message()
    assert (await agent_message.handle(event, server.rasa, "default")).applied
    joined, written = await server.said()
    assert joined.text == "Anna Agent has joined the chat."
    assert written.metadata[constants.EVENT_ZENDESK_MESSAGE_ID] == event.payload.message.id
    record = await server.record()
    assert record is not None and (record.state, record.agent_name) == (
        state.AGENT_JOINED,
        "Anna Agent",
    )
    # The next one is only the message.
    assert (await agent_message.handle(message(), server.rasa, "default")).applied
    assert len(await server.said()) == 3


async def test_a_conversation_that_is_not_the_bots() -> None:
    server = await in_memory_rasa(DOMAIN, owner=None)
    result = await agent_message.handle(message(), server.rasa, "default")
    assert (result.applied, result.note) == (False, "not a conversation of this bot")
