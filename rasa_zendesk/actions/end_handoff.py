"""`action_zendesk_end_handoff`: the user asks for the bot back while an agent is in charge.

The policy runs it only on an unambiguous gesture (see `rasa_zendesk.handoff.gestures`). In
Zendesk it posts a note for the agent (business author, with the origin metadata so the
channel does not relay it to the user) and then releases control of the conversation. In Rasa
it ends the handoff (reason `user_ended`) and utters `utter_zendesk_handoff_ended`.

The user asked for the bot back, so they get it back even if Zendesk cannot be reached: the
handoff ends and the failure is logged. The agent may then still see an open ticket; a
message they send afterwards still reaches the user (the channel delivers an agent's message
outside a handoff rather than drop a person's words), with a line in the log.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from rasa_zendesk import constants
from rasa_zendesk.actions import sunco_session
from rasa_zendesk.actions.common import UTTER_HANDOFF_ENDED, log_failure, record
from rasa_zendesk.handoff import gestures, state
from rasa_zendesk.settings import HandoffSettings, Sources
from rasa_zendesk.sunco.models import Author

logger = logging.getLogger(__name__)


class ActionZendeskEndHandoff(Action):
    """Give the conversation back to the bot, in Zendesk and in the tracker."""

    #: The note the agent sees in the ticket before control is released, by end reason.
    agent_notes = {
        state.USER_ENDED: "The customer ended the chat and is back with the bot.",
        state.AGENT_TIMEOUT: (
            "No agent answered in time; the customer chose to go back to the bot."
        ),
        state.RESTART: "The customer restarted the conversation with the bot.",
    }
    #: Display name of the note's (business) author.
    bot_display_name = "Bot"

    def name(self) -> str:
        return constants.ACTION_END_HANDOFF

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        handoff = state.active(tracker.events)
        reason = end_reason(tracker, handoff)
        then = _then(reason)
        if handoff is None:  # nothing to end (it ended while the user was typing)
            if reason != state.RESTART:
                dispatcher.utter_message(response=UTTER_HANDOFF_ENDED)
            return then
        await self._end_in_zendesk(handoff, tracker.sender_id, reason)
        if reason != state.RESTART:  # Rasa's restart says what it says
            dispatcher.utter_message(response=UTTER_HANDOFF_ENDED)
        return [record(state.ended(handoff, reason)), *then]

    async def _end_in_zendesk(self, handoff: state.Handoff, sender_id: str, reason: str) -> None:
        """Note, then release (its metadata says why); each is tried even if the other failed,
        failures are logged."""
        conversation_id = handoff.conversation_id
        try:
            client = sunco_session.get_client(handoff.connector)
        except Exception as error:  # the user gets the bot back anyway
            log_failure(logger, "end of handoff", sender_id, error)
            return
        try:
            await client.post_message(
                conversation_id,
                Author.business(self.bot_display_name),
                self.agent_notes.get(reason, self.agent_notes[state.USER_ENDED]),
                metadata=constants.ORIGIN_METADATA,
            )
        except Exception as error:  # the user gets the bot back anyway
            log_failure(logger, "note to the agent", sender_id, error)
        try:
            await client.release_control(conversation_id, {constants.END_REASON_KEY: reason})
        except Exception as error:  # the user gets the bot back anyway
            log_failure(logger, "release of control", sender_id, error)


def end_reason(tracker: Tracker, handoff: Optional[state.Handoff]) -> str:
    """Why the user's gesture ends the handoff: a restart, the choice offered when no agent
    came in time, or the user's own wish."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    if gestures.is_restart(message.get("text"), intent):
        return state.RESTART
    if handoff is not None and handoff.agent_timeout_offered_at is not None:
        if handoff.state == state.WAITING:
            return state.AGENT_TIMEOUT
    return state.USER_ENDED


def _then(reason: str) -> List[Dict[str, Any]]:
    """What Rasa runs next: its restart, or the author's `after_handoff_action`."""
    if reason == state.RESTART:
        return [FollowupAction("action_restart")]
    after = HandoffSettings.read(Sources()).after_handoff_action
    return [FollowupAction(after)] if after else []
