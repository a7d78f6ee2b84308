"""`conversation:typing` by the agent: shown where the user's channel can show it. Typing is
momentary: a retry minutes later would be wrong, so failures are only logged and the event is
acknowledged; nothing is written to the tracker."""

from __future__ import annotations

import logging

from rasa_zendesk.channel.write_path import NOT_OURS, REFUSED, EventResult, RasaContext
from rasa_zendesk.handoff import state
from rasa_zendesk.platforms.outputs import show_typing
from rasa_zendesk.sunco.webhooks import ActivityEvent

logger = logging.getLogger(__name__)

TYPING_ACTIVITIES = {"typing:start": True, "typing:stop": False}


async def handle(event: ActivityEvent, rasa: RasaContext, connector: str) -> EventResult:
    activity = event.payload.activity
    typing = TYPING_ACTIVITIES.get(activity.type)
    if typing is None or activity.author.type != "business":
        return EventResult(False, "not agent typing")
    try:
        target = await rasa.find(connector, event.conversation, event.id)
        tracker = await rasa.trackers.read(target.sender_id) if target else None
        if target is None or tracker is None:
            return NOT_OURS
        conversation_id = event.payload.conversation.id
        if await rasa.refused(connector, tracker, conversation_id):
            return REFUSED
        if state.active_for(tracker.events, conversation_id) is None:
            return EventResult(False, "no active handoff")
        shown = await show_typing(
            rasa.output_for(tracker, target),
            target.sender_id,
            typing,
            rasa.config.typing_event,
            activity.author.display_name,
        )
    except Exception as error:
        logger.warning("Agent typing in event %s not shown: %r", event.id, error)
        return EventResult(False, "typing failed")
    return EventResult(shown, "typing shown" if shown else "channel shows no typing")
