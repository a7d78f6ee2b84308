"""The channel under webhook deliveries as unkind as real SunCo's: duplicated, swapped, late.

A real Rasa server with the channel (`harness.start_rasa`) gets its webhooks from the in-process
emulator, whose delivery modes (`/_emulator/webhook-mode`) duplicate events (SunCo retrying a
delivery whose 2xx it did not see), swap them, or hold them back. Each agent message must reach
the user's web chat once and be recorded once in the tracker.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List

import pytest
from rasa.shared.core.events import BotUttered

from rasa_zendesk import constants
from testkit.channel_harness import (
    HANDOFF_ENDED_TEXT,
    WebChat,
)
from testkit.emulator_stack import EmulatorStack, emulator_stack

pytestmark = pytest.mark.timeout(60)

SENTINEL = "that is all from me"


@pytest.fixture(params=["sql", "sql-uncached"])
async def stack(db_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[EmulatorStack]:
    uncached = {"tracker_cache_size": "0"} if request.param == "sql-uncached" else {}
    async with emulator_stack(db_path, (0.1, 0.1), uncached) as running:
        yield running


async def texts_until_sentinel(
    stack: EmulatorStack, conversation_id: str, chat: WebChat
) -> List[str]:
    """What the chat shows up to a last, plain agent message: a late copy of anything sent
    before it would arrive before it (socket.io keeps the order of one client's messages)."""
    await stack.control("DELETE", "/webhook-mode")
    await stack.agent_says(conversation_id, SENTINEL)
    texts: List[str] = []
    while not texts or texts[-1] != SENTINEL:
        texts.append((await chat.next_message())["text"])
    return texts[:-1]


async def recorded(stack: EmulatorStack, sender_id: str) -> Counter:
    """How often each agent message (by SunCo message id) is in the tracker."""
    events = await stack.rasa.bot_events(sender_id)
    return Counter(
        e.metadata[constants.EVENT_ZENDESK_MESSAGE_ID]
        for e in events
        if isinstance(e, BotUttered) and e.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)
    )


def duplicates_answered_200(deliveries: List[Dict[str, Any]]) -> int:
    """Second copies the channel received and acknowledged (the test is only worth it if so)."""
    return sum(
        1 for d in deliveries for a in d["attempts"] if a["duplicate"] and a["status"] == 200
    )


async def test_duplicated_agent_messages_reach_the_user_once(stack: EmulatorStack) -> None:
    sender_id, conversation_id, chat = await stack.handoff()
    try:
        await stack.control(
            "POST",
            "/webhook-mode",
            {"mode": "duplicate", "type": "conversation:message", "count": 3},
        )
        texts = ["first", "second", "third"]
        ids = [await stack.agent_says(conversation_id, text) for text in texts]
        deliveries = await stack.settled()
        assert duplicates_answered_200(deliveries) == 3

        assert await texts_until_sentinel(stack, conversation_id, chat) == texts
    finally:
        await chat.client.disconnect()
    await stack.settled()  # the sentinel's webhook answered: recorded before that answer
    counts = await recorded(stack, sender_id)
    assert [counts[message_id] for message_id in ids] == [1, 1, 1]
    assert sum(counts.values()) == 4  # and the sentinel


async def test_reordered_agent_messages_each_reach_the_user_once(stack: EmulatorStack) -> None:
    sender_id, conversation_id, chat = await stack.handoff()
    try:
        await stack.control(
            "POST", "/webhook-mode", {"mode": "reorder", "type": "conversation:message", "count": 2}
        )
        texts = ["one", "two", "three", "four"]
        ids = [await stack.agent_says(conversation_id, text) for text in texts]
        deliveries = await stack.settled()
        sent = [
            d["payload"]["events"][0]["payload"]["message"]["content"]["text"]
            for d in deliveries
            if d["eventType"] == "conversation:message" and d["modes"] != []
        ]
        assert sent == ["one", "three"]  # the two held back, each behind the next one

        shown = await texts_until_sentinel(stack, conversation_id, chat)
    finally:
        await chat.client.disconnect()
    assert shown == ["two", "one", "four", "three"]  # out of order, but each once
    counts = await recorded(stack, sender_id)
    assert [counts[message_id] for message_id in ids] == [1, 1, 1, 1]


async def test_swapped_and_duplicated_together(stack: EmulatorStack) -> None:
    sender_id, conversation_id, chat = await stack.handoff()
    try:
        for rule in ({"mode": "duplicate", "count": 4}, {"mode": "reorder", "count": 2}):
            await stack.control("POST", "/webhook-mode", {**rule, "type": "conversation:message"})
        texts = ["a", "b", "c", "d"]
        ids = [await stack.agent_says(conversation_id, text) for text in texts]
        assert duplicates_answered_200(await stack.settled()) == 4

        shown = await texts_until_sentinel(stack, conversation_id, chat)
    finally:
        await chat.client.disconnect()
    assert sorted(shown) == texts and len(shown) == 4
    counts = await recorded(stack, sender_id)
    assert [counts[message_id] for message_id in ids] == [1, 1, 1, 1]


async def test_a_late_and_repeated_hand_back_ends_the_handoff_once(stack: EmulatorStack) -> None:
    sender_id, conversation_id, chat = await stack.handoff()
    try:
        await stack.control(
            "POST", "/webhook-mode", {"mode": "hold", "type": "switchboard:releaseControl"}
        )
        await stack.control(
            "POST", "/webhook-mode", {"mode": "duplicate", "type": "switchboard:releaseControl"}
        )
        await stack.control("POST", f"/conversations/{conversation_id}/solve")
        await stack.agent_says(conversation_id, "one more thing")  # overtakes the hand-back
        deliveries = await stack.settled()
        held = next(d for d in deliveries if d["status"] == "held")
        assert held["eventType"] == "switchboard:releaseControl"

        released = await stack.control("POST", f"/webhooks/{held['eventId']}/release")
        attempts = released["delivery"]["attempts"]
        assert [(a["status"], a["duplicate"]) for a in attempts] == [(200, False), (200, True)]

        shown = await texts_until_sentinel(stack, conversation_id, chat)
    finally:
        await chat.client.disconnect()
    assert shown == ["one more thing", HANDOFF_ENDED_TEXT]
    events = await stack.rasa.bot_events(sender_id)
    assert [e.text for e in events].count(HANDOFF_ENDED_TEXT) == 1
