"""Zendesk gives the conversation back: `switchboard:releaseControl`, or
`switchboard:passControl` (reason `ticketClosed`) to an integration other than Agent
Workspace. The reason SunCo gives becomes the handoff's end reason, and the handoff ends as
the table of endings says (`ending`)."""

from __future__ import annotations

import logging
from typing import Optional

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.handlers.ending import end_here
from rasa_zendesk.channel.write_path import (
    Decided,
    EventResult,
    RasaContext,
    apply_sunco_event,
    delivered,
    skipped,
)
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.models import SwitchboardIntegrationRef
from rasa_zendesk.sunco.webhooks import SwitchboardEvent

logger = logging.getLogger(__name__)

#: SunCo's reasons for giving control back, as the handoff's end reasons.
_END_REASONS = {
    constants.REASON_TICKET_CLOSED: state.TICKET_CLOSED,
    constants.REASON_TRANSFER_TO_EMAIL: state.TRANSFER_TO_EMAIL,
}


def reason_of_hand_back(event: SwitchboardEvent) -> Optional[str]:
    """Why this switchboard event ends the handoff; None when it does not end it."""
    payload = event.payload
    if event.type == "switchboard:releaseControl":
        return _END_REASONS.get(payload.reason or "", state.AGENT_RELEASED)
    if event.type == "switchboard:passControl":
        if payload.reason == constants.REASON_TICKET_CLOSED and not _is_agent_workspace(
            payload.conversation.active_switchboard_integration
        ):
            return state.TICKET_CLOSED
    return None


async def handle(
    event: SwitchboardEvent, reason: str, rasa: RasaContext, connector: str
) -> EventResult:
    """End the handoff of the event's conversation for `reason` (`reason_of_hand_back`)."""
    conversation_id = event.payload.conversation.id

    async def close(tracker: DialogueStateTracker, output: OutputChannel) -> Decided[EventResult]:
        handoff = state.active_for(tracker.events, conversation_id)
        if handoff is None:
            logger.info(
                "%s for conversation %s: the handoff of sender %s is already over",
                event.type,
                conversation_id,
                tracker.sender_id,
            )
            return skipped("handoff already over")
        return delivered(await end_here(rasa, tracker, output, handoff, reason, event.id))

    dedupe = (constants.EVENT_ZENDESK_EVENT_ID, event.id)
    return await apply_sunco_event(
        rasa, event, connector, dedupe, f"End of handoff ({event.type})", close
    )


def _is_agent_workspace(ref: Optional[SwitchboardIntegrationRef]) -> bool:
    return ref is not None and (
        ref.name == constants.AGENT_WORKSPACE
        or ref.integration_type == constants.AGENT_WORKSPACE_TYPE
    )
