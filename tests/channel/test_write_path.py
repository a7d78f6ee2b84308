"""The one write path (`rasa_zendesk.channel.write_path`): what a handler decides is delivered,
recorded and followed up under the conversation's lock; a webhook event is applied once, and
never through another connector's route."""

from __future__ import annotations

import asyncio
import copy
import logging
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, List, Optional, Tuple

import pytest
from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.conversations import RasaConversation
from rasa_zendesk.channel.write_path import (
    REFUSED,
    Decided,
    Delivery,
    EventResult,
    WebhookWrite,
    apply_once,
    delivered,
    listening,
    record_event,
    skipped,
    write,
)
from rasa_zendesk.handoff import pending, state
from testkit.action_calls import DOMAIN
from testkit.channel_harness import (
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
from testkit.in_memory_rasa import SENDER, InMemoryRasa, in_memory_rasa
from testkit.platforms import CallbackServer
from testkit.processes import free_ports

FEEDBACK_DOMAIN = DOMAIN.merge(
    DOMAIN.from_yaml('version: "3.1"\nresponses:\n  utter_ask_feedback: [{text: "How was it?"}]')
)


@pytest.fixture
async def server() -> InMemoryRasa:
    return await in_memory_rasa(FEEDBACK_DOMAIN)


def told(text: str = "Hello from Anna", event_id: str = "evt-1") -> BotUttered:
    return BotUttered(text, metadata={constants.EVENT_ZENDESK_EVENT_ID: event_id})


def decision(delivery: Optional[Delivery], result: Any = "told") -> Any:
    """A handler that decides `delivery`, and says what it saw."""
    seen: List[Tuple[DialogueStateTracker, OutputChannel]] = []

    async def decide(tracker: DialogueStateTracker, output: OutputChannel) -> Decided[Any]:
        seen.append((tracker, output))
        return delivery, result

    decide.seen = seen  # type: ignore[attr-defined]
    return decide


FRESH = ("action_session_start", "utter_ask_feedback")


async def test_the_delivery_is_recorded_and_the_follow_ups_run(server: InMemoryRasa) -> None:
    running = await server.record()
    assert running is not None
    message = told()
    ended = record_event(state.ended(running, state.AGENT_RELEASED))
    delivery = Delivery([message], [ended, message, listening(message)], then_run=FRESH)

    answer = await write(server.rasa, RasaConversation(SENDER), decision(delivery), "A test")

    assert answer == "told"
    tracker = await server.tracker()
    events = list(tracker.events)
    told_at = next(i for i, e in enumerate(events) if getattr(e, "text", None) == message.text)
    listened = events[told_at + 1]
    assert isinstance(listened, ActionExecuted) and listened.action_name == "action_listen"
    assert listened.metadata[constants.EVENT_ZENDESK_EVENT_ID] == "evt-1"  # the listen's too
    assert server.follow_ups.ran == list(FRESH)
    # Run as Rasa runs them: a new session carrying the ended record over, then the follow-up;
    # Rasa's policies see only the new session.
    applied = [
        (type(e).__name__, getattr(e, "action_name", None)) for e in tracker.applied_events()
    ]
    assert ("SlotSet", None) in applied
    assert applied[-5:] == [
        ("ActionExecuted", "action_listen"),
        ("BotUttered", None),  # the notice, still to be handed out, carried over
        ("ActionExecuted", "utter_ask_feedback"),
        ("BotUttered", None),
        ("ActionExecuted", "action_listen"),
    ]
    assert state.current(events) == state.Handoff.from_slot(ended.value)
    assert tracker.get_slot(constants.SLOT_HANDOFF) == ended.value
    # No input channel pushes here: the notice and the follow-up's words wait for the user's
    # next message (REST), in order, once; also where the store returns the new session only
    # (SQL): the notice was carried into it.
    waiting = ["Hello from Anna", "How was it?"]
    assert [e.text for e in pending.not_handed_out(events)] == waiting
    session = events[max(i for i, e in enumerate(events) if isinstance(e, SessionStarted)) :]
    assert [e.text for e in pending.not_handed_out(session)] == waiting
    # Rasa's SQL store finds a session's events by time: the copy is stamped in the session.
    assert all(e.timestamp >= session[0].timestamp for e in session), session


async def test_the_new_session_keeps_the_record_even_without_carrying_slots_over() -> None:
    """A bot's session start that carries no slots over: the ended record is set again, so no
    rewind in the new session can revive the handoff."""
    data = FEEDBACK_DOMAIN.as_dict()
    data["session_config"]["carry_over_slots_to_new_session"] = False
    server = await in_memory_rasa(Domain.from_dict(data))
    running = await server.record()
    assert running is not None
    ended = record_event(state.ended(running, state.IDLE_TIMEOUT))
    await write(server.rasa, RasaConversation(SENDER), decision(Delivery([], [ended], FRESH)), "E")
    tracker = await server.tracker()
    assert tracker.get_slot(constants.SLOT_HANDOFF) == ended.value
    replayed = tracker.applied_events()  # the new session: the record set in it
    assert [e.value for e in replayed if isinstance(e, SlotSet)] == [ended.value]


async def test_nothing_decided_nothing_written(server: InMemoryRasa) -> None:
    before = len((await server.tracker()).events)
    answer = await write(server.rasa, RasaConversation(SENDER), decision(None, 42), "A test")
    assert answer == 42 and len((await server.tracker()).events) == before
    assert server.follow_ups.ran == []


async def test_a_conversation_the_store_does_not_have(server: InMemoryRasa) -> None:
    decide = decision(Delivery([], []))
    assert await write(server.rasa, RasaConversation("nobody"), decide, "A test") is None
    assert decide.seen == []


async def test_a_failing_follow_up_is_logged_and_the_end_stays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await in_memory_rasa(FEEDBACK_DOMAIN, follow_up_fails=True)
    running = await server.record()
    assert running is not None
    ended = record_event(state.ended(running, state.USER_ENDED))
    delivery = Delivery([], [ended], then_run=("utter_ask_feedback",))
    with caplog.at_level(logging.ERROR):
        await write(server.rasa, RasaConversation(SENDER), decision(delivery), "The end")
    assert "follow-up ('utter_ask_feedback',) failed" in caplog.text
    record = await server.record()
    assert record is not None and record.end_reason == state.USER_ENDED


def the_event(connector: str = "default", event_id: str = "evt-1") -> WebhookWrite:
    return WebhookWrite(
        RasaConversation(SENDER),
        "0123456789abcdef0123abcd",
        None,
        connector,
        (constants.EVENT_ZENDESK_EVENT_ID, event_id),
        "A webhook event",
    )


async def a_notice(tracker: DialogueStateTracker, output: OutputChannel) -> Decided[EventResult]:
    message = told()
    return delivered(Delivery([message], [message]))


async def test_a_webhook_event_is_applied_once(server: InMemoryRasa) -> None:
    assert (await apply_once(server.rasa, the_event(), a_notice)).applied
    again = await apply_once(server.rasa, the_event(), a_notice)
    assert again == EventResult(False, "duplicate")
    assert [e.text for e in await server.said()] == ["Hello from Anna"]


async def test_another_connectors_route_is_refused(server: InMemoryRasa) -> None:
    assert await apply_once(server.rasa, the_event(connector="eu"), a_notice) == REFUSED
    assert await server.said() == []


async def test_the_handlers_reason_for_doing_nothing_is_the_result(server: InMemoryRasa) -> None:
    async def nothing(tracker: Any, output: Any) -> Decided[EventResult]:
        return skipped("handoff already over")

    result = await apply_once(server.rasa, the_event(), nothing)
    assert result == EventResult(False, "handoff already over")


async def test_an_event_for_a_sender_the_store_does_not_have() -> None:
    server = await in_memory_rasa(DOMAIN)
    nobody = replace(the_event(), target=RasaConversation("nobody"))
    assert (await apply_once(server.rasa, nobody, a_notice)).note == "no such Rasa conversation"


def test_the_record_and_the_listen_carry_the_zendesk_event() -> None:
    handoff = state.opened("conv")
    slot = record_event(handoff, "evt-9")
    assert slot.metadata == {constants.EVENT_ZENDESK_EVENT_ID: "evt-9"}
    assert record_event(handoff).metadata == {}
    listen = listening(told(event_id="evt-9"))
    assert isinstance(listen, ActionExecuted) and listen.action_name == "action_listen"
    assert listen.metadata[constants.EVENT_ZENDESK_EVENT_ID] == "evt-9"


async def delivered_ids(rasa: RasaServer, sender_id: str) -> list:
    return [
        e.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)
        for e in await rasa.bot_events(sender_id)
        if e.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)
    ]


@pytest.mark.timeout(30)
async def test_the_same_event_twice_is_delivered_once(rasa: RasaServer, handoff: Handoff) -> None:
    webhook = handoff.message(content("text"))
    message_id = webhook["events"][0]["payload"]["message"]["id"]

    first = await rasa.post_webhook(webhook)
    again = await rasa.post_webhook(webhook)

    assert first.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert again.json() == {"status": "ok", "processed": 0, "ignored": 1}
    assert await handoff.chat.next_message() == {"text": "Hello!"}
    assert await delivered_ids(rasa, handoff.sender_id) == [message_id]
    handoff.chat.assert_no_more_messages()


@pytest.mark.timeout(30)
async def test_the_same_message_in_a_new_event_is_delivered_once(
    rasa: RasaServer, handoff: Handoff
) -> None:
    webhook = handoff.message(content("text"))
    redelivered = copy.deepcopy(webhook)
    redelivered["events"][0]["id"] = new_id()

    await rasa.post_webhook(webhook)
    again = await rasa.post_webhook(redelivered)

    assert again.json()["ignored"] == 1
    assert len(await delivered_ids(rasa, handoff.sender_id)) == 1


@pytest.mark.timeout(30)
async def test_a_duplicate_in_the_same_post_is_delivered_once(
    rasa: RasaServer, handoff: Handoff
) -> None:
    webhook = handoff.message(content("text"))
    webhook["events"].append(copy.deepcopy(webhook["events"][0]))

    answer = await rasa.post_webhook(webhook)

    assert answer.json() == {"status": "ok", "processed": 1, "ignored": 1}
    assert len(await delivered_ids(rasa, handoff.sender_id)) == 1


@pytest.mark.timeout(30)
async def test_concurrent_retries_are_delivered_once(rasa: RasaServer, handoff: Handoff) -> None:
    """SunCo may retry while the first attempt is still running: the lock serialises them."""
    webhook = handoff.message(content("text"))

    answers = await asyncio.gather(*(rasa.post_webhook(webhook) for _ in range(5)))

    assert sorted(a.json()["processed"] for a in answers) == [0, 0, 0, 0, 1]
    assert len(await delivered_ids(rasa, handoff.sender_id)) == 1


@pytest.mark.timeout(30)
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


@pytest.mark.timeout(30)
async def test_a_retry_from_before_a_new_session_is_delivered_once(
    rasa: RasaServer, handoff: Handoff
) -> None:
    """The tracker store returns the current session only; an event older than that session
    is looked up in the whole conversation."""
    webhook = handoff.message(content("text"))
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


def run_sql(db_path: Path, statement: str) -> None:
    with sqlite3.connect(db_path) as connection:
        connection.execute(statement)


@pytest.mark.timeout(30)
@pytest.mark.tracker_stores("sql", "sql-uncached")
async def test_a_tracker_store_that_cannot_be_read_gets_500_then_the_retry_works(
    rasa: RasaServer, handoff: Handoff, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    webhook = handoff.message(content("text"))
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


@pytest.mark.timeout(30)
@pytest.mark.tracker_stores("sql", "sql-uncached")
async def test_a_tracker_store_that_cannot_save_gets_500_and_the_retry_records_it_once(
    rasa: RasaServer, handoff: Handoff, db_path: Path
) -> None:
    """Delivered, then the save fails: 500, so SunCo retries; the retry delivers again (the
    user may see it twice) and records it once: at least once, never lost."""
    webhook = handoff.message(content("text"))
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


@pytest.mark.timeout(30)
@pytest.mark.tracker_stores("sql", "sql-uncached")
async def test_a_failed_event_holds_back_the_later_ones_of_its_conversation(
    rasa: RasaServer, handoff: Handoff, db_path: Path
) -> None:
    first = handoff.message(content("text"))
    second = handoff.message(content("text"))
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
    callback = CallbackServer(port=free_ports(1)[0])
    rasa = await start_rasa(db_path, callback_url=callback.url)
    yield rasa, callback
    await rasa.stop()
    callback.stop()


@pytest.mark.timeout(30)
@pytest.mark.tracker_stores("sql", "sql-uncached")
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

    callback.start()
    retried = await rasa.post_webhook(webhook)

    assert retried.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert [m["text"] for m in callback.messages()] == ["Hello!"]
    assert [e.text for e in await rasa.bot_events(sender_id)][-1] == "Hello!"


@pytest.mark.timeout(30)
@pytest.mark.tracker_stores("sql", "sql-uncached")
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

        callback.start()
        retried = await rasa.post_webhook(post)

        assert retried.json() == {"status": "ok", "processed": 1, "ignored": 1}
        assert [m["text"] for m in callback.messages()] == ["Hello!"]
        # B's is skipped as a duplicate (`ignored`): recorded once, after the bot's greeting.
        assert [e.text for e in await rasa.bot_events(b_sender)] == [
            "An agent will be with you shortly.",
            "Hello!",
        ]
    finally:
        await b_chat.client.disconnect()


@pytest.mark.timeout(30)
@pytest.mark.tracker_stores("sql", "sql-uncached")
async def test_the_end_of_a_handoff_is_retried_too(callback_rasa: tuple) -> None:
    rasa, callback = callback_rasa
    sender_id, conversation_id = "callback-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id, input_channel="callback")
    webhook = release_webhook(conversation_id, sender_id)

    assert (await rasa.post_webhook(webhook)).status_code == 500
    assert state.active((await rasa.tracker(sender_id)).events) is not None

    callback.start()
    assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
    assert state.active((await rasa.tracker(sender_id)).events) is None
    assert len(callback.messages()) == 1


@pytest.mark.timeout(30)
@pytest.mark.tracker_stores("sql", "sql-uncached")
async def test_a_user_on_the_rest_channel_gets_it_recorded(rasa: RasaServer) -> None:
    """The REST channel cannot push: the message is recorded, and a poll finds it there."""
    sender_id, conversation_id = "rest-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id, input_channel="rest")

    answer = await rasa.post_webhook(message_webhook(conversation_id, sender_id, content("text")))

    assert answer.json()["processed"] == 1
    assert [e.text for e in await rasa.bot_events(sender_id)][-1] == "Hello!"


LOGGER = "rasa_zendesk.channel.write_path"


def stamped(webhook: dict, received: datetime) -> dict:
    webhook["events"][0]["payload"]["message"]["received"] = received.isoformat()
    return webhook


@pytest.mark.timeout(30)
async def test_a_message_for_a_channel_that_cannot_push_is_a_warning_naming_the_sender(
    rasa: RasaServer, caplog: pytest.LogCaptureFixture
) -> None:
    sender, conversation = "rest-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender, conversation, input_channel="rest")
    webhook = message_webhook(conversation, sender, {"type": "text", "text": "Hi there"})

    with caplog.at_level(logging.INFO, logger=LOGGER):
        answer = await rasa.post_webhook(webhook)

    assert answer.json()["processed"] == 1  # recorded: a later request can still hand it out
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == LOGGER]
    assert len(warnings) == 1 and sender in warnings[0].getMessage()
    assert "rest" in warnings[0].getMessage() and "cannot push" in warnings[0].getMessage()
    [*_, uttered] = await rasa.bot_events(sender)
    assert uttered.text == "Hi there"


@pytest.mark.timeout(30)
async def test_a_web_chat_with_nobody_connected_is_a_warning(
    rasa: RasaServer, handoff: Handoff, caplog: pytest.LogCaptureFixture
) -> None:
    await handoff.chat.client.disconnect()
    webhook = message_webhook(
        handoff.conversation_id, handoff.sender_id, {"type": "text", "text": "Hello?"}
    )

    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert (await rasa.post_webhook(webhook)).json()["processed"] == 1

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(handoff.sender_id in m and "nobody is connected" in m for m in warnings), warnings


@pytest.mark.timeout(30)
async def test_a_connected_web_chat_is_no_warning(
    rasa: RasaServer, handoff: Handoff, caplog: pytest.LogCaptureFixture
) -> None:
    webhook = message_webhook(
        handoff.conversation_id, handoff.sender_id, {"type": "text", "text": "Hi"}
    )
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
    await handoff.chat.next_message()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == LOGGER]


@pytest.mark.timeout(30)
async def test_an_older_message_after_a_newer_one_is_delivered_and_logged(
    rasa: RasaServer, handoff: Handoff, caplog: pytest.LogCaptureFixture
) -> None:
    """SunCo keeps no order across retries: the agent's first message can come second."""
    now = datetime.now(timezone.utc)
    first, second = now - timedelta(seconds=30), now - timedelta(seconds=10)
    newer = stamped(
        message_webhook(
            handoff.conversation_id, handoff.sender_id, {"type": "text", "text": "2nd"}
        ),
        second,
    )
    older = stamped(
        message_webhook(
            handoff.conversation_id, handoff.sender_id, {"type": "text", "text": "1st"}
        ),
        first,
    )

    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert (await rasa.post_webhook(newer)).json()["processed"] == 1
        assert (await rasa.post_webhook(older)).json()["processed"] == 1

    assert [(await handoff.chat.next_message())["text"] for _ in range(2)] == ["2nd", "1st"]
    agent = [
        e
        for e in await rasa.bot_events(handoff.sender_id)
        if e.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)
    ]
    assert [e.text for e in agent] == ["2nd", "1st"]
    assert [e.metadata[constants.EVENT_ZENDESK_RECEIVED] for e in agent] == [
        second.timestamp(),
        first.timestamp(),
    ]
    late = [r.getMessage() for r in caplog.records if "out of the agent's order" in r.getMessage()]
    assert len(late) == 1 and handoff.sender_id in late[0]


@pytest.mark.timeout(30)
async def test_messages_in_order_are_not_logged_as_late(
    rasa: RasaServer, handoff: Handoff, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(timezone.utc)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for offset, text in ((20, "a"), (10, "b"), (10, "c")):  # equal times are in order
            webhook = message_webhook(
                handoff.conversation_id, handoff.sender_id, {"type": "text", "text": text}
            )
            stamped(webhook, now - timedelta(seconds=offset))
            assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
    assert not [r for r in caplog.records if "out of the agent's order" in r.getMessage()]


@pytest.mark.timeout(60)
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


@pytest.mark.timeout(60)
async def test_nothing_waits_for_a_user_whose_channel_pushes(
    rasa: RasaServer, handoff: Handoff
) -> None:
    webhook = handoff.message(content("text"))
    assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
    assert (await handoff.chat.next_message())["text"] == "Hello!"
    assert pending.not_handed_out((await rasa.tracker(handoff.sender_id)).events) == []
