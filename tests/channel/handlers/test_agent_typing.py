"""The agent's typing (`rasa_zendesk.channel.handlers.agent_typing`): only an agent's, only
during the conversation's handoff, never written to the tracker."""

from __future__ import annotations

import pytest

from rasa_zendesk.channel.handlers import agent_typing
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.webhooks import ActivityEvent, parse_event
from testkit.action_calls import DOMAIN
from testkit.channel_harness import (
    Handoff,
    RasaServer,
    new_id,
    start_handoff,
    typing_webhook,
)
from testkit.in_memory_rasa import CONVERSATION, SENDER, in_memory_rasa


def typing(activity: str = "typing:start") -> ActivityEvent:
    event = parse_event(typing_webhook(CONVERSATION, SENDER, activity)["events"][0])
    assert isinstance(event, ActivityEvent)
    return event


async def test_a_channel_without_typing_is_told_nothing_and_nothing_is_written() -> None:
    server = await in_memory_rasa(DOMAIN)
    before = len((await server.tracker()).events)
    result = await agent_typing.handle(typing(), server.rasa, "default")
    assert (result.applied, result.note) == (False, "channel shows no typing")
    assert len((await server.tracker()).events) == before


async def test_not_typing_and_not_in_a_handoff() -> None:
    server = await in_memory_rasa(DOMAIN)
    assert (
        await agent_typing.handle(typing("conversation:read"), server.rasa, "default")
    ).note == ("not agent typing")
    over = await in_memory_rasa(
        DOMAIN, handoff=state.ended(state.opened(CONVERSATION), state.USER_ENDED)
    )
    assert (await agent_typing.handle(typing(), over.rasa, "default")).note == "no active handoff"


async def test_another_connectors_conversation_is_refused() -> None:
    server = await in_memory_rasa(DOMAIN)
    assert (await agent_typing.handle(typing(), server.rasa, "eu")).refused


@pytest.mark.timeout(30)
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


@pytest.mark.timeout(30)
async def test_typing_changes_nothing_in_the_tracker(rasa: RasaServer, handoff: Handoff) -> None:
    before = await rasa.tracker(handoff.sender_id)

    await rasa.post_webhook(typing_webhook(handoff.conversation_id, handoff.sender_id))

    await handoff.chat.next_typing()
    assert len((await rasa.tracker(handoff.sender_id)).events) == len(before.events)


@pytest.mark.timeout(30)
async def test_user_typing_is_not_passed_on(rasa: RasaServer, handoff: Handoff) -> None:
    webhook = typing_webhook(handoff.conversation_id, handoff.sender_id)
    webhook["events"][0]["payload"]["activity"]["author"] = {"type": "user", "userId": "u1"}

    answer = await rasa.post_webhook(webhook)

    assert answer.json() == {"status": "ok", "processed": 0, "ignored": 1}
    assert handoff.chat.typing.empty()


@pytest.mark.timeout(30)
async def test_channels_without_typing_ignore_it(rasa: RasaServer) -> None:
    sender_id, conversation_id = "rest-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id, input_channel="rest")

    answer = await rasa.post_webhook(typing_webhook(conversation_id, sender_id))

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "processed": 0, "ignored": 1}
