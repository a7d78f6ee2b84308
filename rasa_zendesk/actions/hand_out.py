"""`action_zendesk_hand_out`: what the user's channel could not push, at their next message.

The policy predicts it first when the channel recorded agent messages or notices that reached
nobody (REST, custom channels without `get_output_channel()`; see `handoff.pending`). It says
each of them again, as it was and in order, each copy naming the message it hands out, then
reverts itself: the turn goes on as if it had not run (the relay during a handoff, the bot's
own answer after), and Rasa's REST channel returns the copies first in its answer.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk.events import ActionReverted

from rasa_zendesk import constants
from rasa_zendesk.actions.base import Turn, ZendeskAction
from rasa_zendesk.handoff import pending


class ActionZendeskHandOut(ZendeskAction):
    """Hand out the messages the user has not received yet."""

    action_name = constants.ACTION_HAND_OUT

    async def act(self, turn: Turn) -> List[Dict[str, Any]]:
        for event in pending.not_handed_out(turn.tracker.events):
            turn.dispatcher.utter_message(**pending.copy_of(event))
        return [ActionReverted()]
