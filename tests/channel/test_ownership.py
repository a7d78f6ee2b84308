"""A user is reached only through a conversation the bot opened for them: an event acts on the
Rasa user its conversation's metadata names only when one of that user's handoff records names
the conversation on the connector whose route it came through; otherwise it is refused (200,
logged, counted) and touches nothing. And a ticket event ends only its own handoff: the first
ticket event pins the handoff's ticket."""

from __future__ import annotations

import logging
from typing import List

import pytest
from rasa.shared.core.events import SlotSet

from rasa_zendesk import constants
from rasa_zendesk.channel.handlers import agent_message, agent_typing, switchboard, ticket_status
from rasa_zendesk.channel.write_path import EventResult
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.webhooks import ActivityEvent, MessageEvent, SwitchboardEvent, parse_event
from rasa_zendesk.tickets.events import StatusChanged
from rasa_zendesk.tickets.link import link_tag
from testkit.action_calls import DOMAIN
from testkit.channel_harness import (
    Handoff,
    RasaServer,
    content,
    message_webhook,
    new_id,
    release_webhook,
    typing_webhook,
)
from testkit.in_memory_rasa import CONVERSATION, SENDER, InMemoryRasa, in_memory_rasa
from testkit.metrics import value

#: A conversation someone created with the SunCo API, its metadata naming `SENDER`.
STRANGER = "fedcba9876543210fedcba98"


def message(conversation_id: str) -> MessageEvent:
    event = parse_event(message_webhook(conversation_id, SENDER, content("text"))["events"][0])
    assert isinstance(event, MessageEvent)
    return event


def typing(conversation_id: str) -> ActivityEvent:
    event = parse_event(typing_webhook(conversation_id, SENDER)["events"][0])
    assert isinstance(event, ActivityEvent)
    return event


def release(conversation_id: str) -> SwitchboardEvent:
    event = parse_event(release_webhook(conversation_id, SENDER)["events"][0])
    assert isinstance(event, SwitchboardEvent)
    return event


def ticket(conversation_id: str, ticket_id: str = "4711", current: str = "SOLVED") -> StatusChanged:
    return StatusChanged.parse_obj(
        {
            "id": new_id(),
            "detail": {"id": ticket_id, "status": current, "tags": [link_tag(conversation_id)]},
            "event": {"previous": "OPEN", "current": current},
        }
    )


async def every_kind(server: InMemoryRasa, conversation_id: str) -> List[EventResult]:
    """An agent message, agent typing, a release and a solved ticket for the conversation."""
    rasa = server.rasa
    hand_back = release(conversation_id)
    reason = switchboard.reason_of_hand_back(hand_back)
    assert reason is not None
    return [
        await agent_message.handle(message(conversation_id), rasa, "default"),
        await agent_typing.handle(typing(conversation_id), rasa, "default"),
        await switchboard.handle(hand_back, reason, rasa, "default"),
        await ticket_status.handle(ticket(conversation_id), rasa, "default"),
    ]


async def test_a_conversation_the_user_never_had_is_refused_for_every_kind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await in_memory_rasa(DOMAIN)
    before = list((await server.tracker()).events)

    with caplog.at_level(logging.WARNING):
        results = await every_kind(server, STRANGER)

    assert [(result.applied, result.refused) for result in results] == [(False, True)] * 4
    assert list((await server.tracker()).events) == before
    assert server.directory.released == []
    assert "none of whose handoffs had that conversation: refused" in caplog.text


async def test_the_user_s_own_conversation_is_acted_on() -> None:
    server = await in_memory_rasa(DOMAIN)
    results = await every_kind(server, CONVERSATION)
    assert [result.refused for result in results] == [False] * 4
    assert results[0].applied and results[2].applied
    record = await server.record()
    assert record is not None and record.end_reason == state.TICKET_CLOSED


async def test_a_late_agent_message_of_the_user_s_past_conversation_is_delivered() -> None:
    over = state.ended(state.opened(CONVERSATION), state.TICKET_CLOSED)
    server = await in_memory_rasa(DOMAIN, handoff=over)
    assert (await agent_message.handle(message(CONVERSATION), server.rasa, "default")).applied
    assert [e.text for e in await server.said()] == ["Hello!"]
    refused = await agent_message.handle(message(STRANGER), server.rasa, "default")
    assert refused.refused and len(await server.said()) == 1


async def test_the_first_ticket_pins_the_handoff_and_another_ticket_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await in_memory_rasa(DOMAIN)
    rasa = server.rasa
    assert (
        await ticket_status.handle(ticket(CONVERSATION, "4711", "OPEN"), rasa, "default")
    ).applied

    with caplog.at_level(logging.WARNING):
        other = await ticket_status.handle(ticket(CONVERSATION, "4712"), rasa, "default")

    assert (other.applied, other.refused) == (False, True)
    assert "has ticket 4711: refused" in caplog.text
    record = await server.record()
    assert record is not None and record.active and record.ticket_id == "4711"
    own = await ticket_status.handle(ticket(CONVERSATION, "4711"), rasa, "default")
    assert own.applied
    record = await server.record()
    assert record is not None and record.end_reason == state.TICKET_SOLVED


async def test_an_earlier_handoff_s_ticket_does_not_end_the_next_one() -> None:
    earlier = state.ended(
        state.ticket_changed(state.opened(CONVERSATION), "4711", "SOLVED"), state.TICKET_SOLVED
    )
    server = await in_memory_rasa(DOMAIN, handoff=earlier)
    tracker = await server.tracker()
    tracker.update(SlotSet(constants.SLOT_HANDOFF, state.opened(CONVERSATION).as_slot()))
    await server.store.save(tracker)

    late = await ticket_status.handle(
        ticket(CONVERSATION, "4711", "CLOSED"), server.rasa, "default"
    )
    assert late.refused
    record = await server.record()
    assert record is not None and record.active


async def test_a_refused_webhook_is_200_and_counted(rasa: RasaServer, handoff: Handoff) -> None:
    stranger = "conv_" + new_id()
    answer = await rasa.post_webhook(message_webhook(stranger, handoff.sender_id, content("text")))

    assert answer.json() == {"status": "ok", "processed": 0, "ignored": 0, "refused": 1}
    assert [e.text for e in await rasa.bot_events(handoff.sender_id)] == [
        "An agent will be with you shortly."
    ]
    handoff.chat.assert_no_more_messages()
    body, _ = rasa.zendesk.metrics.exposition()
    labels = {"route": "webhook", "type": "conversation:message", "outcome": "refused"}
    assert value(body.decode(), "rasa_zendesk_webhook_events_total", **labels) == 1


async def test_the_current_record_answers_without_reading_every_record() -> None:
    """The current handoff names the conversation on the route's connector: the event is the
    user's, without reading every record of every session; the full check still refuses the
    conversation on another connector's route, and a conversation the user never had."""
    server = await in_memory_rasa(DOMAIN)
    tracker = await server.tracker()
    reads: List[str] = []
    read_all = server.rasa.trackers.connectors_of

    async def counted(tracker: object, conversation_id: str) -> object:
        reads.append(conversation_id)
        return await read_all(tracker, conversation_id)  # type: ignore[arg-type]

    server.rasa.trackers.connectors_of = counted  # type: ignore[method-assign]
    assert not await server.rasa.refused("default", tracker, CONVERSATION)
    assert reads == []
    assert await server.rasa.refused("eu", tracker, CONVERSATION)
    assert await server.rasa.refused("default", tracker, STRANGER)
    assert reads == [CONVERSATION, STRANGER]
