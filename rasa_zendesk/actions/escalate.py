"""`action_zendesk_handoff`: hand the conversation to a human agent in Zendesk.

The user is told first. The action runs twice in the user's turn: the first run checks that
agents can answer (business hours, when set), tells the user `utter_zendesk_connecting` and
asks Rasa for itself again as the follow-up action; Rasa sends that notice to the user's
channel before it runs the follow-up, which does the SunCo work below and answers
`utter_zendesk_handoff_started` (or `utter_zendesk_handoff_failed`). Both runs are ordinary
action calls under the conversation's lock: Rasa writes their events as for any action (no
second write path), and nothing runs after the turn. If the action server dies during the
work, Rasa gets no answer and `HandoffPolicy` has Rasa itself say
`utter_zendesk_handoff_failed`: the bot stays in charge, the user may ask again.

The calls, in order, all through the action server's shared SunCo client:
1. get or create the SunCo user: `externalId` = the customer's id when the bot knows it (the
   slot `zendesk_external_id`, else the key of that name in the user message's metadata on a
   channel listed in `external_id_channels`: see `customer_id`), so one customer on several
   channels is one messaging user with one history for the agent; else the Rasa sender id.
   Each sender keeps its own conversation (below), so two senders of one customer each have
   their own handoff. Profile `givenName`/`email`/`locale` from the slots
   `name_slot`/`email_slot`/`locale_slot` when the bot has filled them;
2. create a personal conversation whose metadata carries `rasa_sender_id` and
   `rasa_input_channel` (how the webhook channel finds the user and their output channel);
3. only if `bot_switchboard_integration` is set: pass control to it (see below);
4. post the summary for the agent, then the transcript, as few business messages (author
   `bot_display_name`) as SunCo's 4096 characters allow: each turn is one block,
   `[time] Speaker: text`, kept whole where it fits (`sunco.text.pack_blocks`). A long chat
   costs ceil(size / 4096) calls, not one per turn: the user waits, and the conversation's
   lock is held, for the whole escalation. Each carries `{"rasa_zendesk_origin": "rasa"}` so
   the channel never relays it;
5. pass control to Agent Workspace (`agent_workspace`, default `zd-agentWorkspace`) with flat
   metadata under 4 KB: `first_message_id` (the summary, so the ticket shows everything, not
   only the last 10 messages), subject, tags and requester, and where the ticket lands
   (group, brand, custom and system fields from slots, the connector's `routing`:
   `handoff_metadata.routed_fields`).
Then it opens the handoff's record (`zendesk_handoff`, state `waiting`) and utters
`utter_zendesk_handoff_started`.

Why no passControl to our own integration first, by default: a new
conversation belongs to the switchboard's default integration. When that is the Rasa
integration (the emulator's default, and a Zendesk switchboard whose default responder is the
Rasa integration), Agent Workspace cannot open a ticket from the transcript before our
passControl carries the metadata, and the extra call buys nothing. When the default responder
is another integration (Agent Workspace itself, or Zendesk's AI agent), set
`bot_switchboard_integration` to the Rasa integration's switchboard name: step 3 then takes
control first, so the transcript neither opens a ticket early nor wakes another bot.

Failure: if any call fails after the client's retries (or the action server lacks Zendesk
settings, or SunCo answers something unreadable), the user hears
`utter_zendesk_handoff_failed`, no slot is set and the bot carries on: never a half-open
handoff. A conversation that was already created is left as it is, nothing more is posted to
it, and the next escalation starts a new one. If the passControl to Agent Workspace got no
answer (timeout, lost connection: SunCo may have applied it), control is released once, best
effort, so that no agent is handed a ticket for a user the bot is still serving.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from rasa_zendesk import clock, constants
from rasa_zendesk.actions import summary
from rasa_zendesk.actions.base import Turn, ZendeskAction, log_failure, record
from rasa_zendesk.actions.handoff_metadata import pass_control_metadata, routed_fields, tag
from rasa_zendesk.handoff import offer, state
from rasa_zendesk.hours import gate
from rasa_zendesk.platforms import registry
from rasa_zendesk.settings import ZendeskSettings
from rasa_zendesk.sunco.client import SunCoClient, clean_up_within
from rasa_zendesk.sunco.errors import SunCoError, SunCoUnavailable
from rasa_zendesk.sunco.models import Author, Profile
from rasa_zendesk.sunco.text import pack_blocks
from rasa_zendesk.tickets.link import link_tag

logger = logging.getLogger(__name__)

#: The time a release after an unclear pass of control gets, past the action's deadline too.
RELEASE_SECONDS = 5.0
#: The user message metadata key a channel may pass the customer's id in.
SLOT_KEY = constants.SLOT_EXTERNAL_ID
#: SunCo's limit on an externalId.
MAX_EXTERNAL_ID = 1024
_LOCALE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


class ActionZendeskHandoff(ZendeskAction):
    """Escalate to Zendesk Agent Workspace; configure by subclassing (class attributes)."""

    action_name = constants.ACTION_HANDOFF
    #: Switchboard integration that receives the conversation (id, name or type).
    agent_workspace: str = constants.AGENT_WORKSPACE
    #: The Rasa switchboard integration, if it is not the switchboard's default (see above).
    bot_switchboard_integration: Optional[str] = None
    #: Slots that hold the user's name and email, if the bot collects them.
    name_slot: str = "name"
    email_slot: str = constants.SLOT_EMAIL
    #: The slot that holds the user's locale (BCP 47, `fr-CA`), if the bot knows it.
    locale_slot: str = "locale"
    #: Tags on the ticket; the handoff reason's kind is added.
    tags: Tuple[str, ...] = ("rasa_handoff",)
    #: Start of the ticket subject; the reason follows.
    subject_prefix: str = "Chat handoff"

    async def act(self, turn: Turn) -> List[Dict[str, Any]]:
        dispatcher, tracker = turn.dispatcher, turn.tracker
        if state.active(tracker.events) is not None:
            # Already with an agent: do not open a second ticket.
            dispatcher.utter_message(response=constants.UTTER_HANDOFF_STARTED)
            return []
        try:
            connector = self.connector(tracker)
            if not asked_to_connect(tracker.events, self.name()):
                closed = await _closed(connector)
                if closed is not None:  # nobody can answer now: say when, offer a message
                    return offer_instead(dispatcher, closed, connector)
                # The user hears it now (Rasa sends it before the next action runs); the
                # SunCo work is the follow-up run, still within the user's turn.
                turn.tell(constants.UTTER_CONNECTING)
                return [FollowupAction(self.name())]
            handoff = await self.escalate(turn, connector)
        except Exception as error:  # whatever went wrong, the user hears it and keeps the bot
            log_failure(logger, "handoff", tracker.sender_id, error)
            dispatcher.utter_message(response=constants.UTTER_HANDOFF_FAILED)
            return []
        dispatcher.utter_message(response=constants.UTTER_HANDOFF_STARTED)
        known = handoff.user_external_id
        if known and known != _text_slot(tracker, constants.SLOT_EXTERNAL_ID):
            return [record(handoff), SlotSet(constants.SLOT_EXTERNAL_ID, known)]  # from metadata
        return [record(handoff)]

    async def escalate(
        self,
        turn: Turn,
        connector: Optional[ZendeskSettings] = None,
        extra_tags: Tuple[str, ...] = (),
        email: Optional[str] = None,
    ) -> state.Handoff:
        """Run the SunCo calls of a handoff; the handoff, waiting for an agent. `email`, when
        given, is the requester's address instead of the bot's slot."""
        tracker = turn.tracker
        requested_at = clock.now()
        sender_id = tracker.sender_id
        input_channel = tracker.get_latest_input_channel()
        connector = connector or self.connector(tracker)
        client = self.client(connector)
        name, slot_email = self.requester(tracker)
        email = email or slot_email
        locale = _locale(_text_slot(tracker, self.locale_slot))
        # Deterministic: reason, summary, transcript.
        briefing = summary.summarize(chat_before_notice(tracker.events, self.name()), tracker.slots)

        user_id = customer_id(tracker, turn.settings.external_id_channels)
        known = user_id if user_id != sender_id else None  # the customer's id, from the bot
        profile = (
            Profile(given_name=name, email=email, locale=locale)
            if name or email or locale
            else None
        )
        await client.get_or_create_user(user_id, profile)
        conversation_metadata = {constants.CONVERSATION_SENDER_ID: sender_id}
        if input_channel:
            conversation_metadata[constants.CONVERSATION_INPUT_CHANNEL] = input_channel
        conversation_metadata[constants.CONVERSATION_CONNECTOR] = connector.name
        conversation = await client.create_conversation(user_id, conversation_metadata)
        if self.bot_switchboard_integration:
            await client.pass_control(conversation.id, self.bot_switchboard_integration)

        first_message_id = await self._post_all(
            client, conversation.id, self.agent_messages(briefing)
        )
        metadata = pass_control_metadata(
            first_message_id,
            subject=f"{self.subject_prefix}: {briefing.reason.title}",
            # The link tag first: it must never be the one left out for length.
            tags=[
                link_tag(conversation.id),
                *self.tags,
                *connector.tags,
                tag(briefing.reason.kind),
                *extra_tags,
            ],
            requester_name=name,
            requester_email=email,
            routed=routed_fields(
                connector.routing,
                {**tracker.slots, constants.SLOT_EXTERNAL_ID: known},
                _intents(tracker),
                briefing.reason.kind,
            ),
        )
        try:
            await client.pass_control(
                conversation.id, connector.agent_workspace or self.agent_workspace, metadata
            )
        except SunCoError as error:
            if _outcome_unknown(error):
                await _release_best_effort(client, conversation.id, sender_id)
            raise
        metadata_in = (tracker.latest_message or {}).get("metadata")
        pinned = registry.named(input_channel).pin(
            metadata_in if isinstance(metadata_in, dict) else {}
        )
        return state.opened(
            conversation.id,
            trigger=briefing.reason.kind,
            at=requested_at,
            connector=connector.name,
            user_external_id=known,
            pinned=pinned,
        )

    def connector(self, tracker: Tracker) -> ZendeskSettings:
        """The Zendesk connector this conversation goes to: the slot `zendesk_connector` when
        the bot set it, else the rule for its input channel, else the default. A name that is
        not configured fails the handoff (the user hears so) rather than reach the wrong
        account."""
        requested = tracker.get_slot(constants.SLOT_CONNECTOR)
        return self.connectors().choose(
            requested if isinstance(requested, str) else None,
            tracker.get_latest_input_channel(),
        )

    def requester(self, tracker: Tracker) -> Tuple[Optional[str], Optional[str]]:
        """The user's name and email from the configured slots, when filled with text."""
        name = _text_slot(tracker, self.name_slot)
        email = _text_slot(tracker, self.email_slot)
        if email and ("@" not in email or " " in email or len(email) > 254):
            email = None  # SunCo would refuse the whole user for a malformed address
        return name, email

    def agent_messages(self, briefing: summary.Briefing) -> List[str]:
        """Summary first, then the transcript top to bottom, packed into SunCo messages."""
        turns = summary.transcript_blocks(briefing.transcript, bot_name=self.bot_display_name)
        return pack_blocks([briefing.text, *turns])

    async def _post_all(self, client: SunCoClient, conversation_id: str, texts: List[str]) -> str:
        author = Author.business(self.bot_display_name)
        first_id: Optional[str] = None
        for text in texts:
            posted = await client.post_message(
                conversation_id, author, text, metadata=constants.ORIGIN_METADATA
            )
            first_id = first_id or posted.id
        if first_id is None:
            raise ValueError("the summary is never empty")  # a bug, not a SunCo failure
        return first_id


async def _closed(connector: ZendeskSettings) -> Optional[gate.Closed]:
    """Why no agent can answer now; a failure of the check never stops the handoff."""
    try:
        return await gate.closed(connector)
    except Exception:
        logger.exception("Business hours check of connector %s failed; handing off", connector.name)
        return None


def offer_instead(
    dispatcher: CollectingDispatcher, closed: gate.Closed, connector: ZendeskSettings
) -> List[Dict[str, Any]]:
    """No handoff: the user learns when agents are back (when known) and is offered to leave
    a message or go on with the bot."""
    now = datetime.fromtimestamp(clock.now(), timezone.utc)
    words = closed.opening_in_words(now)
    if words:
        dispatcher.utter_message(response=constants.UTTER_CLOSED, next_opening=words)
    else:
        dispatcher.utter_message(response=constants.UTTER_AGENTS_OFFLINE)
    opening = closed.next_opening.timestamp() if closed.next_opening else None
    made = offer.offered(closed.reason, opening, connector.name)
    return [SlotSet(constants.SLOT_OFFER, made.as_slot())]


def customer_id(tracker: Tracker, metadata_channels: Sequence[str] = ()) -> str:
    """The SunCo user's externalId: the customer's id when the bot knows it (the slot
    `zendesk_external_id`, else that key of the latest user message's metadata when it came
    through one of `metadata_channels`), else the Rasa sender id. An id SunCo would refuse is
    left aside (logged).

    The trust line: the id is who the agent is told they talk to, and whose history they
    see. The bot sets the slot itself (after a login it checked); a message's metadata is
    whatever sent the message, a web page's `customData` or a REST body, so it names the
    customer only on the channels the bot author listed as set by their own server
    (`external_id_channels`). Elsewhere it is ignored, with a warning."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    claimed = metadata.get(SLOT_KEY) if isinstance(metadata, dict) else None
    slot = tracker.get_slot(constants.SLOT_EXTERNAL_ID)
    channel = tracker.get_latest_input_channel()
    if claimed not in (None, "") and slot in (None, "") and channel not in metadata_channels:
        logger.warning(
            "%s in the message metadata of sender %s ignored: channel %s is not one whose "
            "metadata the bot's own server sets (external_id_channels, "
            "ZENDESK_EXTERNAL_ID_CHANNELS); the user's client could name anyone",
            SLOT_KEY,
            tracker.sender_id,
            channel or "unknown",
        )
        claimed = None
    for given in (slot, claimed):
        if given is None or given == "":
            continue
        text = given.strip() if isinstance(given, str) else ""
        if 0 < len(text) <= MAX_EXTERNAL_ID:
            return text
        logger.warning(
            "%s for sender %s is not an id of 1 to %d characters: the sender id is used",
            constants.SLOT_EXTERNAL_ID,
            tracker.sender_id,
            MAX_EXTERNAL_ID,
        )
    return tracker.sender_id


def _locale(text: Optional[str]) -> Optional[str]:
    """A BCP 47 tag (`fr-CA`), else None: SunCo would refuse the whole user."""
    return text if text and _LOCALE.match(text) else None


def _intents(tracker: Tracker) -> List[str]:
    """The user's intents in this conversation, oldest first."""
    names = []
    for event in tracker.events:
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if isinstance(name, str):
                names.append(name)
    return names


def asked_to_connect(events: List[Dict[str, Any]], action_name: str) -> bool:
    """Whether this run is the follow-up that the escalation's first run asked for (the user
    was told "connecting")."""
    return _first_run(events, action_name) is not None


def chat_before_notice(events: List[Dict[str, Any]], action_name: str) -> List[Dict[str, Any]]:
    """The chat the agent reads: up to the user's request, without the "connecting" notice."""
    first = _first_run(events, action_name)
    return list(events) if first is None else list(events[:first])


def _first_run(events: List[Dict[str, Any]], action_name: str) -> Optional[int]:
    """The index of the first run's action event when the latest events are that run and
    then the follow-up it asked for (to itself); else None."""
    followed = False
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        kind = event.get("event")
        if kind == "followup":
            followed = followed or event.get("name") == action_name
        elif kind == "action":
            return index if followed and event.get("name") == action_name else None
        elif kind == "user":
            return None
    return None


def _text_slot(tracker: Tracker, slot: str) -> Optional[str]:
    value = tracker.get_slot(slot) if slot else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _outcome_unknown(error: SunCoError) -> bool:
    """No answer (timeout, connection lost): SunCo may have applied the call."""
    return isinstance(error, SunCoUnavailable) and error.status is None


async def _release_best_effort(client: SunCoClient, conversation_id: str, sender_id: str) -> None:
    """Never a half-open handoff: the release is tried even when the run's deadline is what
    stopped the pass of control, within `RELEASE_SECONDS` of its own."""
    try:
        with clean_up_within(RELEASE_SECONDS):
            await client.release_control(conversation_id)
    except SunCoError as error:
        log_failure(logger, "release after a failed handoff", sender_id, error)
