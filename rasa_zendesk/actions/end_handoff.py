"""`action_zendesk_end_handoff`: the user asks for the bot back while an agent is in charge.

The policy runs it only on an unambiguous gesture (see `rasa_zendesk.handoff.gestures`): `/end`,
the end button (`/end_handoff`), "back to the bot" after no agent came, `/restart`. The handoff
ends as its row of the table of endings says (`rasa_zendesk.handoff.endings`): in Zendesk a note
for the agent (business author, with the origin metadata so the channel does not relay it to
the user), then control is released; in Rasa the record ends (`user_ended`, `agent_timeout` or
`restart`), the user is told (`utter_zendesk_handoff_ended`, or `handoff_ended_text`), and the
author's `after_handoff_action` follows (Rasa's restart after `/restart`).

The user asked for the bot back, so they get it back even if Zendesk cannot be reached: the
handoff ends and the failure is logged. The agent may then still see an open ticket; a
message they send afterwards still reaches the user (the channel delivers an agent's message
outside a handoff rather than drop a person's words), with a line in the log.

Reword the agent's note by subclassing: `agent_notes = {**ActionZendeskEndHandoff.agent_notes,
"user_ended": "..."}` (see `rasa_zendesk.actions.base.ZendeskAction`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from rasa_zendesk import constants
from rasa_zendesk.actions.base import Turn, ZendeskAction
from rasa_zendesk.handoff import gestures, state


class ActionZendeskEndHandoff(ZendeskAction):
    """Give the conversation back to the bot, in Zendesk and in the tracker."""

    action_name = constants.ACTION_END_HANDOFF

    async def act(self, turn: Turn) -> List[Dict[str, Any]]:
        handoff = state.active(turn.tracker.events)
        # A handoff that ended while the user was typing: told again, nothing to end.
        return await self.end(turn, handoff, gesture_reason(turn.tracker, handoff))


def gesture_reason(tracker: Tracker, handoff: Optional[state.Handoff]) -> str:
    """Why the user's gesture ends the handoff: a restart, the choice offered when no agent
    came in time, or the user's own wish."""
    message = tracker.latest_message or {}
    if gestures.is_restart(message.get("text")):
        return state.RESTART
    if handoff is not None and handoff.agent_timeout_offered_at is not None:
        if handoff.state == state.WAITING:
            return state.AGENT_TIMEOUT
    return state.USER_ENDED
