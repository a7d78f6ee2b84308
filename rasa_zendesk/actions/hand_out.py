"""`action_zendesk_hand_out`: what the user's channel could not push, at their next message.

The policy predicts it first when the channel recorded agent messages or notices that reached
nobody (REST, custom channels without `get_output_channel()`; see `handoff.pending`). It says
each of them again, as it was and in order, each copy naming the message it hands out, then
reverts itself: the turn goes on as if it had not run (the relay during a handoff, the bot's
own answer after), and Rasa's REST channel returns the copies first in its answer.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionReverted
from rasa_sdk.executor import CollectingDispatcher

from rasa_zendesk import constants
from rasa_zendesk.handoff import pending


class ActionZendeskHandOut(Action):
    """Hand out the messages the user has not received yet."""

    def name(self) -> str:
        return constants.ACTION_HAND_OUT

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        for event in pending.not_handed_out(tracker.events):
            dispatcher.utter_message(**pending.copy_of(event))
        return [ActionReverted()]
