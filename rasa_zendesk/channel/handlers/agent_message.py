"""`conversation:message` by the agent (`business`, not posted by the plugin itself, not a
Zendesk system notice): sent through the output channel of the user's latest input channel,
then recorded as a `BotUttered` (SunCo ids and agent name in its metadata). The first agent
message of a waiting handoff moves it to `agent_joined`, after a notice of who joined."""

from __future__ import annotations

import logging

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.handlers.notice import has_response, render_notice
from rasa_zendesk.channel.render import bot_uttered_for
from rasa_zendesk.channel.write_path import (
    Decided,
    Delivery,
    EventResult,
    RasaContext,
    apply_sunco_event,
    delivered,
    record_event,
)
from rasa_zendesk.handoff import state
from rasa_zendesk.handoff.endings import wording
from rasa_zendesk.platforms import registry
from rasa_zendesk.platforms.outputs import unwrap
from rasa_zendesk.sunco.webhooks import MessageEvent

logger = logging.getLogger(__name__)


async def handle(event: MessageEvent, rasa: RasaContext, connector: str) -> EventResult:
    message = event.payload.message
    conversation_id = event.payload.conversation.id
    if message.author.type != "business":
        return EventResult(False, "authored by the user")
    if (message.metadata or {}).get(constants.ORIGIN_KEY):
        return EventResult(False, "posted by the plugin (echo)")
    if "activity" in (message.author.subtypes or []):
        return EventResult(False, "Zendesk system activity")

    async def deliver(tracker: DialogueStateTracker, output: OutputChannel) -> Decided[EventResult]:
        shows_name = registry.of_output(unwrap(output)).shows_agent_name
        prefix = None if shows_name else rasa.config.handoff.agent_name_prefix
        uttered = bot_uttered_for(message, event.id, prefix)
        _note_out_of_order(tracker, uttered)
        handoff = state.active_for(tracker.events, conversation_id)
        if handoff is None:
            # A person wrote to this user (e.g. after the ticket was closed): they still
            # get it, since dropping a human's message silently is worse than a late one.
            logger.info(
                "Agent message %s arrives outside an active handoff of conversation %s "
                "for sender %s; delivered anyway",
                message.id,
                conversation_id,
                tracker.sender_id,
            )
            return delivered(Delivery([uttered], [uttered]))
        if handoff.state != state.WAITING:
            return delivered(Delivery([uttered], [uttered]))
        joined = state.agent_joined(handoff, message.author.display_name)
        if not rasa.config.handoff.agent_joined_notice:
            return delivered(Delivery([uttered], [record_event(joined, event.id), uttered]))
        response = constants.UTTER_AGENT_JOINED
        values = {"agent_name": message.author.display_name or "An agent"}
        words = wording(response, has_response(rasa.agent, response), **values)
        announced = await render_notice(
            rasa.agent, tracker, output.name(), words, event.id, **values
        )
        joining = [record_event(joined, event.id), announced]
        # Told once: a retry after the notice went out and the message did not only sends the
        # message (the handoff is recorded as joined by then).
        return delivered(Delivery([announced, uttered], [*joining, uttered], lead=(1, joining)))

    dedupe = (constants.EVENT_ZENDESK_MESSAGE_ID, message.id)
    return await apply_sunco_event(
        rasa, event, connector, dedupe, f"Agent message {message.id}", deliver
    )


def _note_out_of_order(tracker: DialogueStateTracker, uttered: BotUttered) -> None:
    """Log an agent message that SunCo received before one already delivered (SunCo keeps no
    order across retries). It is delivered all the same: late beats lost."""
    received = uttered.metadata.get(constants.EVENT_ZENDESK_RECEIVED)
    if received is None:
        return
    for event in reversed(tracker.events):
        latest = (event.metadata or {}).get(constants.EVENT_ZENDESK_RECEIVED)
        if isinstance(event, BotUttered) and latest is not None:
            if received < latest:
                logger.warning(
                    "Agent message %s for sender %s arrives out of the agent's order: received "
                    "by Zendesk %.1f s before the one delivered last; delivered now",
                    uttered.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID),
                    tracker.sender_id,
                    latest - received,
                )
            return
