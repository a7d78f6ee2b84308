"""The channel's write path marks what a user's channel could not push (REST), and only that:
a real Rasa server in process, webhooks over HTTP, each tracker store the channel supports."""

from __future__ import annotations

import pytest

from rasa_zendesk import constants
from rasa_zendesk.handoff import pending
from testkit.channel_harness import (
    Handoff,
    RasaServer,
    content,
    message_webhook,
    new_id,
    release_webhook,
    start_handoff,
)

pytestmark = pytest.mark.timeout(60)


async def test_agent_messages_and_the_end_for_a_rest_user_wait_to_be_handed_out(
    rasa: RasaServer,
) -> None:
    sender_id, conversation_id = "rest-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id, input_channel="rest")

    for webhook in (
        message_webhook(conversation_id, sender_id, content("text")),
        message_webhook(conversation_id, sender_id, content("image")),
        release_webhook(conversation_id, sender_id),
    ):
        assert (await rasa.post_webhook(webhook)).json()["processed"] == 1

    events = (await rasa.tracker(sender_id)).events
    waiting = pending.not_handed_out(events)
    assert len(waiting) == 3, [e.text for e in waiting]
    assert waiting[0].text == "Hello!" and waiting[1].data.get("image")
    assert "back with the bot" in (waiting[2].text or "")  # the end notice, last
    ids = [e.metadata[constants.EVENT_PENDING] for e in waiting]
    assert len(set(ids)) == 3


async def test_nothing_waits_for_a_user_whose_channel_pushes(
    rasa: RasaServer, handoff: Handoff
) -> None:
    webhook = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
    assert (await handoff.chat.next_message())["text"] == "Hello!"
    assert pending.not_handed_out((await rasa.tracker(handoff.sender_id)).events) == []
