"""Agent typing reaches a web chat; channels without a typing indicator ignore it."""

from __future__ import annotations

import pytest

from tests.channel.conftest import (
    Handoff,
    RasaServer,
    new_id,
    start_handoff,
    typing_webhook,
)

pytestmark = pytest.mark.timeout(30)


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
