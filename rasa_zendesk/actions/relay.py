"""`action_zendesk_relay`: while an agent is in charge, pass the user's messages on to Zendesk.

The handoff policy predicts this action after every user message while a handoff runs. It
posts every user message of the handoff not yet dealt with (`state.pending_messages`: the
latest, and any whose relay failed before), unchanged, whatever the bot's NLU made of them,
to the SunCo conversation as `author.type user` (`userExternalId` = Rasa sender id):
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

One message is bounded (`rasa_zendesk.settings.ActionLimits`): the files past
`max_files_per_message` and the text past `max_text_per_message` are left out, and the user is
told what (`utter_zendesk_message_cut`, `{left_out}`). The whole run is bounded by
`action_deadline` (`rasa_zendesk.actions.base`): a file that takes too long is refused.

It always answers with the handoff's record (the messages dealt with): the policy takes a relay
without it for one whose answer Rasa lost (the action server was down) and tells the user.
When SunCo cannot be reached after its retries, the user hears `utter_zendesk_relay_failed` and
the message waits for the next relay, with the ones after it. No message blocks the ones after
it for long: a failure no retry changes (Zendesk refused it with a 4xx, an error of ours), or
its `MAX_RELAY_TRIES`th relay in a row that did not get it through, gives it up; the user is told
why (`utter_zendesk_message_not_relayed`, `{reason}`) and the next messages go on.

When Zendesk has been silent for `STALE_AFTER_SECONDS`, the relay first asks whether the
agents still have the conversation: if not (its hand-back webhook was lost), or if the
conversation is gone (404), the handoff ends (`conversation_gone`, as the table of endings
says: the user is told), a fresh session starts, and the message is given back to Rasa so the bot
answers it there, as the first message of a conversation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk.events import UserUttered

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
from rasa_zendesk.handoff import state
from rasa_zendesk.settings import ActionLimits
from rasa_zendesk.sunco.client import SunCoClient, time_left
from rasa_zendesk.sunco.errors import SunCoError, SunCoUnavailable
from rasa_zendesk.sunco.models import Author, Content
from rasa_zendesk.sunco.text import chunk_text

logger = logging.getLogger(__name__)


#: An agent message or hand-back this old without a webhook: ask SunCo whether Agent
#: Workspace still has the conversation before relaying (its hand-back may have been lost).
STALE_AFTER_SECONDS = 300.0


#: Relays in a row that one message may fail (Zendesk unreachable, or a relay that died with
#: it) before it is given up, and the user told, so that the messages after it go on.
MAX_RELAY_TRIES = 5
#: Of an action's deadline, the share kept for posting once files are transferred.
POSTING_SHARE = 1 / 3
#: What the user is told of a message given up (`utter_zendesk_message_not_relayed`).
ZENDESK_REFUSED = "Zendesk did not accept it"
BROKEN = "it could not be sent"
TRIED_OUT = f"it could not be sent after {MAX_RELAY_TRIES} tries"


@dataclass
class _Outcome:
    """What a relay did: the last message dealt with (posted, or given up), what the user is
    told, and whether a passing failure stopped it (that message and the later ones wait)."""

    handled: Optional[str] = None
    malformed: bool = False
    refused: List[Dict[str, str]] = field(default_factory=list)
    cut: List[str] = field(default_factory=list)
    given_up: List[str] = field(default_factory=list)
    stopped: bool = False


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
        pending = state.pending_messages(tracker.events, handoff)
        try:
            client = self.client(handoff.connector)
            if _stale(tracker.events, handoff) and not await _with_the_agents(
                client, handoff.conversation_id
            ):
                return await self._gone(turn, handoff)
            outcome = await self._post(client, turn, handoff, pending)
        except Exception as error:  # never a silent loss, whatever the cause
            log_failure(logger, "relay", tracker.sender_id, error)
            if isinstance(error, SunCoError) and error.status == 404:
                return await self._gone(turn, handoff)
            dispatcher.utter_message(response=constants.UTTER_RELAY_FAILED)
            return [record(handoff)]  # the record says the relay ran: the message waits
        if outcome.malformed:
            dispatcher.utter_message(response=constants.UTTER_ATTACHMENT_REFUSED)
        for variables in outcome.refused:
            dispatcher.utter_message(response=constants.UTTER_FILE_REFUSED, **variables)
        for left_out in outcome.cut:
            turn.tell(constants.UTTER_MESSAGE_CUT, left_out=left_out)
        for reason in outcome.given_up:
            turn.tell(constants.UTTER_MESSAGE_NOT_RELAYED, reason=reason)
        if outcome.stopped:
            dispatcher.utter_message(response=constants.UTTER_RELAY_FAILED)
            return [record(state.handled(handoff, outcome.handled))]
        latest = latest_user_event_of(tracker.events) or {}
        return [record(state.handled(handoff, latest.get("message_id")))]

    async def _post(
        self,
        client: SunCoClient,
        turn: Turn,
        handoff: state.Handoff,
        pending: List[Dict[str, Any]],
    ) -> _Outcome:
        """Post the pending messages in order. A message from an earlier turn (its relay
        failed) is marked as sent late, and is first looked for in the conversation: a relay
        that died after posting had sent it already. A passing failure (SunCo unreachable)
        stops here: that message and the later ones wait for the next relay; a failure no
        retry changes (Zendesk refused it, a broken message), or the `MAX_RELAY_TRIES`th in a
        row, gives that message up, and the next ones go on."""
        outcome = _Outcome()
        tried = _relays_since(turn.tracker.events)
        for message in pending:
            message_id = message.get("message_id")
            tries = tried.get(message_id, 0)
            if tries >= MAX_RELAY_TRIES:  # every relay with it died before answering
                outcome.given_up.append(TRIED_OUT)
            else:
                try:
                    await self._post_one(client, turn, handoff, message, tries > 0, outcome)
                except Exception as error:
                    if isinstance(error, SunCoError) and error.status == 404:
                        raise  # the conversation is gone: the handoff ends
                    log_failure(logger, "relay of a message", turn.sender_id, error)
                    if isinstance(error, SunCoUnavailable) and tries + 1 < MAX_RELAY_TRIES:
                        outcome.stopped = True
                        return outcome
                    outcome.given_up.append(_why(error))
            outcome.handled = message_id
        return outcome

    async def _post_one(
        self,
        client: SunCoClient,
        turn: Turn,
        handoff: state.Handoff,
        message: Dict[str, Any],
        late: bool,
        outcome: _Outcome,
    ) -> None:
        """Post one message within the limits of a message: its text, then its files, each
        refused one named to the user, and what the limits left out."""
        author = Author.end_user(handoff.user_external_id or turn.sender_id)
        files, text, problems = user_files.files_of(message)
        for problem in problems:
            logger.warning("Relay for sender %s: %s", turn.sender_id, problem)
            outcome.malformed = True
        files, text, left_out = _within_limits(files, text, turn.limits)
        if left_out:
            logger.warning("Relay for sender %s: left out %s", turn.sender_id, left_out)
            outcome.cut.append(left_out)
        # Each part's id stays the same in a later relay, whichever files were refused.
        parts = list(enumerate(_text_contents(message, text, late=late)))
        for index, file in files:
            try:
                content = await user_files.content_for(
                    client, handoff.conversation_id, file, _transfer_time(turn.limits)
                )
            except user_files.FileRefused as reason:
                logger.warning(
                    "Relay for sender %s: a file was refused: %s", turn.sender_id, reason
                )
                outcome.refused.append(user_files.refusal(file, str(reason)))
            else:
                parts.append((f"file{index}", content))
        for part, content in parts:
            write_id = f"rasa:{message.get('message_id')}:{part}"
            metadata = {**constants.ORIGIN_METADATA, constants.WRITE_ID_KEY: write_id}
            await client.post_message(
                handoff.conversation_id, author, content, metadata, look_first=late
            )

    async def _gone(self, turn: Turn, handoff: state.Handoff) -> List[Dict[str, Any]]:
        """Agent Workspace no longer has the conversation (its hand-back never arrived): the
        handoff ends, and the bot answers the message, given to Rasa again."""
        logger.warning(
            "Relay for sender %s: conversation %s is no longer with the agents; handoff ended",
            turn.sender_id,
            handoff.conversation_id,
        )
        latest = latest_user_event_of(turn.tracker.events)
        again = None
        if latest is not None:
            again = UserUttered(
                latest.get("text"),
                parse_data=latest.get("parse_data"),
                input_channel=latest.get("input_channel"),
            )
        return await self.end(turn, handoff, state.CONVERSATION_GONE, again=again)


def _within_limits(
    files: List[user_files.UserFile], text: str, limits: ActionLimits
) -> Tuple[List[Tuple[int, user_files.UserFile]], str, str]:
    """The files (with their places in the message) and the text that one message may pass
    on, and, in words, what the limits left out ("" if nothing): the files past
    `max_files_per_message` (those its channel refused cost nothing and stay, to be named),
    the characters past `max_text_per_message`."""
    kept: List[Tuple[int, user_files.UserFile]] = []
    dropped: List[str] = []
    for index, file in enumerate(files):
        if file.refused or sum(not f.refused for _, f in kept) < limits.max_files:
            kept.append((index, file))
        else:
            dropped.append(file.label)
    left_out = []
    if dropped:
        left_out.append(f"{_counted(len(dropped), 'file')} ({', '.join(dropped)})")
    if len(text) > limits.max_text:
        left_out.append(f"the last {_counted(len(text) - limits.max_text, 'character')}")
        text = text[: limits.max_text]
    limit = (
        f"at most {_counted(limits.max_files, 'file')} and "
        f"{_counted(limits.max_text, 'character')} a message"
    )
    return kept, text, f"{' and '.join(left_out)} ({limit})" if left_out else ""


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _transfer_time(limits: ActionLimits) -> float:
    """How long the next file may take to pass on: what is left of the action's deadline,
    less a share kept for posting."""
    left = time_left()
    return (limits.deadline if left is None else left) - limits.deadline * POSTING_SHARE


def _why(error: Exception) -> str:
    """Why a message was given up, in words for the user."""
    if isinstance(error, SunCoUnavailable):
        return TRIED_OUT
    if isinstance(error, SunCoError):
        return ZENDESK_REFUSED
    return BROKEN


def _text_contents(message: Dict[str, Any], text: str, late: bool) -> List[Content]:
    if text and late and isinstance(message.get("timestamp"), (int, float)):
        text = f"[written at {format_timestamp(message['timestamp'])}, sent late] {text}"
    return [Content.of_text(part) for part in chunk_text(text)] if text else []


def _relays_since(events: List[Dict[str, Any]]) -> Dict[str, int]:
    """How many relays ran after each user message, by its id. For a message still pending,
    these relays did not get it through (each failed, or died): it is late, and, at
    `MAX_RELAY_TRIES`, given up."""
    relays = 0
    seen_at: Dict[str, int] = {}
    for event in events:
        if event.get("event") == "user" and event.get("message_id"):
            seen_at[event["message_id"]] = relays
        elif event.get("event") == "action" and event.get("name") == constants.ACTION_RELAY:
            relays += 1
    return {message_id: relays - at for message_id, at in seen_at.items()}


def _stale(events: List[Dict[str, Any]], handoff: state.Handoff) -> bool:
    """No word from Zendesk for a while: the hand-back may have been lost on the way."""
    heard = handoff.agent_joined_at or handoff.requested_at
    for event in reversed(events):
        if event.get("event") == "bot" and (event.get("metadata") or {}).get(
            constants.EVENT_ZENDESK_MESSAGE_ID
        ):
            heard = max(heard, clock.at(float(event.get("timestamp") or 0)))
            break
    return clock.now() - heard > STALE_AFTER_SECONDS


async def _with_the_agents(client: SunCoClient, conversation_id: str) -> bool:
    conversation = await client.get_conversation(conversation_id)
    active = conversation.active_switchboard_integration
    return active is not None and (
        active.name == constants.AGENT_WORKSPACE
        or active.integration_type == constants.AGENT_WORKSPACE_TYPE
    )
