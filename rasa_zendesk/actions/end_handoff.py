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
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from rasa_zendesk import constants
from rasa_zendesk.actions import sunco_session
from rasa_zendesk.actions.common import UTTER_HANDOFF_ENDED, log_failure, record
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.models import Author

logger = logging.getLogger(__name__)


class ActionZendeskEndHandoff(Action):
    """Give the conversation back to the bot, in Zendesk and in the tracker."""

    #: The note the agent sees in the ticket before control is released.
    agent_note = "The customer ended the chat and is back with the bot."
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
        if handoff is None:  # nothing to end (it ended while the user was typing)
            dispatcher.utter_message(response=UTTER_HANDOFF_ENDED)
            return []
        await self._end_in_zendesk(handoff.conversation_id, tracker.sender_id)
        dispatcher.utter_message(response=UTTER_HANDOFF_ENDED)
        return [record(state.ended(handoff, state.USER_ENDED))]

    async def _end_in_zendesk(self, conversation_id: str, sender_id: str) -> None:
        """Note, then release; each is tried even if the other failed, failures are logged."""
        try:
            client = sunco_session.get_client()
        except Exception as error:  # the user gets the bot back anyway
            log_failure(logger, "end of handoff", sender_id, error)
            return
        try:
            await client.post_message(
                conversation_id,
                Author.business(self.bot_display_name),
                self.agent_note,
                metadata=constants.ORIGIN_METADATA,
            )
        except Exception as error:  # the user gets the bot back anyway
            log_failure(logger, "note to the agent", sender_id, error)
        try:
            await client.release_control(conversation_id)
        except Exception as error:  # the user gets the bot back anyway
            log_failure(logger, "release of control", sender_id, error)
