"""Agent messages reach the user's web chat and the tracker; echoes and user messages do not."""

from __future__ import annotations

from datetime import datetime

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet

from rasa_zendesk import constants
from rasa_zendesk.handoff import state
from tests.channel.harness import (
    Handoff,
    RasaServer,
    content,
    message_webhook,
    new_id,
)

pytestmark = pytest.mark.timeout(30)


async def test_agent_text_reaches_the_web_chat_and_the_tracker(
    rasa: RasaServer, handoff: Handoff
) -> None:
    webhook = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    event = webhook["events"][0]

    answer = await rasa.post_webhook(webhook)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert await handoff.chat.next_message() == {"text": "Hello!"}
    [*_, uttered] = await rasa.bot_events(handoff.sender_id)
    assert uttered.text == "Hello!"
    assert uttered.metadata == {
        constants.EVENT_ZENDESK_MESSAGE_ID: event["payload"]["message"]["id"],
        constants.EVENT_ZENDESK_EVENT_ID: event["id"],
        constants.EVENT_ZENDESK_AGENT_NAME: "Anna Agent",
        constants.EVENT_ZENDESK_RECEIVED: datetime.fromisoformat(
            event["payload"]["message"]["received"].replace("Z", "+00:00")
        ).timestamp(),
    }


async def test_the_first_agent_message_means_the_agent_joined(
    rasa: RasaServer, handoff: Handoff
) -> None:
    before = state.current((await rasa.tracker(handoff.sender_id)).events)
    assert before is not None and before.state == state.WAITING

    for text in ("Hi, Anna here", "How can I help?"):
        webhook = message_webhook(
            handoff.conversation_id, handoff.sender_id, {"type": "text", "text": text}
        )
        assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
        await handoff.chat.next_message()

    tracker = await rasa.tracker(handoff.sender_id)
    joined = state.current(tracker.events)
    assert joined is not None and joined.state == state.AGENT_JOINED
    assert joined.agent_name == "Anna Agent" and joined.id == before.id
    assert joined.agent_joined_at is not None and joined.agent_joined_at >= before.requested_at
    writes = [e for e in tracker.events if getattr(e, "key", None) == constants.SLOT_HANDOFF]
    assert len(writes) == 2  # opened, then joined once: the second message changes nothing


async def test_agent_image_arrives_as_an_image(rasa: RasaServer, handoff: Handoff) -> None:
    image = content("image")

    answer = await rasa.post_webhook(
        message_webhook(handoff.conversation_id, handoff.sender_id, image)
    )

    assert answer.status_code == 200, answer.text
    assert await handoff.chat.next_message() == {"text": image["text"]}
    assert await handoff.chat.next_message() == {
        "attachment": {"type": "image", "payload": {"src": image["mediaUrl"]}}
    }
    [*_, uttered] = await rasa.bot_events(handoff.sender_id)
    assert uttered.data["image"] == image["mediaUrl"]


async def test_agent_file_arrives_as_a_named_link(rasa: RasaServer, handoff: Handoff) -> None:
    file = content("file")

    answer = await rasa.post_webhook(
        message_webhook(handoff.conversation_id, handoff.sender_id, file)
    )

    assert answer.status_code == 200, answer.text
    link = f"[{file['altText']}]({file['mediaUrl']})"
    # The socket.io channel sends each paragraph as its own message.
    assert await handoff.chat.next_message() == {"text": file["text"]}
    assert await handoff.chat.next_message() == {"text": link}
    [*_, uttered] = await rasa.bot_events(handoff.sender_id)
    assert uttered.text == file["text"]
    payload = {"src": file["mediaUrl"], "title": file["altText"]}
    assert uttered.data == {"attachment": {"type": "file", "payload": payload}}


async def test_a_carousel_arrives_as_a_carousel(rasa: RasaServer, handoff: Handoff) -> None:
    carousel = content("carousel")

    answer = await rasa.post_webhook(
        message_webhook(handoff.conversation_id, handoff.sender_id, carousel)
    )

    assert answer.status_code == 200, answer.text
    shown = await handoff.chat.next_message()
    item = carousel["items"][0]
    first = shown["attachment"]["payload"]["elements"][0]
    assert (first["title"], first["subtitle"]) == (item["title"], item["description"])
    assert {"type": "web_url", "title": "More info", "url": "https://example.org"} in first[
        "buttons"
    ]


async def test_echoes_and_user_messages_are_not_relayed(rasa: RasaServer, handoff: Handoff) -> None:
    echo = message_webhook(
        handoff.conversation_id,
        handoff.sender_id,
        {"type": "text", "text": "transcript line posted by the plugin"},
        metadata=dict(constants.ORIGIN_METADATA),
    )
    from_user = message_webhook(
        handoff.conversation_id,
        handoff.sender_id,
        {"type": "text", "text": "user message relayed by the plugin"},
        author="user",
    )
    before = await rasa.tracker(handoff.sender_id)

    for webhook in (echo, from_user):
        answer = await rasa.post_webhook(webhook)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": "ok", "processed": 0, "ignored": 1}

    # A real agent message afterwards is the first thing the chat receives.
    await rasa.post_webhook(
        message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    )
    assert await handoff.chat.next_message() == {"text": "Hello!"}
    after = await rasa.tracker(handoff.sender_id)
    # The agent message, and the handoff's move to `agent_joined` that it brings.
    assert len(after.events) == len(before.events) + 2
    texts = [getattr(e, "text", None) for e in after.events]
    assert "transcript line posted by the plugin" not in texts
    assert "user message relayed by the plugin" not in texts


async def test_events_of_one_post_are_applied_in_order(rasa: RasaServer, handoff: Handoff) -> None:
    texts = [f"part {n}" for n in range(5)]
    webhooks = [
        message_webhook(handoff.conversation_id, handoff.sender_id, {"type": "text", "text": t})
        for t in texts
    ]
    envelope = webhooks[0]
    envelope["events"] = [w["events"][0] for w in webhooks]

    answer = await rasa.post_webhook(envelope)

    assert answer.json() == {"status": "ok", "processed": 5, "ignored": 0}
    assert [(await handoff.chat.next_message())["text"] for _ in texts] == texts
    assert [e.text for e in await rasa.bot_events(handoff.sender_id)][-5:] == texts


async def had_an_earlier_handoff(rasa: RasaServer, sender_id: str) -> str:
    """The user's earlier handoff, ended, in a session before the current one; its SunCo
    conversation id."""
    tracker = await rasa.tracker(sender_id)
    current = state.current(tracker.events)
    earlier = state.ended(state.opened("conv_" + new_id()), state.AGENT_RELEASED)
    for event in (
        SlotSet(constants.SLOT_HANDOFF, earlier.as_slot()),
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        SlotSet(constants.SLOT_HANDOFF, state.slot_value(current)),
        ActionExecuted(ACTION_LISTEN_NAME),
    ):
        tracker.update(event)
    await rasa.store.save(tracker)
    return earlier.conversation_id


async def test_an_agent_of_an_earlier_handoff_still_reaches_the_user(
    rasa: RasaServer, handoff: Handoff
) -> None:
    other_conversation = await had_an_earlier_handoff(rasa, handoff.sender_id)

    answer = await rasa.post_webhook(
        message_webhook(other_conversation, handoff.sender_id, content("text"))
    )

    # A person wrote to this user: never dropped silently, even from an older conversation.
    assert answer.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert [e.text for e in await rasa.bot_events(handoff.sender_id)] == [
        "An agent will be with you shortly.",
        content("text")["text"],
    ]
