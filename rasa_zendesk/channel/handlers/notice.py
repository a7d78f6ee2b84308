"""What the plugin tells the user from the Rasa server, rendered: the author's configured text,
else the domain's response (reworded by the bot author, filled with values such as the agent's
name), else the built-in sentence (`handoff.endings.wording` chooses), so a bot without the
response still tells the user."""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.core.actions.action import create_bot_utterance
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.handoff.endings import BUILT_IN_TEXTS, Wording


def has_response(agent: Any, name: str) -> bool:
    """Whether the bot's domain defines the response."""
    domain = getattr(agent, "domain", None)
    return domain is not None and name in (domain.responses or {})


async def render_notice(
    agent: Any,
    tracker: DialogueStateTracker,
    channel_name: str,
    words: Wording,
    event_id: Optional[str] = None,
    **values: Any,
) -> BotUttered:
    """The notice as a bot event, marked with the SunCo event that caused it."""
    message: Optional[Dict[str, Any]] = None
    if words.text:
        message = {"text": words.text}
    else:
        generated = await agent.nlg.generate(words.response, tracker, channel_name, **values)
        if generated:
            message = {**generated, "utter_action": words.response}
    if not message:
        message = {"text": BUILT_IN_TEXTS[words.response].format(**values)}
    uttered = create_bot_utterance(dict(message))
    if event_id is not None:
        uttered.metadata[constants.EVENT_ZENDESK_EVENT_ID] = event_id
    return uttered
