"""`action_zendesk_relay`: while an agent is in charge, pass the user's message on to Zendesk.

The handoff policy predicts this action after every user message while a handoff runs. It
posts the latest user message to the handoff's SunCo conversation as `author.type user`
(`userExternalId` = Rasa sender id): its text (cut into 4096-character messages if longer),
then each attachment the user's input channel passed in the message metadata, in this shape
(see `rasa_zendesk.actions.attachments`):

    {"attachments": [{"type": "image" | "file", "url": "https://...", "name"?: "photo.jpg"}]}

Every posted message carries `{"rasa_zendesk_origin": "rasa"}`, so the channel never relays it
back. When the message answers the bot's question whether to end the handoff (and is not a
yes), the message that made the bot ask goes first: it was meant for the agent after all; a
plain "no" is only an answer and is not passed on (see `rasa_zendesk.handoff.gestures`).
If any part does not reach Zendesk (SunCo failed after its retries, a malformed
attachment), the user hears `utter_zendesk_relay_failed`: a message is never lost silently.
If the conversation is gone (404), the handoff is over (`conversation_gone`) and the bot
answers again. Otherwise the action returns no events.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from rasa_zendesk import constants
from rasa_zendesk.actions import sunco_session
from rasa_zendesk.actions.attachments import parse_attachments
from rasa_zendesk.actions.common import (
    UTTER_RELAY_FAILED,
    latest_user_event_of,
    log_failure,
    record,
)
from rasa_zendesk.handoff import gestures, state
from rasa_zendesk.sunco.errors import SunCoError
from rasa_zendesk.sunco.models import Author, Content
from rasa_zendesk.sunco.text import chunk_text

logger = logging.getLogger(__name__)


class ActionZendeskRelay(Action):
    """Relay the user's latest message (text and attachments) to the agent."""

    def name(self) -> str:
        return constants.ACTION_RELAY

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        handoff = state.active(tracker.events)
        if handoff is None:
            logger.warning(
                "Relay for sender %s, whose handoff is over: the message stays with the bot",
                tracker.sender_id,
            )
            dispatcher.utter_message(response=UTTER_RELAY_FAILED)
            return []

        contents, problems = [], []
        for message in messages_for_agent(tracker.events):
            message_contents, message_problems = _contents(message)
            contents += message_contents
            problems += message_problems
        for problem in problems:
            logger.warning("Relay for sender %s: %s", tracker.sender_id, problem)

        author = Author.end_user(tracker.sender_id)
        try:
            client = sunco_session.get_client()
            for content in contents:
                await client.post_message(
                    handoff.conversation_id, author, content, metadata=constants.ORIGIN_METADATA
                )
        except Exception as error:  # never a silent loss, whatever the cause
            log_failure(logger, "relay", tracker.sender_id, error)
            dispatcher.utter_message(response=UTTER_RELAY_FAILED)
            if isinstance(error, SunCoError) and error.status == 404:
                return [record(state.ended(handoff, state.CONVERSATION_GONE))]
            return []

        if problems:
            dispatcher.utter_message(response=UTTER_RELAY_FAILED)
        return []


def messages_for_agent(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The user messages this turn passes on: the latest, and before it the one the bot held
    back to ask whether the user wanted to end the handoff; a plain "no" is only an answer."""
    latest = latest_user_event_of(events)
    if latest is None:
        return []
    held = gestures.held_message(events, constants.UTTER_CONFIRM_END)
    if held is None:
        return [latest]
    return [held] if gestures.is_no(latest.get("text")) else [held, latest]


def _contents(message: Dict[str, Any]) -> Tuple[List[Content], List[str]]:
    text = (message.get("text") or "").strip()
    attachments, problems = parse_attachments(message.get("metadata"))
    contents = [Content.of_text(part) for part in chunk_text(text)] if text else []
    contents += [attachment.to_content() for attachment in attachments]
    return contents, problems
