"""When a handoff is on for a SunCo conversation, when Zendesk ends it, and what the user hears.

The handoff state is the pair of slots the escalation action sets: `zendesk_handoff_active` and
`zendesk_conversation_id`. A conversation's webhooks act on the tracker only while the
handoff is on *for that conversation*: a late event of an earlier handoff must not touch a newer
one, nor reach a user who is back with the bot.

Zendesk gives the conversation back with `switchboard:releaseControl`, or with
`switchboard:passControl` (reason `ticketClosed`) to an integration other than Agent Workspace.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.core.actions.action import create_bot_utterance
from rasa.shared.core.events import BotUttered, Event, SlotSet
from rasa.shared.core.slots import bool_from_any
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.config import DEFAULT_HANDOFF_ENDED_TEXT
from rasa_zendesk.sunco.models import SwitchboardIntegrationRef
from rasa_zendesk.sunco.webhooks import SwitchboardEvent

#: The domain response said when the agent ends the handoff (the end-handoff action, run when
#: the user ends it, says the same one).
AGENT_WORKSPACE_TYPE = "zd:agentWorkspace"


def ends_handoff(event: SwitchboardEvent) -> bool:
    """Whether this switchboard event gives the conversation back from the agent."""
    if event.type == "switchboard:releaseControl":
        return True
    if event.type == "switchboard:passControl":
        payload = event.payload
        return payload.reason == constants.REASON_TICKET_CLOSED and not _is_agent_workspace(
            payload.conversation.active_switchboard_integration
        )
    return False


def handoff_active_for(tracker: DialogueStateTracker, conversation_id: str) -> bool:
    """Whether the tracker is in a handoff, and one that this SunCo conversation may act on."""
    active = tracker.get_slot(constants.SLOT_HANDOFF_ACTIVE)
    if active is None or not bool_from_any(active):
        return False
    current = tracker.get_slot(constants.SLOT_CONVERSATION_ID)
    return not current or current == conversation_id


def closing_events(event_id: str) -> List[Event]:
    """The slot changes that end the handoff, marked with the SunCo event that caused them."""
    metadata = {constants.EVENT_ZENDESK_EVENT_ID: event_id}
    return [
        SlotSet(constants.SLOT_HANDOFF_ACTIVE, False, metadata=dict(metadata)),
        SlotSet(constants.SLOT_CONVERSATION_ID, None, metadata=dict(metadata)),
    ]


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
