"""A retried or duplicated event is delivered once: the check is the tracker store's events,
so it holds after a restart of the Rasa server (a new app on the same SQLite file) too."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from rasa_zendesk import constants
from rasa_zendesk.channel.tracker_access import handoff_started_in_session
from rasa_zendesk.handoff import state
from testkit.channel_harness import (
    Handoff,
    RasaServer,
    content,
    message_webhook,
    new_id,
    open_web_chat,
    start_handoff,
    start_rasa,
)

pytestmark = pytest.mark.timeout(30)


async def delivered_ids(rasa: RasaServer, sender_id: str) -> list:
    return [
        e.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)
        for e in await rasa.bot_events(sender_id)
        if e.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)
    ]


async def test_the_same_event_twice_is_delivered_once(rasa: RasaServer, handoff: Handoff) -> None:
    webhook = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    message_id = webhook["events"][0]["payload"]["message"]["id"]

    first = await rasa.post_webhook(webhook)
    again = await rasa.post_webhook(webhook)

    assert first.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert again.json() == {"status": "ok", "processed": 0, "ignored": 1}
    assert await handoff.chat.next_message() == {"text": "Hello!"}
    assert await delivered_ids(rasa, handoff.sender_id) == [message_id]
    handoff.chat.assert_no_more_messages()


async def test_the_same_message_in_a_new_event_is_delivered_once(
    rasa: RasaServer, handoff: Handoff
) -> None:
    webhook = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    redelivered = copy.deepcopy(webhook)
    redelivered["events"][0]["id"] = new_id()

    await rasa.post_webhook(webhook)
    again = await rasa.post_webhook(redelivered)

    assert again.json()["ignored"] == 1
    assert len(await delivered_ids(rasa, handoff.sender_id)) == 1


async def test_a_duplicate_in_the_same_post_is_delivered_once(
    rasa: RasaServer, handoff: Handoff
) -> None:
    webhook = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    webhook["events"].append(copy.deepcopy(webhook["events"][0]))

    answer = await rasa.post_webhook(webhook)

    assert answer.json() == {"status": "ok", "processed": 1, "ignored": 1}
    assert len(await delivered_ids(rasa, handoff.sender_id)) == 1


async def test_concurrent_retries_are_delivered_once(rasa: RasaServer, handoff: Handoff) -> None:
    """SunCo may retry while the first attempt is still running: the lock serialises them."""
    webhook = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))

    answers = await asyncio.gather(*(rasa.post_webhook(webhook) for _ in range(5)))

    assert sorted(a.json()["processed"] for a in answers) == [0, 0, 0, 0, 1]
    assert len(await delivered_ids(rasa, handoff.sender_id)) == 1


async def test_a_retry_after_a_restart_is_delivered_once(db_path: Path) -> None:
    sender_id, conversation_id = "webchat-" + new_id(), "conv_" + new_id()
    webhook = message_webhook(conversation_id, sender_id, content("text"))
    first = await start_rasa(db_path)
    try:
        await start_handoff(first.store, sender_id, conversation_id)
        assert (await first.post_webhook(webhook)).json()["processed"] == 1
    finally:
        await first.stop()

    restarted = await start_rasa(db_path)
    chat = await open_web_chat(restarted.url, sender_id)
    try:
        again = await restarted.post_webhook(webhook)
        assert again.json() == {"status": "ok", "processed": 0, "ignored": 1}
        # A new message after the restart still gets through, and is the only one.
        fresh = message_webhook(conversation_id, sender_id, {"type": "text", "text": "Still here"})
        assert (await restarted.post_webhook(fresh)).json()["processed"] == 1
        assert await chat.next_message() == {"text": "Still here"}
        chat.assert_no_more_messages()
        assert len(await delivered_ids(restarted, sender_id)) == 2
    finally:
        await chat.client.disconnect()
        await restarted.stop()


async def test_a_retry_from_before_a_new_session_is_delivered_once(
    rasa: RasaServer, handoff: Handoff
) -> None:
    """The tracker store returns the current session only; an event older than that session
    is looked up in the whole conversation."""
    webhook = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
    tracker = await rasa.store.retrieve(handoff.sender_id)
    assert tracker is not None
    for event in [
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        SlotSet(constants.SLOT_HANDOFF, state.opened(handoff.conversation_id).as_slot()),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("are you there?", input_channel="socketio"),
    ]:
        tracker.update(event)
    await rasa.store.save(tracker)
    current = await rasa.store.retrieve(handoff.sender_id)
    assert current is not None
    assert not any(isinstance(e, BotUttered) for e in current.events)

    again = await rasa.post_webhook(webhook)

    assert again.json() == {"status": "ok", "processed": 0, "ignored": 1}
    assert len(await delivered_ids(rasa, handoff.sender_id)) == 1


def test_a_handoff_opened_in_this_session_needs_no_older_sessions() -> None:
    """The dedupe skips the full-conversation read only when the escalation ran in the
    current session; slots carried over into a new session do not count."""
    record = state.opened("conv_1").as_slot()
    opened = [
        SessionStarted(),
        UserUttered("human please"),
        ActionExecuted(constants.ACTION_HANDOFF),
        SlotSet(constants.SLOT_HANDOFF, record),
    ]
    carried_over = [
        SessionStarted(),
        SlotSet(constants.SLOT_HANDOFF, record),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]
    assert handoff_started_in_session(opened, "conv_1")
    assert not handoff_started_in_session(opened, "conv_2")
    assert not handoff_started_in_session(carried_over, "conv_1")
