"""What every Zendesk action does first, and what they share: the turn (what rasa-sdk passes,
the handoff settings, the domain's responses), the Zendesk connectors and their SunCo
clients, the end of a handoff as the table of endings says, the handoff's record, and logging.

Every run has a total deadline (`action_deadline`, `rasa_zendesk.settings.ActionLimits`),
shared by all its SunCo calls (`rasa_zendesk.sunco.client.run_deadline`) and downloads: Rasa
holds the conversation's lock only so long while the action runs, and a webhook that wrote
beside a run past it would lose events.

Settings are read only through `rasa_zendesk.settings` (the same parser as the Rasa server);
response texts are the bot's domain's (see `rasa_zendesk/domain/zendesk.yml`), else the
built-in ones of `rasa_zendesk.handoff.endings`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Union

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from rasa_zendesk import constants
from rasa_zendesk.actions import sunco_session
from rasa_zendesk.handoff import endings, state
from rasa_zendesk.handoff.endings import Wording
from rasa_zendesk.settings import (
    ActionLimits,
    Connectors,
    HandoffSettings,
    SettingsError,
    Sources,
    ZendeskSettings,
)
from rasa_zendesk.sunco.client import SunCoClient, run_deadline
from rasa_zendesk.sunco.errors import SunCoError
from rasa_zendesk.sunco.models import Author
from rasa_zendesk.tickets.support_api import SupportApiError

logger = logging.getLogger(__name__)

# What an action expects when Zendesk cannot be reached: SunCo or the Support API failed after
# its retries, or the action server is not configured for Zendesk. All leave the bot in charge.
ZendeskFailure = (SunCoError, SupportApiError, SettingsError)


@dataclass
class Turn:
    """One run of an action: what rasa-sdk passes it, and the handoff settings now."""

    dispatcher: CollectingDispatcher
    tracker: Tracker
    domain: Dict[str, Any]
    settings: HandoffSettings = field(default_factory=lambda: HandoffSettings.read(Sources()))
    limits: ActionLimits = field(default_factory=lambda: ActionLimits.read(Sources()))

    @property
    def sender_id(self) -> str:
        return self.tracker.sender_id

    def has_response(self, name: str) -> bool:
        """Whether the bot's domain defines the response."""
        return name in (self.domain.get("responses") or {})

    def tell(self, response: str, **values: Any) -> None:
        """Say one of the plugin's responses: the domain's, else its built-in sentence."""
        self.say(endings.wording(response, self.has_response(response), **values), **values)

    def say(self, words: Optional[Wording], **values: Any) -> None:
        """Tell the user: a fixed text as it is, else the domain's response, filled by Rasa."""
        if words is None:
            return
        if words.text:
            self.dispatcher.utter_message(text=words.text)
        else:
            self.dispatcher.utter_message(response=words.response, **values)


class ZendeskAction(Action, ABC):
    """The base of the Zendesk actions; configure one by subclassing it in the bot's actions
    package and changing class attributes (see `rasa_zendesk.actions`)."""

    #: The action's name in the domain (a contract).
    action_name: ClassVar[str]
    #: Display name of the bot's (business) messages in the ticket: the summary, the bot's
    #: turns of the transcript, the note the agent reads at an end.
    bot_display_name: str = "Bot"
    #: The note the agent reads in the ticket before the plugin gives the conversation back,
    #: by end reason; reword one with `{**ActionZendeskEndHandoff.agent_notes, reason: "..."}`.
    #: A reason left out gets the table's note (`handoff.endings`).
    agent_notes: Mapping[str, str] = endings.agent_notes()

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        turn = Turn(dispatcher, tracker, domain)
        with run_deadline(turn.limits.deadline):
            return await self.act(turn)

    @abstractmethod
    async def act(self, turn: Turn) -> List[Dict[str, Any]]:
        """What the action does in this turn; the events it answers Rasa with."""

    def connectors(self) -> Connectors:
        """The bot's Zendesk connectors as the environment defines them now."""
        return sunco_session.connectors()

    def client(self, connector: Union[ZendeskSettings, str, None] = None) -> SunCoClient:
        """The shared SunCo client of a connector, by its settings or name (None: the
        default one)."""
        if isinstance(connector, ZendeskSettings):
            return sunco_session.client_for(connector)
        return sunco_session.get_client(connector)

    async def end(
        self,
        turn: Turn,
        handoff: Optional[state.Handoff],
        reason: str,
        extra: Sequence[Dict[str, Any]] = (),
        again: Optional[Dict[str, Any]] = None,
        **values: Any,
    ) -> List[Dict[str, Any]]:
        """End the handoff in the action server as its row of `handoff.endings` says: given
        back in Zendesk when the row says so (note, then release), the user told, the record
        (none when it ended already), the caller's `extra` events, then the fresh session
        (`fresh_session`), the user message given back to the bot (`again`), and the
        follow-up action last (Rasa forgets it at the next action or user message)."""
        ending = endings.ending_for(reason)
        if handoff is not None and ending.releases:
            await self._give_back(handoff, reason, turn.sender_id)
        turn.say(
            ending.wording(turn.settings, turn.has_response(ending.response or ""), **values),
            **values,
        )
        events = ended_events(state.ended(handoff, reason)) if handoff is not None else []
        events += extra
        if handoff is not None and ending.fresh_session:  # else its end started one
            events += fresh_session(turn, events)
        if again is not None:
            events.append(again)
        follow_up = ending.follow_up(turn.settings)
        return [*events, FollowupAction(follow_up)] if follow_up else events

    async def _give_back(self, handoff: state.Handoff, reason: str, sender_id: str) -> None:
        """Note, then release (its metadata says why); each is tried even if the other failed,
        failures are logged: the user gets the bot back anyway."""
        conversation_id = handoff.conversation_id
        try:
            client = self.client(handoff.connector)
        except Exception as error:
            log_failure(logger, "end of handoff", sender_id, error)
            return
        note = self.agent_notes.get(reason) or endings.ending_for(reason).agent_note
        if note:
            try:
                await client.post_message(
                    conversation_id,
                    Author.business(self.bot_display_name),
                    note,
                    metadata=constants.ORIGIN_METADATA,
                )
            except Exception as error:
                log_failure(logger, "note to the agent", sender_id, error)
        try:
            await client.release_control(conversation_id, endings.release_metadata(reason))
        except Exception as error:
            log_failure(logger, "release of control", sender_id, error)


def fresh_session(turn: Turn, written: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """A new session, as the events Rasa's default `action_session_start` returns: the
    session start, the slots of the current session carried over (as they are after
    `written`, this turn's events so far) when the domain says so, the handoff's record
    always, and listening. Rasa's policies then read the tracker from here on."""
    config = turn.domain.get("session_config") or {}
    carried = config.get("carry_over_slots_to_new_session", True)
    applied = turn.tracker.applied_events()
    starts = [i for i, event in enumerate(applied) if event.get("event") == "session_started"]
    session = applied[starts[-1] :] if starts else applied
    values: Dict[str, Any] = {}
    for event in [*session, *written]:
        if event.get("event") != "slot":
            continue
        if carried or event.get("name") in endings.KEPT_SLOTS:
            values[event["name"]] = event.get("value")
    return [
        SessionStarted(),
        *(SlotSet(name, value) for name, value in values.items()),
        ActionExecuted(endings.ACTION_LISTEN),
    ]


def latest_user_event_of(events: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The most recent `user` event, as Rasa sent it (text, metadata, ...)."""
    for event in reversed(events):
        if event.get("event") == "user":
            return event
    return None


def ended_events(handoff: state.Handoff) -> List[Dict[str, Any]]:
    """The events of an end: the ended record, then its outcome for the bot's next flow."""
    return [record(handoff), SlotSet(constants.SLOT_HANDOFF_OUTCOME, endings.outcome(handoff))]


def record(handoff: state.Handoff) -> Dict[str, Any]:
    """The event that stores a transition of the handoff (see `rasa_zendesk.handoff.state`)."""
    return SlotSet(constants.SLOT_HANDOFF, handoff.as_slot())


def log_failure(logger: logging.Logger, what: str, sender_id: str, error: Exception) -> None:
    """One line an operator can act on. SunCo and settings errors carry status, code and the
    failing call, never a credential, so their text is logged as is; anything else (an answer
    the client could not read, a bug) is logged with its traceback, as an error."""
    if isinstance(error, ZendeskFailure):
        logger.warning("Zendesk %s failed for sender %s: %s", what, sender_id, error)
    else:
        logger.error(
            "Zendesk %s failed unexpectedly for sender %s", what, sender_id, exc_info=error
        )
