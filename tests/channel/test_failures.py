"""When the tracker store or the user's channel fails, the webhook gets 500 (SunCo retries),
and the retry delivers the message once it can; nothing is acknowledged that was not applied.

The failures are real: the SQLite database of the tracker store loses its table or refuses
writes (a trigger), and the user's channel is Rasa's callback channel whose callback server is
down. No fake stores or channels.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import AsyncIterator

import pytest

from rasa_zendesk import constants
from rasa_zendesk.handoff import state
from testkit.callback_receiver import CallbackReceiver
from testkit.processes import free_ports
from tests.channel.harness import (
    Handoff,
    RasaServer,
    content,
    message_webhook,
    new_id,
    open_web_chat,
    release_webhook,
    start_handoff,
    start_rasa,
)

#: These tests break the SQLite file under the server.
TRACKER_STORES = ("sql", "sql-uncached")

pytestmark = pytest.mark.timeout(30)


def run_sql(db_path: Path, statement: str) -> None:
    with sqlite3.connect(db_path) as connection:
        connection.execute(statement)


async def test_a_tracker_store_that_cannot_be_read_gets_500_then_the_retry_works(
    rasa: RasaServer, handoff: Handoff, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    webhook = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    run_sql(db_path, "ALTER TABLE events RENAME TO events_offline")

    failed = await rasa.post_webhook(webhook)

    assert failed.status_code == 500
    body = failed.json()
    assert body["status"] == "error"
    assert body["error"] == f"event {webhook['events'][0]['id']} could not be applied; retry later"
    assert "events" not in body["error"].replace("event ", "")  # no database detail
    assert "could not be applied; SunCo will retry" in caplog.text
    handoff.chat.assert_no_more_messages()

    run_sql(db_path, "ALTER TABLE events_offline RENAME TO events")
    retried = await rasa.post_webhook(webhook)

    assert retried.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert await handoff.chat.next_message() == {"text": "Hello!"}


async def test_a_tracker_store_that_cannot_save_gets_500_and_the_retry_records_it_once(
    rasa: RasaServer, handoff: Handoff, db_path: Path
) -> None:
    """Delivered, then the save fails: 500, so SunCo retries; the retry delivers again (the
    user may see it twice) and records it once: at least once, never lost."""
    webhook = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    message_id = webhook["events"][0]["payload"]["message"]["id"]
    run_sql(
        db_path,
        "CREATE TRIGGER refuse BEFORE INSERT ON events "
        "BEGIN SELECT RAISE(ABORT, 'database full'); END",
    )

    failed = await rasa.post_webhook(webhook)

    assert failed.status_code == 500
    assert await handoff.chat.next_message() == {"text": "Hello!"}
    tracker = await rasa.tracker(handoff.sender_id)
    assert not [e for e in tracker.events if e.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)]

    run_sql(db_path, "DROP TRIGGER refuse")
    retried = await rasa.post_webhook(webhook)

    assert retried.json()["processed"] == 1
    tracker = await rasa.tracker(handoff.sender_id)
    recorded = [e for e in tracker.events if e.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)]
    assert [e.metadata[constants.EVENT_ZENDESK_MESSAGE_ID] for e in recorded] == [message_id]


async def test_a_failed_event_holds_back_the_later_ones_of_its_conversation(
    rasa: RasaServer, handoff: Handoff, db_path: Path
) -> None:
    first = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    second = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    first["events"].append(second["events"][0])
    run_sql(db_path, "ALTER TABLE events RENAME TO events_offline")

    failed = await rasa.post_webhook(first)

    assert failed.status_code == 500
    assert failed.json()["processed"] == 0
    assert failed.json()["failed"] == [event["id"] for event in first["events"]]
    run_sql(db_path, "ALTER TABLE events_offline RENAME TO events")
    assert (await rasa.post_webhook(first)).json()["processed"] == 2


@pytest.fixture
async def callback_rasa(db_path: Path) -> AsyncIterator[tuple]:
    callback = CallbackReceiver(free_ports(1)[0])
    rasa = await start_rasa(db_path, callback_url=callback.url)
    yield rasa, callback
    await rasa.stop()
    await callback.stop()


async def test_a_channel_that_cannot_deliver_gets_500_then_the_retry_delivers(
    callback_rasa: tuple,
) -> None:
    rasa, callback = callback_rasa
    sender_id, conversation_id = "callback-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id, input_channel="callback")
    webhook = message_webhook(conversation_id, sender_id, content("text"))

    failed = await rasa.post_webhook(webhook)

    assert failed.status_code == 500
    assert [e.text for e in await rasa.bot_events(sender_id)] == [
        "An agent will be with you shortly."
    ]

    await callback.start()
    retried = await rasa.post_webhook(webhook)

    assert retried.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert [m["text"] for m in callback.received] == ["Hello!"]
    assert [e.text for e in await rasa.bot_events(sender_id)][-1] == "Hello!"


async def test_one_user_s_failure_holds_back_no_one_else_s_event(
    callback_rasa: tuple, db_path: Path
) -> None:
    """A post with A's message (A's channel is down) and B's: B's is delivered at once, the
    answer is 500 naming A's, and the retry delivers A's once and B's not again."""
    rasa, callback = callback_rasa
    a_sender, a_conversation = "callback-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, a_sender, a_conversation, input_channel="callback")
    b_sender, b_conversation = "webchat-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, b_sender, b_conversation)
    b_chat = await open_web_chat(rasa.url, b_sender)
    post = message_webhook(a_conversation, a_sender, content("text"))
    b_event = message_webhook(b_conversation, b_sender, content("text"))["events"][0]
    post["events"].append(b_event)
    try:
        failed = await rasa.post_webhook(post)

        assert failed.status_code == 500
        assert failed.json()["failed"] == [post["events"][0]["id"]]
        assert failed.json()["processed"] == 1
        assert await b_chat.next_message() == {"text": "Hello!"}

        await callback.start()
        retried = await rasa.post_webhook(post)

        assert retried.json() == {"status": "ok", "processed": 1, "ignored": 1}
        assert [m["text"] for m in callback.received] == ["Hello!"]
        # B's is skipped as a duplicate (`ignored`): recorded once, after the bot's greeting.
        assert [e.text for e in await rasa.bot_events(b_sender)] == [
            "An agent will be with you shortly.",
            "Hello!",
        ]
    finally:
        await b_chat.client.disconnect()


async def test_the_end_of_a_handoff_is_retried_too(callback_rasa: tuple) -> None:
    rasa, callback = callback_rasa
    sender_id, conversation_id = "callback-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id, input_channel="callback")
    webhook = release_webhook(conversation_id, sender_id)

    assert (await rasa.post_webhook(webhook)).status_code == 500
    assert state.active((await rasa.tracker(sender_id)).events) is not None

    await callback.start()
    assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
    assert state.active((await rasa.tracker(sender_id)).events) is None
    assert len(callback.received) == 1


async def test_a_user_on_the_rest_channel_gets_it_recorded(rasa: RasaServer) -> None:
    """The REST channel cannot push: the message is recorded, and a poll finds it there."""
    sender_id, conversation_id = "rest-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id, input_channel="rest")

    answer = await rasa.post_webhook(message_webhook(conversation_id, sender_id, content("text")))

    assert answer.json()["processed"] == 1
    assert [e.text for e in await rasa.bot_events(sender_id)][-1] == "Hello!"


async def test_a_bot_that_is_not_loaded_gets_503(
    rasa: RasaServer, handoff: Handoff, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rasa.app.ctx.agent = None

    answer = await rasa.post_webhook(
        message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
    )

    assert answer.status_code == 503
    await asyncio.sleep(0)
    handoff.chat.assert_no_more_messages()
