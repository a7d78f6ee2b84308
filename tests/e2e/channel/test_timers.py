"""The handoff's timers in a real Rasa server: they fire with nothing arriving, once, from the
tracker store alone (a restarted server, or a second one, finds them), and end the handoff in
Zendesk too. Time is the plugin's clock (`ZENDESK_CLOCK_FILE`), moved by the test: no test
waits for a real minute."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import AsyncIterator, Optional

import pytest

from rasa_zendesk import constants
from rasa_zendesk.channel.open_index import RedisOpenIndex
from rasa_zendesk.channel.timers import watchlist
from rasa_zendesk.channel.timers.loop import TimerLoop
from rasa_zendesk.handoff import state
from testkit.channel_harness import redis_tracker_store
from testkit.clock_file import ClockFile
from testkit.emulator_stack import EmulatorStack, emulator_stack
from testkit.services import Redis

pytestmark = pytest.mark.timeout(60)

TIMEOUTS = {"agent_timeout": "600", "idle_timeout": "1800", "max_duration": "7200"}


@pytest.fixture
async def stack(db_path: Path, moved_clock: ClockFile) -> AsyncIterator[EmulatorStack]:
    """The stack with the server's timer loop stopped: the test runs its rounds (`tick`)."""
    async with emulator_stack(db_path, credentials=TIMEOUTS) as running:
        await running.rasa.zendesk.timers.stop()
        yield running


async def round_of_timers(stack: EmulatorStack, loop: Optional[TimerLoop] = None) -> None:
    await (loop or stack.rasa.zendesk.timers).tick(stack.rasa.app)


async def handoff_writes(stack: EmulatorStack, sender: str) -> int:
    tracker = await stack.rasa.tracker(sender)
    return sum(1 for e in tracker.events if getattr(e, "key", None) == constants.SLOT_HANDOFF)


async def record_of(stack: EmulatorStack, sender: str) -> state.Handoff:
    handoff = state.current((await stack.rasa.tracker(sender)).events)
    assert handoff is not None
    return handoff


async def test_no_agent_in_time_offers_the_three_choices_once(
    stack: EmulatorStack, moved_clock: ClockFile
) -> None:
    sender, _, chat = await stack.handoff()
    moved_clock.advance(599)
    await round_of_timers(stack)  # nothing is due yet
    assert await handoff_writes(stack, sender) == 1

    moved_clock.advance(2)
    await round_of_timers(stack)
    offer = await chat.next_message(timeout=10)
    assert "No agent is free yet" in offer["text"]
    assert [b["payload"] for b in offer["quick_replies"]] == ["/wait", "/leave_message", "/bot"]
    offered = await record_of(stack, sender)
    assert offered.state == state.WAITING and offered.agent_timeout_offered_at is not None

    moved_clock.advance(300)  # later rounds find it done
    await round_of_timers(stack)
    await round_of_timers(stack)
    assert await handoff_writes(stack, sender) == 2  # opened, offered
    chat.assert_no_more_messages()


@pytest.mark.parametrize(
    ("idle", "ahead", "reason"),
    [("1800", 1801, state.IDLE_TIMEOUT), ("0", 7201, state.MAX_DURATION)],
)
async def test_an_idle_or_too_long_handoff_ends_here_and_in_zendesk(
    db_path: Path, moved_clock: ClockFile, idle: str, ahead: float, reason: str
) -> None:
    async with emulator_stack(db_path, credentials={**TIMEOUTS, "idle_timeout": idle}) as stack:
        await stack.rasa.zendesk.timers.stop()
        await ends_by_timer(stack, moved_clock, ahead, reason)


async def ends_by_timer(
    stack: EmulatorStack, moved_clock: ClockFile, ahead: float, reason: str
) -> None:
    sender, conversation_id, chat = await stack.handoff()
    await stack.agent_says(conversation_id, "Hi, Alex here")
    assert (await chat.next_message())["text"] == "Hi, Alex here"
    moved_clock.advance(ahead)
    await round_of_timers(stack)

    ended_notice = await chat.next_message(timeout=10)
    assert "back with the bot" in ended_notice["text"]
    ended = await record_of(stack, sender)
    assert ended.state == state.ENDED and ended.end_reason == reason
    releases = await stack.api_calls("POST", "/releaseControl")
    assert [r["body"]["metadata"] for r in releases] == [{constants.END_REASON_KEY: reason}]
    conversation = (await stack.control("GET", "/state"))["conversations"]
    assert next(c for c in conversation if c["id"] == conversation_id)["agentStatus"] != "open"


async def test_a_second_server_on_the_same_stores_fires_nothing_twice(
    stack: EmulatorStack, moved_clock: ClockFile
) -> None:
    """Two timer loops on one tracker store and lock store, as two Rasa instances: each
    finds the handoff in the store, both are due at once, one fires."""
    sender, _, chat = await stack.handoff()
    other = TimerLoop(stack.rasa.zendesk.processor)
    moved_clock.advance(601)
    await asyncio.gather(round_of_timers(stack, other), round_of_timers(stack))

    assert "No agent is free yet" in (await chat.next_message())["text"]
    assert await handoff_writes(stack, sender) == 2
    assert (await record_of(stack, sender)).agent_timeout_offered_at is not None


async def test_a_restarted_server_finds_the_running_handoffs_in_the_store(
    stack: EmulatorStack, moved_clock: ClockFile
) -> None:
    """A fresh loop (a server after SIGKILL: nothing in memory) reads the handoffs from the
    tracker store and fires what fell due while it was down."""
    sender, _, chat = await stack.handoff()
    moved_clock.advance(601)
    await round_of_timers(stack, TimerLoop(stack.rasa.zendesk.processor))
    assert "No agent is free yet" in (await chat.next_message())["text"]


async def test_an_agent_who_joined_stops_the_agent_timeout(
    stack: EmulatorStack, moved_clock: ClockFile
) -> None:
    sender, conversation_id, chat = await stack.handoff()
    await stack.agent_says(conversation_id, "Hi")
    await chat.next_message()
    moved_clock.advance(1000)  # past the agent timeout, before idle and max
    await round_of_timers(stack)
    await round_of_timers(stack)
    assert (await record_of(stack, sender)).state == state.AGENT_JOINED
    assert await handoff_writes(stack, sender) == 2  # opened, joined


async def test_the_timers_keep_working_past_their_horizon(
    stack: EmulatorStack, moved_clock: ClockFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows older than the horizon are read for good and no longer re-read; rounds after that
    go on finding and firing timers."""
    sender, _, chat = await stack.handoff()
    await round_of_timers(stack)
    later = time.monotonic() + watchlist.HORIZON_SECONDS + 1
    monkeypatch.setattr(watchlist.time, "monotonic", lambda: later)
    await round_of_timers(stack)
    await round_of_timers(stack)
    loop_watchlist = stack.rasa.zendesk.timers._watchlist
    assert isinstance(loop_watchlist, watchlist.SQLWatchlist)
    assert loop_watchlist.settled_below > 0
    moved_clock.advance(601)
    await round_of_timers(stack)
    assert "No agent is free yet" in (await chat.next_message())["text"]
    assert (await record_of(stack, sender)).agent_timeout_offered_at is not None


async def test_with_a_redis_tracker_store_the_index_finds_the_running_handoffs(
    db_path: Path, moved_clock: ClockFile, redis_service: Redis
) -> None:
    """No events table to read: a fresh loop (a restart, or another instance) reads the index
    of open handoffs, rebuilt from the records when it is missing (the first start after an
    upgrade: nobody indexed the handoff), and fires its timer."""
    store = redis_tracker_store(redis_service.port)
    async with emulator_stack(db_path, credentials=TIMEOUTS, tracker_store=store) as stack:
        await stack.rasa.zendesk.timers.stop()
        sender, _, chat = await stack.handoff()
        index = RedisOpenIndex(store)
        store.red.delete(index.key, index.built_key)
        fresh = TimerLoop(stack.rasa.zendesk.processor)
        await round_of_timers(stack, fresh)
        assert isinstance(fresh._watchlist, watchlist.IndexWatchlist)
        assert sender in fresh._watchlist.running
        moved_clock.advance(601)
        await round_of_timers(stack, fresh)
        assert "No agent is free yet" in (await chat.next_message())["text"]
        assert (await record_of(stack, sender)).agent_timeout_offered_at is not None
