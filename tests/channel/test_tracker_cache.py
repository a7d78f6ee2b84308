"""The tracker caches (SQL and Redis) give the tracker Rasa's `retrieve` gives, and store what
Rasa's `save` stores, whoever else writes the conversation in between (the bot, Rasa's HTTP
API, another Rasa instance)."""

from __future__ import annotations

import asyncio
import gc
import json
import random
import sqlite3
import threading
import tracemalloc
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import (
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    RedisTrackerStore,
    SQLTrackerStore,
    TrackerStore,
)
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.channel.tracker_access import TrackerAccess
from rasa_zendesk.channel.tracker_cache import (
    DEFAULT_CACHE_MAX_BYTES,
    DEFAULT_CACHE_SIZE,
    TrackerCache,
    cache_for,
)
from rasa_zendesk.channel.tracker_cache.base import estimated_memory
from testkit.channel_harness import (
    CREDENTIALS,
    RasaServer,
    content,
    load_domain,
    message_webhook,
    new_id,
    open_web_chat,
    redis_tracker_store,
    start_handoff,
    start_rasa,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(params=["sql", "redis"])
def store(tmp_path: Path, request: pytest.FixtureRequest) -> TrackerStore:
    if request.param == "redis":
        return redis_tracker_store(request.getfixturevalue("redis_service").port)
    return SQLTrackerStore(domain=load_domain(), dialect="sqlite", db=str(tmp_path / "t.db"))


def new_cache(
    store: TrackerStore, size: int = DEFAULT_CACHE_SIZE, max_bytes: int = DEFAULT_CACHE_MAX_BYTES
) -> TrackerCache[Any]:
    cache = cache_for(store, size, max_bytes)
    assert cache is not None
    return cache


def stored(store: TrackerStore, sender_id: str) -> List[Any]:
    """What the store holds for the sender, as it holds it (rows, or the JSON value's events)."""
    if isinstance(store, RedisTrackerStore):
        return json.loads(store.red.get(store.key_prefix + sender_id))["events"]
    with sqlite3.connect(store.engine.url.database) as connection:  # type: ignore[attr-defined]
        return connection.execute(
            "SELECT type_name, timestamp, intent_name, action_name, data FROM events "
            "WHERE sender_id = ? ORDER BY id",
            (sender_id,),
        ).fetchall()


@contextmanager
def broken(store: TrackerStore, sender_id: str) -> Iterator[None]:
    """The store fails for this conversation inside the block, and is whole again after it."""
    if isinstance(store, RedisTrackerStore):
        key = store.key_prefix + sender_id
        value = store.red.get(key)
        store.red.delete(key)
        store.red.rpush(key, "not a tracker")  # reads of it fail with WRONGTYPE
        yield
        store.red.delete(key)
        store.red.set(key, value)
        return
    database = store.engine.url.database  # type: ignore[attr-defined]
    with sqlite3.connect(database) as connection:
        connection.execute("ALTER TABLE events RENAME TO events_away")
    yield
    with sqlite3.connect(database) as connection:
        connection.execute("ALTER TABLE events_away RENAME TO events")


async def rasa_writes(store: TrackerStore, sender_id: str, *events: Event) -> None:
    """A write the way Rasa's processor and HTTP API make one: retrieve, update, save."""
    assert store.domain is not None
    tracker = await store.retrieve(sender_id) or DialogueStateTracker(sender_id, store.domain.slots)
    for event in events:
        tracker.update(event)
    await store.save(tracker)


def user(text: str, channel: str = "socketio") -> UserUttered:
    return UserUttered(
        text,
        intent={"name": "inform", "confidence": 0.9},
        parse_data={"intent": {"name": "inform", "confidence": 0.9}, "entities": []},
        input_channel=channel,
    )


def agent_message(text: str) -> BotUttered:
    return BotUttered(text, metadata={constants.EVENT_ZENDESK_MESSAGE_ID: new_id()})


def state(tracker: Any) -> Dict[str, Any]:
    """What a webhook and a policy read from a tracker."""
    assert tracker is not None
    return {
        "events": [event.as_dict() for event in tracker.events],
        "slots": tracker.current_slot_values(),
        "input_channel": tracker.get_latest_input_channel(),
        "paused": tracker.is_paused(),
    }


async def assert_same_as_rasa(cache: TrackerCache[Any], sender_id: str) -> DialogueStateTracker:
    cached = cache.retrieve(sender_id)
    assert state(cached) == state(await cache.store.retrieve(sender_id))
    assert cached is not None
    return cached


async def test_what_is_written_is_what_rasa_writes(store: TrackerStore) -> None:
    opening = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()]
    await rasa_writes(store, "by-cache", *opening)
    await rasa_writes(store, "by-rasa", *opening)
    events = [
        user("hello"),
        SlotSet(constants.SLOT_HANDOFF, {"state": "waiting"}, metadata={"k": "v"}),
        ActionExecuted(constants.ACTION_HANDOFF),
        agent_message("Hi, Anna here"),
    ]
    cache = new_cache(store)
    tracker = cache.retrieve("by-cache")
    assert tracker is not None

    await cache.record(tracker, events)
    await rasa_writes(store, "by-rasa", *events)

    assert stored(store, "by-cache") == stored(store, "by-rasa")
    assert state(tracker)["events"] == state(await store.retrieve("by-rasa"))["events"]


async def test_what_others_store_meanwhile_is_read_incrementally(store: TrackerStore) -> None:
    sender = "s-" + new_id()
    await rasa_writes(store, sender, ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted())
    cache = new_cache(store)
    first = await assert_same_as_rasa(cache, sender)

    # The bot, then our webhook, then the user on another channel, then the handoff's end.
    await rasa_writes(store, sender, user("I want a human"), ActionExecuted("action_x"))
    await rasa_writes(
        store,
        sender,
        SlotSet(constants.SLOT_HANDOFF, {"state": "waiting", "conversation_id": "conv_1"}),
        SlotSet(constants.SLOT_HANDOFF_REASON, "asked for a human"),
    )
    cached = await assert_same_as_rasa(cache, sender)
    assert cached is first  # brought up to date, not read again
    await cache.record(cached, [agent_message("hi")])
    await rasa_writes(store, sender, user("thanks", channel="rest"))
    assert (await assert_same_as_rasa(cache, sender)).get_latest_input_channel() == "rest"
    await rasa_writes(store, sender, SlotSet(constants.SLOT_HANDOFF, {"state": "ended"}))
    ended = await assert_same_as_rasa(cache, sender)
    assert ended.get_slot(constants.SLOT_HANDOFF) == {"state": "ended"}
    await rasa_writes(store, sender, Restarted())
    assert (await assert_same_as_rasa(cache, sender)).get_slot(
        constants.SLOT_HANDOFF_REASON
    ) is None


async def test_a_new_session_is_read_anew(store: TrackerStore) -> None:
    sender = "s-" + new_id()
    await rasa_writes(store, sender, ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted())
    await rasa_writes(store, sender, user("old session"), agent_message("old reply"))
    cache = new_cache(store)
    old = await assert_same_as_rasa(cache, sender)

    await rasa_writes(
        store,
        sender,
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        ActionExecuted(ACTION_LISTEN_NAME),
    )

    new = await assert_same_as_rasa(cache, sender)
    assert new is not old
    assert not any(isinstance(event, UserUttered) for event in new.events)


async def test_a_conversation_that_does_not_exist_is_none(store: TrackerStore) -> None:
    cache = new_cache(store)
    assert cache.retrieve("nobody") is None
    assert len(cache) == 0


async def test_the_least_recently_used_conversation_is_dropped(store: TrackerStore) -> None:
    senders = [f"s{number}-{new_id()}" for number in range(3)]
    for sender in senders:
        await rasa_writes(store, sender, ActionExecuted(ACTION_SESSION_START_NAME), user("hi"))
    cache = new_cache(store, size=2)
    kept = cache.retrieve(senders[0])
    cache.retrieve(senders[1])
    cache.retrieve(senders[0])  # used again: senders[1] is now the oldest
    cache.retrieve(senders[2])

    assert len(cache) == 2
    assert cache.retrieve(senders[0]) is kept
    await rasa_writes(store, senders[1], agent_message("while it was out"))
    await assert_same_as_rasa(cache, senders[1])


async def test_size_zero_or_another_store_means_no_cache(store: TrackerStore) -> None:
    """Then the channel reads and writes through Rasa's store (the "sql-uncached" runs of the
    channel tests take that path)."""
    assert cache_for(store, 0) is None
    assert cache_for(InMemoryTrackerStore(store.domain), DEFAULT_CACHE_SIZE) is None
    assert TrackerAccess(store, InMemoryLockStore(), 0).cache is None
    assert TrackerAccess(store, InMemoryLockStore()).cache is not None


async def test_a_new_domain_empties_the_cache(store: TrackerStore) -> None:
    sender = "s-" + new_id()
    await rasa_writes(store, sender, ActionExecuted(ACTION_SESSION_START_NAME), user("hi"))
    cache = new_cache(store)
    before = cache.retrieve(sender)

    store.domain = Domain.from_dict({"slots": {"colour": {"type": "text", "mappings": []}}})

    after = cache.retrieve(sender)
    assert after is not before and after is not None
    assert "colour" in after.slots and constants.SLOT_HANDOFF not in after.slots


async def test_a_failed_write_drops_the_entry_and_loses_nothing(store: TrackerStore) -> None:
    sender = "s-" + new_id()
    await rasa_writes(store, sender, ActionExecuted(ACTION_SESSION_START_NAME), user("hi"))
    cache = new_cache(store)
    tracker = cache.retrieve(sender)
    assert tracker is not None and len(cache) == 1
    with broken(store, sender):
        with pytest.raises(Exception, match="events|WRONGTYPE"):
            await cache.record(tracker, [agent_message("lost?")])

    assert len(cache) == 0
    await assert_same_as_rasa(cache, sender)  # the failed message is in neither


async def test_new_events_reach_the_event_broker(store: TrackerStore, tmp_path: Path) -> None:
    broker = SQLEventBroker(db=str(tmp_path / "broker.db"))
    store.event_broker = broker
    sender = "s-" + new_id()
    await rasa_writes(store, sender, ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted())
    streamed_before = _streamed(tmp_path / "broker.db")
    access = TrackerAccess(FailSafeTrackerStore(store), InMemoryLockStore())
    assert access.cache is not None

    async with access.locked(sender) as tracker:
        assert tracker is not None
        message = agent_message("streamed")
        await access.record(tracker, [message])

    streamed = _streamed(tmp_path / "broker.db")[len(streamed_before) :]
    assert [(row["sender_id"], row["event"], row["text"]) for row in streamed] == [
        (sender, "bot", "streamed")
    ]


def _streamed(db: Path) -> List[Dict[str, Any]]:
    with sqlite3.connect(db) as connection:
        return [json.loads(data) for (data,) in connection.execute("SELECT data FROM events")]


async def test_a_message_one_instance_applied_is_skipped_by_another(tmp_path: Path) -> None:
    """Two Rasa servers on one store (and, here, one process's lock store): each with a warm
    cache, a message applied by one is a duplicate for the other."""
    db = tmp_path / "shared.db"
    first = await start_rasa(db)
    second = await start_rasa(db)
    second.agent.lock_store = first.agent.lock_store
    try:
        sender, conversation = "webchat-" + new_id(), "conv_" + new_id()
        await start_handoff(first.store, sender, conversation)
        chat = await open_web_chat(first.url, sender)
        for server in (first, second):  # both caches hold the conversation
            answer = await server.post_webhook(
                message_webhook(conversation, sender, content("text"))
            )
            assert answer.json()["processed"] == 1
        webhook = message_webhook(conversation, sender, content("text"))

        assert (await first.post_webhook(webhook)).json()["processed"] == 1
        assert (await second.post_webhook(webhook)).json()["ignored"] == 1

        ids = [
            event.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)
            for event in await first.bot_events(sender)
            if event.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)
        ]
        assert len(ids) == len(set(ids)) == 3
        await chat.client.disconnect()
    finally:
        await _stop(first, second)


async def _stop(*servers: RasaServer) -> None:
    for server in servers:
        await server.stop()


async def test_a_redis_conversation_that_expired_and_began_again_is_read_anew(
    redis_service: Any,
) -> None:
    """Redis drops a tracker after `record_exp`; the next one under that key starts afresh."""
    store = redis_tracker_store(redis_service.port)
    sender = "s-" + new_id()
    await rasa_writes(store, sender, ActionExecuted(ACTION_LISTEN_NAME), user("first life"))
    cache = new_cache(store)
    await assert_same_as_rasa(cache, sender)

    store.red.delete(store.key_prefix + sender)
    assert cache.retrieve(sender) is None
    await rasa_writes(store, sender, ActionExecuted(ACTION_LISTEN_NAME), user("second life"))
    cache.retrieve(sender)
    store.red.delete(store.key_prefix + sender)
    await rasa_writes(
        store, sender, ActionExecuted(ACTION_LISTEN_NAME), user("third"), user("life, longer")
    )

    again = await assert_same_as_rasa(cache, sender)
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["third", "life, longer"]


# The memory budget ---------------------------------------------------------------------------

MODEL_METADATA = {"model_id": "0f6bd8fed23749b699cc3cd43620d0f7", "assistant_id": "support-bot"}
INTENTS = ["greet", "goodbye", "thank_you", "bot_challenge", "order_status", "inform", "affirm"]


def bot_turn(number: int) -> List[Event]:
    """One turn as the example bot's trained model stores it: the user's message with its parse
    data (intent ranking, tokens), featurization, actions with their policy, a response."""
    text = f"where is my order number {number}, it has been a week"
    ranking = [
        {"name": name, "confidence": 1 / (rank + 2) + number / 1e6}
        for rank, name in enumerate(INTENTS + [constants.INTENT_HUMAN_HANDOFF, "deny"])
    ]
    message_id = new_id() + new_id()
    parse_data = {
        "intent": ranking[0],
        "entities": [],
        "text": text,
        "message_id": message_id,
        "metadata": {},
        "text_tokens": [[start, start + 4] for start in range(0, 40, 5)],
        "intent_ranking": ranking,
    }
    return [
        UserUttered(
            text,
            intent=ranking[0],
            parse_data=parse_data,  # type: ignore[arg-type]
            input_channel="socketio",
            message_id=message_id,
            metadata=dict(MODEL_METADATA),
        ),
        DefinePrevUserUtteredFeaturization(False, metadata=dict(MODEL_METADATA)),
        ActionExecuted(
            "utter_order_status", policy="TEDPolicy", confidence=0.93, metadata=dict(MODEL_METADATA)
        ),
        BotUttered(
            f"Order {number} left our warehouse yesterday and should arrive within two days.",
            data={"elements": None, "buttons": None, "attachment": None, "custom": None},
            metadata={"utter_action": "utter_order_status", **MODEL_METADATA},
        ),
        ActionExecuted(
            ACTION_LISTEN_NAME, policy="RulePolicy", confidence=1.0, metadata=dict(MODEL_METADATA)
        ),
    ]


async def write_conversation(store: TrackerStore, sender: str, turns: int) -> None:
    events: List[Event] = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()]
    for number in range(turns):
        events += bot_turn(number)
    await rasa_writes(store, sender, *events)


def held(cache: TrackerCache[Any]) -> int:
    """The estimated memory of the trackers the cache holds now."""
    return sum(estimated_memory(entry.stored_bytes) for entry in cache._entries.values())


def charge(store: TrackerStore, sender: str) -> int:
    """What a fresh cache counts the conversation's tracker for."""
    cache = new_cache(store)
    cache.retrieve(sender)
    return held(cache)


async def test_the_cache_never_holds_more_than_its_memory_budget(store: TrackerStore) -> None:
    """Conversations of different lengths, read and written in a random order, some by others
    while they are out of the cache: the cache stays within its budget, keeps the most recently
    used, and every read is what Rasa reads."""
    lengths = [1, 12, 3, 25, 6, 2, 18, 9]
    senders = [f"s{number}-{new_id()}" for number in range(len(lengths))]
    for sender, turns in zip(senders, lengths):
        await write_conversation(store, sender, turns)
    charges = sorted(charge(store, sender) for sender in senders)
    budget = charges[-1] + charges[-2]  # the two largest fit; not everything does
    cache = new_cache(store, size=6, max_bytes=budget)
    rng = random.Random(7)
    used: List[str] = []
    evicted_and_read_again = 0

    for step in range(60):
        sender = rng.choice(senders)
        was_out = sender in used and sender not in cache._entries
        action = rng.random()
        if action < 0.2:  # someone else writes it (the bot, another instance)
            await rasa_writes(store, sender, *bot_turn(100 + step))
        tracker = await assert_same_as_rasa(cache, sender)
        evicted_and_read_again += was_out
        if action > 0.7:  # the webhook's own write
            await cache.record(tracker, [agent_message(f"agent {step}")])
            await assert_same_as_rasa(cache, sender)
        used = [other for other in used if other != sender] + [sender]

        assert held(cache) <= budget
        assert len(cache) <= 6
        assert cache._memory == held(cache)  # what the cache counts is what it holds
        kept = list(cache._entries)
        assert kept == used[len(used) - len(kept) :]  # least recently used dropped first

    assert evicted_and_read_again > 0


async def test_the_estimate_is_the_same_however_the_tracker_got_there(
    store: TrackerStore,
) -> None:
    """A tracker kept up to date (by reads of what others stored and by its own writes) is
    counted for what a fresh read of it is counted for: the estimate does not drift."""
    sender = "s-" + new_id()
    await write_conversation(store, sender, 2)
    cache = new_cache(store)
    tracker = cache.retrieve(sender)
    assert tracker is not None
    for number in range(4):
        await rasa_writes(store, sender, *bot_turn(number))
        await cache.record(
            await assert_same_as_rasa(cache, sender), [agent_message(f"agent {number}")]
        )
        assert cache.retrieve(sender) is tracker
        assert held(cache) == charge(store, sender)
    await rasa_writes(store, sender, ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted())
    await rasa_writes(store, sender, *bot_turn(9))
    assert cache.retrieve(sender) is not tracker
    assert held(cache) == charge(store, sender)
    assert held(cache) < estimated_memory(4000)  # the new session's events only


async def test_a_tracker_larger_than_the_budget_is_not_kept(store: TrackerStore) -> None:
    small, large = "small-" + new_id(), "large-" + new_id()
    await write_conversation(store, small, 1)
    await write_conversation(store, large, 20)
    cache = new_cache(store, max_bytes=charge(store, small) + 1000)
    kept = cache.retrieve(small)

    tracker = await assert_same_as_rasa(cache, large)
    await cache.record(tracker, [agent_message("stored all the same")])

    assert list(cache._entries) == [small] and cache.retrieve(small) is kept
    assert held(cache) <= cache.max_bytes
    again = await assert_same_as_rasa(cache, large)
    assert again is not tracker and again.latest_bot_utterance is not None
    assert again.latest_bot_utterance.text == "stored all the same"


async def test_the_estimate_covers_what_a_tracker_takes(tmp_path: Path) -> None:
    """Measured: the memory a cached tracker really holds (tracemalloc, after a collection) is
    at most what the cache counts it for, and not far below it."""
    store = SQLTrackerStore(domain=load_domain(), dialect="sqlite", db=str(tmp_path / "m.db"))
    warm_up, sender = "warm-" + new_id(), "s-" + new_id()
    await write_conversation(store, warm_up, 2)
    await write_conversation(store, sender, 60)  # 302 events
    cache = new_cache(store)
    cache.retrieve(warm_up)  # the first read fills SQLAlchemy's and Rasa's own caches
    before = held(cache)

    gc.collect()
    tracemalloc.start()
    try:
        cache.retrieve(sender)
        gc.collect()
        taken = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()

    counted = held(cache) - before
    assert taken <= counted <= 2 * taken, (taken, counted)


async def test_the_budget_setting_reaches_the_cache(tmp_path: Path) -> None:
    zendesk = ZendeskInput.from_credentials({**CREDENTIALS, "tracker_cache_max_mb": "8"})
    rasa = await start_rasa(tmp_path / "t.db", zendesk=zendesk)  # type: ignore[arg-type]
    try:
        trackers = zendesk.processor.context(rasa.agent, []).trackers  # type: ignore[attr-defined]
        assert trackers.cache is not None and trackers.cache.max_bytes == 8 * 1024 * 1024
    finally:
        await rasa.stop()


@pytest.mark.parametrize("store", ["sql"], indirect=True)
async def test_the_write_leaves_the_event_loop_free(store: TrackerStore) -> None:
    """While the store commits one conversation's message, the server goes on with others:
    here the write waits for a coroutine that only the event loop can run."""
    sender = "s-" + new_id()
    await rasa_writes(store, sender, ActionExecuted(ACTION_SESSION_START_NAME), user("hi"))
    cache = new_cache(store)
    tracker = cache.retrieve(sender)
    assert tracker is not None
    loop_ran = threading.Event()
    append = cache._append

    def slow_append(*args: Any) -> Any:
        assert loop_ran.wait(timeout=5), "the write blocked the event loop"
        return append(*args)

    async def other_conversation() -> None:
        loop_ran.set()

    cache._append = slow_append  # type: ignore[method-assign]
    other = asyncio.ensure_future(other_conversation())
    await cache.record(tracker, [agent_message("while others go on")])
    await other
    assert tracker.latest_bot_utterance is not None
    assert tracker.latest_bot_utterance.text == "while others go on"
    assert (await assert_same_as_rasa(cache, sender)) is tracker


@pytest.mark.parametrize("store", ["sql"], indirect=True)
async def test_the_locked_read_leaves_the_event_loop_free(store: TrackerStore) -> None:
    """The lock holder's read of what was stored since runs in a worker thread; a reader
    without the lock meanwhile gets the conversation from the store, and the holder's
    up-to-date tracker is the one cached afterwards."""
    sender = "s-" + new_id()
    await rasa_writes(store, sender, ActionExecuted(ACTION_SESSION_START_NAME), user("hi"))
    cache = new_cache(store)
    assert cache.retrieve(sender) is not None
    await rasa_writes(store, sender, user("stored by the bot meanwhile"))
    loop_ran = threading.Event()
    fetch = cache._fetch
    seen_meanwhile: List[Any] = []

    def slow_fetch(*args: Any) -> Any:
        assert loop_ran.wait(timeout=5), "the read blocked the event loop"
        return fetch(*args)

    async def unlocked_reader() -> None:
        cache._fetch = fetch  # type: ignore[method-assign]
        seen_meanwhile.append(cache.retrieve(sender))
        loop_ran.set()

    cache._fetch = slow_fetch  # type: ignore[method-assign]
    other = asyncio.ensure_future(unlocked_reader())
    tracker = await cache.retrieve_locked(sender)
    await other
    assert tracker is not None and tracker.latest_message is not None
    assert tracker.latest_message.text == "stored by the bot meanwhile"
    assert seen_meanwhile[0].latest_message.text == "stored by the bot meanwhile"
    assert (await assert_same_as_rasa(cache, sender)) is tracker
    assert len(cache) == 1


async def test_only_a_sql_cache_hands_its_reads_and_writes_to_a_thread(
    store: TrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Redis round trip is shorter than a hand-off to a worker thread: only a SQL store's
    reads and writes (PostgreSQL's fsync) go to one, of the tracker store's own threads (not
    the loop's default executor, which others share); the outcome is the same either way."""
    sender = "s-" + new_id()
    await rasa_writes(store, sender, ActionExecuted(ACTION_SESSION_START_NAME), user("hi"))
    cache = new_cache(store)
    assert cache.retrieve(sender) is not None
    ran_in: List[Tuple[str, str]] = []
    for name in ("_fetch", "_append"):
        original = getattr(cache, name)

        def traced(*args: Any, _call: Any = original, _name: str = name) -> Any:
            ran_in.append((_name, threading.current_thread().name))
            return _call(*args)

        monkeypatch.setattr(cache, name, traced)
    tracker = await cache.retrieve_locked(sender)
    assert tracker is not None
    await cache.record(tracker, [agent_message("on whichever side")])
    if isinstance(store, SQLTrackerStore):
        assert [call for call, _ in ran_in] == ["_fetch", "_append"]
        assert all(thread.startswith("rasa-zendesk-tracker-store-") for _, thread in ran_in)
    else:
        assert ran_in == [("_fetch", "MainThread"), ("_append", "MainThread")]
    assert (await assert_same_as_rasa(cache, sender)) is tracker
