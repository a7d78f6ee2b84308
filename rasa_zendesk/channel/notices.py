"""What the plugin tells the user from the Rasa server: the domain's response when the bot has
it (reworded by the bot author, filled with values such as the agent's name), else a built-in
sentence, so a bot without the response still tells the user."""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.core.actions.action import create_bot_utterance
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants

#: Built-in sentences for a domain without the plugin's responses.
DEFAULT_TEXTS = {
    constants.UTTER_HANDOFF_ENDED: (
        "The agent has left the conversation. You are chatting with the bot again."
    ),
    constants.UTTER_AGENT_JOINED: "{agent_name} has joined the chat.",
    constants.UTTER_TRANSFERRED_TO_EMAIL: (
        "Our team will continue this conversation by email ({email}). "
        "You're back with the bot here."
    ),
    constants.UTTER_AGENT_TIMEOUT: (
        "No agent is free yet. You can keep waiting, leave a message for the team, "
        "or go back to the bot."
    ),
}


async def notice(
    agent: Any,
    tracker: DialogueStateTracker,
    channel_name: str,
    response: str,
    event_id: Optional[str] = None,
    configured_text: Optional[str] = None,
    **values: Any,
) -> BotUttered:
    """The notice as a bot event: `configured_text`, else the domain's `response` (its
    `{placeholders}` filled from `values`), else the built-in sentence."""
    message: Optional[Dict[str, Any]] = None
    if configured_text:
        message = {"text": configured_text}
    elif _has_response(agent, response):
        message = await agent.nlg.generate(response, tracker, channel_name, **values)
        if message:
            message = {**message, "utter_action": response}
    if not message:
        message = {"text": DEFAULT_TEXTS[response].format(**values)}
    uttered = create_bot_utterance(dict(message))
    if event_id is not None:
        uttered.metadata[constants.EVENT_ZENDESK_EVENT_ID] = event_id
    return uttered


def _has_response(agent: Any, name: str) -> bool:
    domain = getattr(agent, "domain", None)
    return domain is not None and name in (domain.responses or {})
