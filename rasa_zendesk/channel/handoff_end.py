"""How Zendesk ends a handoff, and what the user hears then.

Zendesk gives the conversation back with `switchboard:releaseControl`, or with
`switchboard:passControl` (reason `ticketClosed`) to an integration other than Agent Workspace.
The reason SunCo gives becomes the handoff's end reason (`rasa_zendesk.handoff.state`).
"""

from __future__ import annotations

from typing import Optional

from rasa.shared.core.events import Event, SlotSet

from rasa_zendesk import constants
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.models import SwitchboardIntegrationRef
from rasa_zendesk.sunco.webhooks import SwitchboardEvent

#: SunCo's reasons for giving control back, as the handoff's end reasons.
_END_REASONS = {
    constants.REASON_TICKET_CLOSED: state.TICKET_CLOSED,
    constants.REASON_TRANSFER_TO_EMAIL: state.TRANSFER_TO_EMAIL,
}


def end_reason(event: SwitchboardEvent) -> Optional[str]:
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


def record_event(handoff: state.Handoff, event_id: Optional[str] = None) -> Event:
    """The transition as a tracker event, marked with the SunCo event that caused it."""
    metadata = {constants.EVENT_ZENDESK_EVENT_ID: event_id} if event_id else {}
    return SlotSet(constants.SLOT_HANDOFF, handoff.as_slot(), metadata=metadata)


def _is_agent_workspace(ref: Optional[SwitchboardIntegrationRef]) -> bool:
    return ref is not None and (
        ref.name == constants.AGENT_WORKSPACE
        or ref.integration_type == constants.AGENT_WORKSPACE_TYPE
    )
