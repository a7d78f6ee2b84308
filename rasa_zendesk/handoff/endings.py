"""How a handoff ends: one table, one row per end reason, read by both servers.

For each reason of `state.END_REASONS` the row says what the user is told (a domain response,
with a built-in sentence for a domain without it; `handoff_ended_text` rewords
`utter_zendesk_handoff_ended` wherever it is said), whether the plugin gives the conversation
back in Zendesk (releaseControl, its metadata `rasa_zendesk_end_reason` saying why) and the
note the agent reads before that, and what the bot does next (`then`). Who ends a handoff for
which reason:

- the Rasa server (`rasa_zendesk.channel.handlers`): Zendesk's hand-back (`agent_released`,
  `ticket_closed`, `transfer_to_email`), the ticket-status webhook (`ticket_solved`), the
  timers (`idle_timeout`, `max_duration`, and `failed` when the user's channel kept refusing
  what a timer said);
- the action server (`rasa_zendesk.actions`): the user's `/end`, the end button, the choice
  after no agent came and `/restart` (`user_ended`, `agent_timeout`, `restart`), a relay that
  finds the conversation gone (`conversation_gone`), a message left (`left_message`).

What follows an end (`then`): after any end but a restart, the bot starts a fresh session,
Rasa's own way, so that the user's next message is answered as at the start of a new
conversation: `action_session_start` (`SessionStarted`, the slots carried over as Rasa's
`carry_over_slots_to_new_session` says, the handoff's ended record always), then, for most
reasons, the author's `after_handoff_action`. Rasa's policies read the tracker from the latest
`SessionStarted` on (`DialogueStateTracker.applied_events`), so they no longer see the handoff's
turns, which are in none of the bot's stories; the record carried over keeps the handoff ended
whatever a rewind undoes (`handoff.state` reads the newest record written). The Rasa server
runs the bot's own `action_session_start` when it has one, as Rasa does
(`channel.write_path`); in the action server the end is one of the plugin's actions inside
Rasa's turn, and Rasa 3.6 ends a turn at `action_session_start` (nothing could follow it), so
the end action returns the events Rasa's default `action_session_start` returns, then the
follow-up (`actions.base.ZendeskAction.end`).

Every end also writes the slot `zendesk_handoff_outcome` (`outcome`): how the handoff ended,
for the bot's own flow after it (the author's `after_handoff_action` reads it); like the
record, it is kept in the fresh session.

A new end reason is one constant in `state` and one row here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from rasa_zendesk import constants
from rasa_zendesk.handoff import state
from rasa_zendesk.settings import HandoffSettings

#: What follows an end (`Ending.then`): a fresh session, then the author's
#: `after_handoff_action` (when set); a fresh session only; or Rasa's restart.
AFTER_HANDOFF = "after_handoff_action"
NEW_SESSION = "new_session"
RESTART = "action_restart"
#: The slots a fresh session after an end always keeps, whatever the domain carries over:
#: the handoff's record and its outcome.
KEPT_SLOTS = (constants.SLOT_HANDOFF, constants.SLOT_HANDOFF_OUTCOME)
#: Rasa's action that starts a session (the bot's own, when its domain has one).
SESSION_START = "action_session_start"
ACTION_LISTEN = "action_listen"

#: Built-in sentences, for a domain without the plugin's responses (the endings', the other
#: notices the Rasa server says: who joined, no agent yet, and the relay's about a message).
BUILT_IN_TEXTS = {
    constants.UTTER_CONNECTING: "One moment, please: I'm reaching a human agent for you.",
    constants.UTTER_HANDOFF_ENDED: (
        "The agent has left the conversation. You are chatting with the bot again."
    ),
    constants.UTTER_TRANSFERRED_TO_EMAIL: (
        "Our team will continue this conversation by email ({email}). "
        "You're back with the bot here."
    ),
    constants.UTTER_MESSAGE_TAKEN: (
        "Thanks! Our team has your message and this conversation, and will reply to {email}. "
        "Meanwhile, I'm here if you need anything else."
    ),
    constants.UTTER_AGENT_JOINED: "{agent_name} has joined the chat.",
    constants.UTTER_CSAT_THANKS: "Thank you for your feedback!",
    constants.UTTER_CSAT_RATING_INVALID: ("Please answer with a number from 1 to 5, or say skip."),
    constants.UTTER_MESSAGE_NOT_RELAYED: (
        "Sorry, one of your messages couldn't be passed on to the agent: {reason}. "
        "Please send it again, in other words if you can."
    ),
    constants.UTTER_MESSAGE_CUT: (
        "Sorry, your message was too long to pass on whole: {left_out} did not reach the agent."
    ),
    constants.UTTER_AGENT_TIMEOUT: (
        "No agent is free yet. You can keep waiting, leave a message for the team, "
        "or go back to the bot."
    ),
}

#: Said for a move to email when the bot has no address of the user's.
UNKNOWN_EMAIL = "the address we have for you"


@dataclass(frozen=True)
class Wording:
    """What the user is told: the domain's `response` (its placeholders filled by the
    caller's values), or, when `text` is set, that text (configured, or built in)."""

    response: str
    text: Optional[str] = None


def wording(
    response: str, has_response: bool, configured_text: Optional[str] = None, **values: Any
) -> Wording:
    """The author's text when configured, else the domain's response, else the built-in one."""
    if configured_text:
        return Wording(response, configured_text)
    if has_response:
        return Wording(response)
    return Wording(response, BUILT_IN_TEXTS[response].format(**values))


@dataclass(frozen=True)
class Ending:
    """One row of the table."""

    reason: str
    #: The response the user is told; None: nothing (Rasa's restart speaks for itself).
    response: Optional[str]
    #: The plugin gives the conversation back in Zendesk (Zendesk did not end it itself).
    releases: bool = False
    #: What the agent reads in the ticket before the release (the end action may reword it).
    agent_note: Optional[str] = None
    #: What the bot runs next: `AFTER_HANDOFF`, `NEW_SESSION` or `RESTART`.
    then: str = AFTER_HANDOFF

    def wording(
        self, settings: HandoffSettings, has_response: bool, **values: Any
    ) -> Optional[Wording]:
        """What the user is told at this end; None: nothing."""
        if self.response is None:
            return None
        configured = (
            settings.handoff_ended_text if self.response == constants.UTTER_HANDOFF_ENDED else None
        )
        return wording(self.response, has_response, configured, **values)

    @property
    def fresh_session(self) -> bool:
        """Whether a new session starts right after the user was told."""
        return self.then in (AFTER_HANDOFF, NEW_SESSION)

    def follow_up(self, settings: HandoffSettings) -> Optional[str]:
        """The action the bot runs right after the user was told (and the new session
        started); None: none."""
        if self.then == AFTER_HANDOFF:
            return settings.after_handoff_action
        return self.then if self.then == RESTART else None

    def then_run(self, settings: HandoffSettings) -> Tuple[str, ...]:
        """The bot's actions to run after the user was told, in order, as the Rasa server
        runs them (`action_session_start` first for a fresh session)."""
        follow_up = self.follow_up(settings)
        first = (SESSION_START,) if self.fresh_session else ()
        return (*first, follow_up) if follow_up else first


def _row(
    reason: str, response: Optional[str] = constants.UTTER_HANDOFF_ENDED, **rest: Any
) -> Ending:
    return Ending(reason, response, **rest)


ENDINGS: Dict[str, Ending] = {
    ending.reason: ending
    for ending in (
        _row(state.AGENT_RELEASED),
        _row(state.TICKET_CLOSED),
        _row(state.TICKET_SOLVED),  # Agent Workspace gives the conversation back at the close
        _row(state.TRANSFER_TO_EMAIL, constants.UTTER_TRANSFERRED_TO_EMAIL),
        _row(
            state.USER_ENDED,
            releases=True,
            agent_note="The customer ended the chat and is back with the bot.",
        ),
        _row(
            state.AGENT_TIMEOUT,
            releases=True,
            agent_note="No agent answered in time; the customer chose to go back to the bot.",
        ),
        _row(state.IDLE_TIMEOUT, releases=True),
        _row(state.MAX_DURATION, releases=True),
        # Zendesk no longer has it: nothing to release. The user's message goes back to the
        # bot, which answers it in the fresh session, as the first message of a conversation;
        # no `after_handoff_action`: it would take the place of that answer (Rasa's policies
        # answer a message right after listening only).
        _row(state.CONVERSATION_GONE, then=NEW_SESSION),
        _row(
            state.RESTART,
            None,
            releases=True,
            agent_note="The customer restarted the conversation with the bot.",
            then=RESTART,
        ),
        # The ticket waits for the agents, who answer by email: Zendesk keeps it, and no
        # satisfaction question follows a conversation no agent has had yet.
        _row(state.LEFT_MESSAGE, constants.UTTER_MESSAGE_TAKEN, then=NEW_SESSION),
        # The user's channel kept failing: the notice waits for their next message, and no
        # follow-up (a feedback question) goes to a channel that cannot take it.
        _row(state.FAILED, releases=True, then=NEW_SESSION),
    )
}


def ending_for(reason: str) -> Ending:
    """The row of an end reason (`state.END_REASONS`)."""
    return ENDINGS[reason]


def agent_notes() -> Dict[str, str]:
    """The agent's note of each end reason that has one."""
    return {reason: row.agent_note for reason, row in ENDINGS.items() if row.agent_note}


def outcome(handoff: state.Handoff) -> Dict[str, Any]:
    """The slot `zendesk_handoff_outcome` for an ended handoff (a contract with bots: fields
    are added, never renamed): `reason` (one of `state.END_REASONS`), `handoff_id`,
    `ticket_id` and `ticket_status` (the ticket's latest status Zendesk told us; None when no
    ticket event came), `agent_name` (None: no agent joined), `wait_seconds` (from the request
    to the agent's first message, or to the end when no agent came) and `duration_seconds`
    (from the request to the end)."""
    if handoff.ended_at is None or handoff.end_reason is None:
        raise ValueError("only an ended handoff has an outcome")  # a bug in the caller
    waited_until = handoff.agent_joined_at or handoff.ended_at
    return {
        "reason": handoff.end_reason,
        "handoff_id": handoff.id,
        "ticket_id": handoff.ticket_id,
        "ticket_status": handoff.ticket_status,
        "agent_name": handoff.agent_name,
        "wait_seconds": round(max(0.0, waited_until - handoff.requested_at), 3),
        "duration_seconds": round(max(0.0, handoff.ended_at - handoff.requested_at), 3),
    }


def release_metadata(reason: str) -> Dict[str, str]:
    """The releaseControl metadata that tells Zendesk why the plugin gave it back."""
    return {constants.END_REASON_KEY: reason}
