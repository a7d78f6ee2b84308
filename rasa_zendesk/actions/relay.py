"""`action_zendesk_relay`: while an agent is in charge, pass the user's messages on to Zendesk.

The handoff policy predicts this action after every user message while a handoff runs. It
posts every user message of the handoff not yet dealt with (`state.pending_messages`: the
latest, and any whose relay failed before, or that the bot held back to ask whether to end the
handoff) to the SunCo conversation as `author.type user` (`userExternalId` = Rasa sender id):
its text (cut into 4096-character messages if longer), then each attachment the user's input
channel passed in the message metadata, in this shape (see `rasa_zendesk.actions.attachments`):

    {"attachments": [{"type": "image" | "file", "url": "https://...", "name"?: "photo.jpg"}]}

and each file the channel carries otherwise (a Messenger attachment's address as the text):
on a trusted host it is fetched and uploaded to SunCo (`rasa_zendesk.actions.user_files`), so
the agent gets an image or file message; a refused file (too large, a program, unreachable)
is named to the user with the reason (`utter_zendesk_file_refused`), a malformed entry gets
`utter_zendesk_attachment_refused`.

Every posted message carries `{"rasa_zendesk_origin": "rasa"}` (the channel never relays it
back) and our id (`rasa:<Rasa message id>:<part>`, a text part's number or `file<n>`): a
message from an earlier turn is marked as sent late and first looked for by that id, so a
relay that died after posting is not repeated.
A plain "no" that answers the end question is not passed on (`rasa_zendesk.handoff.gestures`).

It always answers with the handoff's record (the messages dealt with): the policy takes a relay
without it for one whose answer Rasa lost (the action server was down) and tells the user.
When SunCo fails after its retries, the user hears `utter_zendesk_relay_failed` and the message
waits for the next relay. When Zendesk has been silent for `STALE_AFTER_SECONDS`, the relay
first asks whether the agents still have the conversation: if not (its hand-back webhook was
lost), or if the conversation is gone (404), the handoff ends (`conversation_gone`, as the
table of endings says: the user is told), and the message is given back to Rasa so the bot
answers it.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Set, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, UserUttered

from rasa_zendesk import clock, constants
from rasa_zendesk.actions import user_files
from rasa_zendesk.actions.base import (
    Turn,
    ZendeskAction,
    latest_user_event_of,
    log_failure,
    record,
)
from rasa_zendesk.actions.summary import format_timestamp
from rasa_zendesk.handoff import gestures, state
from rasa_zendesk.sunco.client import SunCoClient
from rasa_zendesk.sunco.errors import SunCoError
from rasa_zendesk.sunco.models import Author, Content
from rasa_zendesk.sunco.text import chunk_text

logger = logging.getLogger(__name__)


#: An agent message or hand-back this old without a webhook: ask SunCo whether Agent
#: Workspace still has the conversation before relaying (its hand-back may have been lost).
STALE_AFTER_SECONDS = 300.0


class ActionZendeskRelay(ZendeskAction):
    """Relay the user's messages not yet passed on (text and attachments) to the agent."""

    action_name = constants.ACTION_RELAY

    async def act(self, turn: Turn) -> List[Dict[str, Any]]:
        dispatcher, tracker = turn.dispatcher, turn.tracker
        handoff = state.active(tracker.events)
        if handoff is None:
            logger.warning(
                "Relay for sender %s, whose handoff is over: the message stays with the bot",
                tracker.sender_id,
            )
            dispatcher.utter_message(response=constants.UTTER_RELAY_FAILED)
            return []
        pending = messages_for_agent(tracker.events, handoff)
        try:
            client = self.client(handoff.connector)
            if _stale(tracker.events, handoff) and not await _with_the_agents(
                client, handoff.conversation_id
            ):
                return await self._gone(turn, handoff)
            malformed, refused = await self._post(client, tracker, handoff, pending)
        except Exception as error:  # never a silent loss, whatever the cause
            log_failure(logger, "relay", tracker.sender_id, error)
            if isinstance(error, SunCoError) and error.status == 404:
                return await self._gone(turn, handoff)
            dispatcher.utter_message(response=constants.UTTER_RELAY_FAILED)
            return [record(handoff)]  # the record says the relay ran: the message waits
        if malformed:
            dispatcher.utter_message(response=constants.UTTER_ATTACHMENT_REFUSED)
        for variables in refused:
            dispatcher.utter_message(response=constants.UTTER_FILE_REFUSED, **variables)
        latest = latest_user_event_of(tracker.events) or {}
        return [record(state.handled(handoff, latest.get("message_id")))]

    async def _post(
        self,
        client: SunCoClient,
        tracker: Tracker,
        handoff: state.Handoff,
        pending: List[Dict[str, Any]],
    ) -> Tuple[bool, List[Dict[str, str]]]:
        """Post the pending messages in order; whether a metadata entry was malformed, and
        each file refused (its name and why). A message from an earlier turn (its relay
        failed) is marked as sent late, and is first looked for in the conversation: a relay
        that died after posting had sent it already. A failure raises, and the next relay goes
        again."""
        author = Author.end_user(tracker.sender_id)
        late = _relayed_before(tracker.events)
        malformed = False
        refused: List[Dict[str, str]] = []
        for message in pending:
            is_late = message.get("message_id") in late
            files, text, problems = user_files.files_of(message)
            for problem in problems:
                logger.warning("Relay for sender %s: %s", tracker.sender_id, problem)
                malformed = True
            # Each part's id stays the same in a later relay, whichever files were refused.
            parts = list(enumerate(_text_contents(message, text, late=is_late)))
            for index, file in enumerate(files):
                try:
                    content = await user_files.content_for(client, handoff.conversation_id, file)
                except user_files.FileRefused as reason:
                    logger.warning(
                        "Relay for sender %s: a file was refused: %s", tracker.sender_id, reason
                    )
                    refused.append(user_files.refusal(file, str(reason)))
                else:
                    parts.append((f"file{index}", content))
            for part, content in parts:
                write_id = f"rasa:{message.get('message_id')}:{part}"
                metadata = {**constants.ORIGIN_METADATA, constants.WRITE_ID_KEY: write_id}
                await client.post_message(
                    handoff.conversation_id, author, content, metadata, look_first=is_late
                )
        return malformed, refused

    async def _gone(self, turn: Turn, handoff: state.Handoff) -> List[Dict[str, Any]]:
        """Agent Workspace no longer has the conversation (its hand-back never arrived): the
        handoff ends, and the bot answers the message, given to Rasa again."""
        logger.warning(
            "Relay for sender %s: conversation %s is no longer with the agents; handoff ended",
            turn.sender_id,
            handoff.conversation_id,
        )
        latest = latest_user_event_of(turn.tracker.events)
        again: List[Dict[str, Any]] = []
        if latest is not None:
            again = [
                ActionExecuted("action_listen"),
                UserUttered(
                    latest.get("text"),
                    parse_data=latest.get("parse_data"),
                    input_channel=latest.get("input_channel"),
                ),
            ]
        return await self.end(turn, handoff, state.CONVERSATION_GONE, extra=again)


def messages_for_agent(
    events: List[Dict[str, Any]], handoff: state.Handoff
) -> List[Dict[str, Any]]:
    """The user messages this turn passes on: every one not yet dealt with (the message that
    made the bot ask whether to end the handoff among them); a plain "no" that answers that
    question is only an answer."""
    pending = state.pending_messages(events, handoff)
    latest = latest_user_event_of(events)
    answered = gestures.held_message(events, constants.UTTER_CONFIRM_END) is not None
    if answered and latest is not None and gestures.is_no(latest.get("text")):
        pending = [message for message in pending if message is not latest]
    return pending


def _text_contents(message: Dict[str, Any], text: str, late: bool) -> List[Content]:
    if text and late and isinstance(message.get("timestamp"), (int, float)):
        text = f"[written at {format_timestamp(message['timestamp'])}, sent late] {text}"
    return [Content.of_text(part) for part in chunk_text(text)] if text else []


def _relayed_before(events: List[Dict[str, Any]]) -> Set[str]:
    """Ids of the user messages a relay already ran after: still pending, they are late."""
    seen: Set[str] = set()
    late: Set[str] = set()
    for event in events:
        if event.get("event") == "user" and event.get("message_id"):
            seen.add(event["message_id"])
        elif event.get("event") == "action" and event.get("name") == constants.ACTION_RELAY:
            late |= seen
    return late


def _stale(events: List[Dict[str, Any]], handoff: state.Handoff) -> bool:
    """No word from Zendesk for a while: the hand-back may have been lost on the way."""
    heard = handoff.agent_joined_at or handoff.requested_at
    for event in reversed(events):
        if event.get("event") == "bot" and (event.get("metadata") or {}).get(
            constants.EVENT_ZENDESK_MESSAGE_ID
        ):
            heard = max(heard, float(event.get("timestamp") or 0))
            break
    return clock.now() - heard > STALE_AFTER_SECONDS


async def _with_the_agents(client: SunCoClient, conversation_id: str) -> bool:
    conversation = await client.get_conversation(conversation_id)
    active = conversation.active_switchboard_integration
    return active is not None and (
        active.name == constants.AGENT_WORKSPACE
        or active.integration_type == constants.AGENT_WORKSPACE_TYPE
    )
