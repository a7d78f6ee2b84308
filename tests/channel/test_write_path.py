"""The one write path (`rasa_zendesk.channel.write_path`): what a handler decides is delivered,
recorded and followed up under the conversation's lock; a webhook event is applied once, and
never through another connector's route."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, List, Optional, Tuple

import pytest
from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import ActionExecuted, BotUttered
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
from testkit.in_memory_rasa import SENDER, InMemoryRasa, in_memory_rasa

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


async def test_the_delivery_is_recorded_and_the_follow_up_runs(server: InMemoryRasa) -> None:
    message = told()
    delivery = Delivery([message], [message, listening(message)], then_run="utter_ask_feedback")

    answer = await write(server.rasa, RasaConversation(SENDER), decision(delivery), "A test")

    assert answer == "told"
    events = list((await server.tracker()).events)
    assert [type(e).__name__ for e in events[-2:]] == ["BotUttered", "ActionExecuted"]
    assert events[-1].metadata[constants.EVENT_ZENDESK_EVENT_ID] == "evt-1"  # the listen's too
    assert server.follow_ups.ran == ["utter_ask_feedback"]
    # No input channel pushes here: the message waits for the user's next one.
    assert [e.text for e in pending.not_handed_out(events)] == ["Hello from Anna"]


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
    delivery = Delivery([], [ended], then_run="utter_ask_feedback")
    with caplog.at_level(logging.ERROR):
        await write(server.rasa, RasaConversation(SENDER), decision(delivery), "The end")
    assert "after_handoff_action utter_ask_feedback failed" in caplog.text
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
