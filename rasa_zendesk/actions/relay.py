"""`action_zendesk_relay`: while an agent is in charge, pass the user's message on to Zendesk.

The handoff policy predicts this action after every user message while the handoff slot is
set. It posts the latest user message to the SunCo conversation in `zendesk_conversation_id`
as `author.type user` (`userExternalId` = Rasa sender id): its text (cut into 4096-character
messages if longer), then each attachment the user's input channel passed in the message
metadata, in this shape (see `rasa_zendesk.actions.attachments`):

    {"attachments": [{"type": "image" | "file", "url": "https://...", "name"?: "photo.jpg"}]}

Every posted message carries `{"rasa_zendesk_origin": "rasa"}`, so the channel never relays it
back. If any part does not reach Zendesk (SunCo failed after its retries, a malformed
attachment), the user hears `utter_zendesk_relay_failed`: a message is never lost silently.
If the conversation is gone (404) or the slot holds no conversation, the handoff is over: the
slots are cleared so the bot answers again. Otherwise the action returns no events.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from rasa_zendesk import constants
from rasa_zendesk.actions import sunco_session
from rasa_zendesk.actions.attachments import parse_attachments
from rasa_zendesk.actions.common import (
    UTTER_RELAY_FAILED,
    latest_user_event,
    log_failure,
)
from rasa_zendesk.summary import chunk_text
from rasa_zendesk.sunco.errors import SunCoError
from rasa_zendesk.sunco.models import Author, Content

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
        conversation_id = tracker.get_slot(constants.SLOT_CONVERSATION_ID)
        if not conversation_id:
            logger.warning(
                "Relay for sender %s without a Zendesk conversation: ending the handoff",
                tracker.sender_id,
            )
            dispatcher.utter_message(response=UTTER_RELAY_FAILED)
            return _handoff_over()

        message = latest_user_event(tracker) or {}
        text = (message.get("text") or "").strip()
        attachments, problems = parse_attachments(message.get("metadata"))
        for problem in problems:
            logger.warning("Relay for sender %s: %s", tracker.sender_id, problem)

        contents = [Content.of_text(part) for part in chunk_text(text)] if text else []
        contents += [attachment.to_content() for attachment in attachments]
        author = Author.end_user(tracker.sender_id)
        try:
            client = sunco_session.get_client()
            for content in contents:
                await client.post_message(
                    conversation_id, author, content, metadata=constants.ORIGIN_METADATA
                )
        except Exception as error:  # never a silent loss, whatever the cause
            log_failure(logger, "relay", tracker.sender_id, error)
            dispatcher.utter_message(response=UTTER_RELAY_FAILED)
            if isinstance(error, SunCoError) and error.status == 404:
                return _handoff_over()
            return []

        if problems:
            dispatcher.utter_message(response=UTTER_RELAY_FAILED)
        return []


def _handoff_over() -> List[Dict[str, Any]]:
    return [
        SlotSet(constants.SLOT_HANDOFF_ACTIVE, False),
        SlotSet(constants.SLOT_CONVERSATION_ID, None),
    ]
