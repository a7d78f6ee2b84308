"""A running handoff's timer, fired if it is still due as the state is now under the lock
(another instance may have fired it, a message may have come): no agent yet offers the user
the three choices (`utter_zendesk_agent_timeout`); idle or too long ends the handoff, in
Zendesk too, as the table of endings says (`ending`). When the user's channel keeps refusing
what a timer says, the timers give up (`give_up`): the handoff ends as `failed`."""

from __future__ import annotations

import logging
from typing import Optional

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import clock, constants
from rasa_zendesk.channel.conversations import RasaConversation
from rasa_zendesk.channel.handlers.ending import end_here
from rasa_zendesk.channel.handlers.notice import has_response, render_notice
from rasa_zendesk.channel.write_path import (
    Decided,
    Delivery,
    RasaContext,
    listening,
    record_event,
    write,
)
from rasa_zendesk.handoff import state
from rasa_zendesk.handoff.deadlines import OFFER_CHOICES, Deadline, last_message_at, next_deadline
from rasa_zendesk.handoff.endings import wording

logger = logging.getLogger(__name__)


async def fire(rasa: RasaContext, sender_id: str) -> Optional[Deadline]:
    """Fire the conversation's timer if due. The next deadline after that; None once no timer
    applies (no running handoff)."""

    async def due(
        tracker: DialogueStateTracker, output: OutputChannel
    ) -> Decided[Optional[Deadline]]:
        handoff = state.active(tracker.events)
        if handoff is None:
            return None, None
        settings = rasa.config.handoff
        last = last_message_at(tracker.events)
        deadline = next_deadline(handoff, settings, last)
        if deadline is None or deadline.at > clock.now():
            return None, deadline
        logger.info("Handoff timer %s fired for sender %s", deadline.what, sender_id)
        if deadline.what != OFFER_CHOICES:
            return await end_here(rasa, tracker, output, handoff, deadline.what), None
        offered = state.agent_timed_out(handoff)
        response = constants.UTTER_AGENT_TIMEOUT
        words = wording(response, has_response(rasa.agent, response))
        told = await render_notice(rasa.agent, tracker, output.name(), words)
        offer = Delivery([told], [record_event(offered), told, listening(told)])
        return offer, next_deadline(offered, settings, last)

    return await write(rasa, RasaConversation(sender_id), due, f"Timer of sender {sender_id}")


async def give_up(rasa: RasaContext, sender_id: str) -> None:
    """End the running handoff as `failed`: its timer's tries could not reach the user. It is
    given back in Zendesk (best effort); the user's notice is not sent through the channel
    that kept failing but kept for their next message (`handoff.pending`)."""

    async def end(tracker: DialogueStateTracker, output: OutputChannel) -> Decided[None]:
        handoff = state.active(tracker.events)
        if handoff is None:
            return None, None
        logger.error(
            "Handoff timer of sender %s: their channel kept failing; the handoff ends as %s",
            sender_id,
            state.FAILED,
        )
        return await end_here(rasa, tracker, output, handoff, state.FAILED), None

    what = f"End of the handoff of sender {sender_id} ({state.FAILED})"
    await write(rasa, RasaConversation(sender_id), end, what, push=False)
