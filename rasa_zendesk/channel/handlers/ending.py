"""The end of a running handoff in the Rasa server, as its row of the table of endings says
(`rasa_zendesk.handoff.endings`): given back in Zendesk when the row says so, the user's
notice, the record and its outcome, the bot listening, then the row's follow-up: a fresh
session (the bot's own `action_session_start` when it has one) and the author's
`after_handoff_action`."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import BotUttered, SlotSet
from rasa.shared.core.events import Event as RasaEvent
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.handlers.notice import has_response, render_notice
from rasa_zendesk.channel.write_path import Delivery, RasaContext, listening, record_event
from rasa_zendesk.handoff import endings, state


async def end_here(
    rasa: RasaContext,
    tracker: DialogueStateTracker,
    output: OutputChannel,
    handoff: state.Handoff,
    reason: str,
    event_id: Optional[str] = None,
) -> Delivery:
    """What the end puts in front of the user and records (the caller holds the lock)."""
    ending = endings.ending_for(reason)
    if ending.releases:
        await rasa.directories.of(handoff.connector).release(handoff.conversation_id, reason)
    settings = rasa.config.handoff
    ended = state.ended(handoff, reason)
    events: List[RasaEvent] = [
        record_event(ended, event_id),
        SlotSet(constants.SLOT_HANDOFF_OUTCOME, endings.outcome(ended)),
    ]
    messages: List[BotUttered] = []
    values = _values(reason, tracker)
    words = ending.wording(settings, has_response(rasa.agent, ending.response or ""), **values)
    if words is not None:
        told = await render_notice(rasa.agent, tracker, output.name(), words, event_id, **values)
        messages.append(told)
        events += [told, listening(told)]
    return Delivery(messages, events, then_run=ending.then_run(settings))


def _values(reason: str, tracker: DialogueStateTracker) -> Dict[str, Any]:
    """The notice's placeholders: moved to email, where the conversation goes on."""
    if reason != state.TRANSFER_TO_EMAIL:
        return {}
    slots = tracker.slots
    email = slots[constants.SLOT_EMAIL].value if constants.SLOT_EMAIL in slots else None
    return {"email": email or endings.UNKNOWN_EMAIL}
