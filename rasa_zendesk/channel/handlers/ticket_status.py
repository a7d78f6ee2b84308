"""A ticket's new status, from Zendesk's ticket webhook: solved or closed ends the handoff at
once (`ticket_solved`; Agent Workspace would give it back only when the ticket closes, days
later; that release then finds it over and tells nobody again). Other statuses are recorded in
the handoff's record. The first ticket event that reaches a handoff pins its ticket; another
ticket's events are refused, so a ticket ends only its own handoff."""

from __future__ import annotations

import logging

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.handlers.ending import end_here
from rasa_zendesk.channel.write_path import (
    NOT_OURS,
    Decided,
    Delivery,
    EventResult,
    RasaContext,
    WebhookWrite,
    apply_once,
    delivered,
    record_event,
    skipped,
)
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.models import Conversation
from rasa_zendesk.tickets.events import StatusChanged
from rasa_zendesk.tickets.link import conversation_of_tags

logger = logging.getLogger(__name__)

ANOTHER_TICKET = EventResult(False, "refused: not the ticket of the handoff", refused=True)


async def handle(change: StatusChanged, rasa: RasaContext, connector: str) -> EventResult:
    conversation_id = conversation_of_tags(change.detail.tags)
    if conversation_id is None:
        return EventResult(False, "not a ticket of this bot's handoffs (no link tag)")
    target = await rasa.find(connector, Conversation(id=conversation_id), change.id)
    if target is None:
        return NOT_OURS
    ticket_id, status = change.detail.id, change.event.current

    async def update(tracker: DialogueStateTracker, output: OutputChannel) -> Decided[EventResult]:
        handoff = state.active_for(tracker.events, conversation_id)
        if handoff is None:
            logger.info(
                "Ticket %s is %s: the handoff of sender %s is already over",
                ticket_id,
                status,
                tracker.sender_id,
            )
            return skipped("handoff already over")
        if state.ticket_of_another(tracker.events, handoff, ticket_id):
            logger.warning(
                "Ticket %s is %s, but the handoff of conversation %s (sender %s) has ticket %s: "
                "refused",
                ticket_id,
                status,
                conversation_id,
                tracker.sender_id,
                handoff.ticket_id or "of an earlier handoff",
            )
            return None, ANOTHER_TICKET
        handoff = state.ticket_changed(handoff, ticket_id, status)
        if not change.ends_session:
            return delivered(Delivery([], [record_event(handoff, change.id)]))
        ended = await end_here(rasa, tracker, output, handoff, state.TICKET_SOLVED, change.id)
        return delivered(ended)

    write_of = WebhookWrite(
        target,
        conversation_id,
        change.time,
        connector,
        (constants.EVENT_ZENDESK_EVENT_ID, change.id),
        f"Ticket {ticket_id} {status}",
    )
    return await apply_once(rasa, write_of, update)
