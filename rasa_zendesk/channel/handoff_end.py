"""How Zendesk ends a handoff, and what the user hears then.

Zendesk gives the conversation back with `switchboard:releaseControl`, or with
`switchboard:passControl` (reason `ticketClosed`) to an integration other than Agent Workspace.
The reason SunCo gives becomes the handoff's end reason (`rasa_zendesk.handoff.state`).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.core.actions.action import create_bot_utterance
from rasa.shared.core.events import BotUttered, Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.config import DEFAULT_HANDOFF_ENDED_TEXT
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.models import SwitchboardIntegrationRef
from rasa_zendesk.sunco.webhooks import SwitchboardEvent

AGENT_WORKSPACE_TYPE = "zd:agentWorkspace"


#: SunCo's reasons for giving control back, as the handoff's end reasons.
_END_REASONS = {
    constants.REASON_TICKET_CLOSED: state.TICKET_CLOSED,
    "transferToEmail": state.TRANSFER_TO_EMAIL,
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


def record_event(handoff: state.Handoff, event_id: str) -> Event:
    """The transition as a tracker event, marked with the SunCo event that caused it."""
    return SlotSet(
        constants.SLOT_HANDOFF,
        handoff.as_slot(),
        metadata={constants.EVENT_ZENDESK_EVENT_ID: event_id},
    )


async def handoff_ended_notice(
    agent: Any,
    tracker: DialogueStateTracker,
    channel_name: str,
    configured_text: Optional[str],
    event_id: str,
) -> BotUttered:
    """What the user is told: the configured text, else the domain's response, else ours."""
    message: Optional[Dict[str, Any]] = None
    if configured_text:
        message = {"text": configured_text}
    elif _has_response(agent, constants.UTTER_HANDOFF_ENDED):
        message = await agent.nlg.generate(constants.UTTER_HANDOFF_ENDED, tracker, channel_name)
        if message:
            message = {**message, "utter_action": constants.UTTER_HANDOFF_ENDED}
    notice = create_bot_utterance(dict(message or {"text": DEFAULT_HANDOFF_ENDED_TEXT}))
    notice.metadata[constants.EVENT_ZENDESK_EVENT_ID] = event_id
    return notice


def _has_response(agent: Any, name: str) -> bool:
    domain = getattr(agent, "domain", None)
    return domain is not None and name in (domain.responses or {})


def _is_agent_workspace(ref: Optional[SwitchboardIntegrationRef]) -> bool:
    return ref is not None and (
        ref.name == constants.AGENT_WORKSPACE or ref.integration_type == AGENT_WORKSPACE_TYPE
    )
