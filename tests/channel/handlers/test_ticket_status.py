"""A ticket's new status (`rasa_zendesk.channel.handlers.ticket_status`): recorded in the
handoff's record; solved or closed ends it (the end itself: tests/handoff/test_endings.py)."""

from __future__ import annotations

from typing import List

from rasa_zendesk.channel.handlers import ticket_status
from rasa_zendesk.handoff import state
from rasa_zendesk.tickets.events import StatusChanged
from rasa_zendesk.tickets.link import link_tag
from testkit.action_calls import DOMAIN
from testkit.in_memory_rasa import CONVERSATION, in_memory_rasa


def change(current: str, tags: List[str], event_id: str = "ticket-evt-1") -> StatusChanged:
    return StatusChanged.parse_obj(
        {
            "id": event_id,
            "detail": {"id": "4711", "status": current, "tags": tags},
            "event": {"previous": "OPEN", "current": current},
        }
    )


async def test_another_status_is_recorded_and_the_user_told_nothing() -> None:
    server = await in_memory_rasa(DOMAIN)
    result = await ticket_status.handle(
        change("PENDING", [link_tag(CONVERSATION)]), server.rasa, "default"
    )
    assert result.applied
    record = await server.record()
    assert record is not None and record.active
    assert (record.ticket_id, record.ticket_status) == ("4711", "PENDING")
    assert await server.said() == []


async def test_a_ticket_of_no_handoff_of_this_bot() -> None:
    server = await in_memory_rasa(DOMAIN)
    result = await ticket_status.handle(change("SOLVED", ["vip"]), server.rasa, "default")
    assert result.note == "not a ticket of this bot's handoffs (no link tag)"


async def test_a_handoff_already_over_is_left_alone() -> None:
    over = state.ended(state.opened(CONVERSATION), state.AGENT_RELEASED)
    server = await in_memory_rasa(DOMAIN, handoff=over)
    result = await ticket_status.handle(
        change("SOLVED", [link_tag(CONVERSATION)]), server.rasa, "default"
    )
    assert (result.applied, result.note) == (False, "handoff already over")
