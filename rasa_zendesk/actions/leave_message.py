"""`action_zendesk_leave_message`: the user's answer to the offer made when no agent could
answer (`handoff.offer`, made by `action_zendesk_handoff`).

- Go on with the bot (`/bot`): the offer closes, and the bot says it is listening.
- Leave a message (`/leave_message`): with an address the bot already has (its `email` slot),
  the Zendesk conversation opens at once; else the bot asks for one, and the next message is
  the answer (a wrong one is asked again, `offer.MAX_EMAIL_ASKS` times in all, then the bot
  gives up and says so).
- The message is the conversation itself: the handoff opens as always (summary, transcript,
  requester name and email), tagged `rasa_left_message` and the reason, so the ticket waits
  for the agents, who can answer by email. The handoff's record ends at once (`left_message`,
  as the table of endings says: `utter_zendesk_message_taken`, nothing released, no
  follow-up): the bot answers again, and an agent's later reply still reaches the user's
  channel.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional

from rasa_sdk.events import SlotSet

from rasa_zendesk import constants
from rasa_zendesk.actions.base import Turn, log_failure
from rasa_zendesk.actions.escalate import ActionZendeskHandoff
from rasa_zendesk.handoff import gestures, offer, state

logger = logging.getLogger(__name__)

#: An address, once the words around it are taken away.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
#: Marks the ticket as a message left when no agent could answer.
LEFT_MESSAGE_TAG = "rasa_left_message"


def email_in(text: Optional[str]) -> Optional[str]:
    """The email address in what the user wrote ("it's jane@example.com."), if it holds
    exactly one word with an @, and that word is an address."""
    words = [word.strip(".,;:!?()<>[]\"'") for word in (text or "").split() if "@" in word]
    if len(words) != 1 or len(words[0]) > 254 or not _EMAIL.match(words[0]):
        return None
    return words[0]


class ActionZendeskLeaveMessage(ActionZendeskHandoff):
    """Answer the offer; shares the escalation's configuration by subclassing it."""

    action_name = constants.ACTION_LEAVE_MESSAGE

    async def act(self, turn: Turn) -> List[Dict[str, Any]]:
        dispatcher, tracker = turn.dispatcher, turn.tracker
        made = offer.current(tracker.events)
        closes = SlotSet(constants.SLOT_OFFER, None)
        if made is None:
            return []
        text = (tracker.latest_message or {}).get("text")
        chosen = gestures.choice(text)
        if chosen == gestures.BACK_TO_BOT:
            dispatcher.utter_message(response=constants.UTTER_OFFER_DECLINED)
            return [closes]
        if made.state == offer.OFFERED:
            if chosen != gestures.LEAVE_MESSAGE:
                return [closes]
            email = self.requester(tracker)[1]
        else:
            email = email_in(text)
            if email is None and not offer.may_ask_again(made):
                dispatcher.utter_message(response=constants.UTTER_MESSAGE_NOT_TAKEN)
                return [closes]
            if email is None:
                dispatcher.utter_message(response=constants.UTTER_EMAIL_INVALID)
        if email is None:
            dispatcher.utter_message(response=constants.UTTER_ASK_EMAIL)
            return [SlotSet(constants.SLOT_OFFER, offer.asking_email(made).as_slot())]
        return await self._leave(turn, made, email, closes)

    async def _leave(
        self, turn: Turn, made: offer.Offer, email: str, closes: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        tracker = turn.tracker
        try:
            connector = self.connectors().get(made.connector)
            handoff = await self.escalate(
                turn, connector, extra_tags=(LEFT_MESSAGE_TAG, made.reason), email=email
            )
        except Exception as error:  # the user hears it and keeps the bot
            log_failure(logger, "message left", tracker.sender_id, error)
            turn.dispatcher.utter_message(response=constants.UTTER_HANDOFF_FAILED)
            return [closes]
        remembered: List[Dict[str, Any]] = []
        if self.email_slot in tracker.slots and tracker.get_slot(self.email_slot) != email:
            remembered.append(SlotSet(self.email_slot, email))
        # The offer closes and the address is kept before the new session carries slots over.
        return await self.end(
            turn, handoff, state.LEFT_MESSAGE, extra=[closes, *remembered], email=email
        )
