"""A handoff's state: one record in the slot `zendesk_handoff`, read from the events as stored.

A handoff is `waiting` (control passed to the agents, no agent message yet), then
`agent_joined` (the first agent message arrived), then `ended`, with exactly one reason
(`END_REASONS`). The record also holds the SunCo conversation, when it was requested and why,
who joined and when, and when it ended. It lives in the tracker store as the value of one slot,
so it survives restarts and new sessions (`carry_over_slots_to_new_session`) and is shared by
every Rasa instance; every transition writes the whole record in one `SlotSet`.

Why the state is read from the events as stored, and not from the slot's current value: Rasa
replays a tracker *without* the events a rewind undid (`UserUtteranceReverted` of a fallback,
`ActionReverted`, `action_back`, the two-stage fallback). A rewind that reaches back past a
transition would revive an ended handoff, or end a running one, although nothing in Zendesk
changed. Only the plugin's transitions may change the state, so `current` takes the newest
record *written*, whether a rewind later undid it or not. The slot's replayed value is only a
copy; the policy sets it right again after a rewind, so that a new session carries the true
record over.

The functions take Rasa `Event` objects (Rasa server) or event dicts (rasa-sdk trackers in the
action server) alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from rasa_zendesk import clock
from rasa_zendesk.constants import SLOT_HANDOFF as SLOT
from rasa_zendesk.handoff import pending
from rasa_zendesk.handoff.event_folds import folded
from rasa_zendesk.handoff.events import SlotRecord, field, kind, newest_slot_record

WAITING = "waiting"
AGENT_JOINED = "agent_joined"
ENDED = "ended"
STATES = (WAITING, AGENT_JOINED, ENDED)

# Why a handoff ended; exactly one per handoff.
AGENT_RELEASED = "agent_released"
TICKET_CLOSED = "ticket_closed"
TICKET_SOLVED = "ticket_solved"
TRANSFER_TO_EMAIL = "transfer_to_email"
USER_ENDED = "user_ended"
AGENT_TIMEOUT = "agent_timeout"
IDLE_TIMEOUT = "idle_timeout"
MAX_DURATION = "max_duration"
CONVERSATION_GONE = "conversation_gone"
RESTART = "restart"
#: No agent could answer (closed, holiday, nobody online): the user left a message instead,
#: and the handoff ended as it opened; the agents answer the ticket later.
LEFT_MESSAGE = "left_message"
FAILED = "failed"
END_REASONS = (
    AGENT_RELEASED,
    TICKET_CLOSED,
    TICKET_SOLVED,
    TRANSFER_TO_EMAIL,
    USER_ENDED,
    AGENT_TIMEOUT,
    IDLE_TIMEOUT,
    MAX_DURATION,
    CONVERSATION_GONE,
    RESTART,
    LEFT_MESSAGE,
    FAILED,
)


class TransitionError(ValueError):
    """A transition that the state does not allow (a bug in the caller, never user input)."""


@dataclass(frozen=True)
class Handoff(SlotRecord):
    """One handoff, as stored in the slot (a JSON object; times are epoch seconds)."""

    id: str
    conversation_id: str
    state: str
    requested_at: float
    trigger: Optional[str] = None
    agent_name: Optional[str] = None
    agent_joined_at: Optional[float] = None
    ended_at: Optional[float] = None
    end_reason: Optional[str] = None
    #: Since when the agent timeout counts (the request, or the user's "keep waiting").
    waiting_since: Optional[float] = None
    #: When the user was told no agent came and offered what to do (an answer is pending).
    agent_timeout_offered_at: Optional[float] = None
    #: The user chose to leave a message: the agents answer later; no agent timeout any more.
    message_left: Optional[bool] = None
    #: The Rasa message id of the last user message dealt with: passed on to the agent, or
    #: taken as a gesture. The ones after it are still to go (see `pending_messages`).
    handled_through: Optional[str] = None
    #: The Zendesk connector it went to (None in records older than connectors: the default).
    connector: Optional[str] = None
    #: The ticket Zendesk opened for it and that ticket's latest status (ticket webhooks).
    ticket_id: Optional[str] = None
    ticket_status: Optional[str] = None
    #: The SunCo user's externalId when it is not the Rasa sender id (`zendesk_external_id`):
    #: the user messages of this handoff are posted as that user.
    user_external_id: Optional[str] = None
    #: Why the user's platform refused messages for good (`platforms.outcome` causes), each
    #: told to the agent once.
    undelivered: Optional[List[str]] = None
    #: The user's satisfaction rating (1 to 5) after the handoff, and when it was given: once
    #: per handoff (`rated`); `action_zendesk_csat` writes it to the ticket.
    csat_rating: Optional[int] = None
    csat_at: Optional[float] = None
    #: Where the user's platform shows the agent's messages, pinned when it started, so the
    #: handoff stays there wherever the user writes next (Slack: the channel or DM, and the
    #: thread in a channel; `Platform.pin`).
    pinned_channel: Optional[str] = None
    pinned_thread: Optional[str] = None

    @property
    def active(self) -> bool:
        """Waiting for an agent or with one: the bot stays quiet, messages go to Zendesk."""
        return self.state in (WAITING, AGENT_JOINED)

    @classmethod
    def from_slot(cls, value: Any) -> Optional[Handoff]:
        """The record in a slot value; None for an empty or unreadable one."""
        handoff = cls.read_slot(value)
        if handoff is None or handoff.state not in STATES or not handoff.conversation_id:
            return None
        return handoff


def current(events: Sequence[Any]) -> Optional[Handoff]:
    """The handoff as its transitions last wrote it, rewinds or not; None if there is none.

    A restart forgets it (Rasa resets every slot); a new session starts from the record it
    carried over (a slot set right after `session_started`), or from none.

    Every webhook asks it, several times: for a Rasa tracker the answer is kept and carried
    on with the events appended since (`event_folds`).
    """
    return folded(events, _CURRENT)


_CURRENT = newest_slot_record(SLOT, Handoff.from_slot)


def active(events: Sequence[Any]) -> Optional[Handoff]:
    """The handoff if one is running (waiting or with an agent), else None."""
    handoff = current(events)
    return handoff if handoff is not None and handoff.active else None


def active_for(events: Sequence[Any], conversation_id: str) -> Optional[Handoff]:
    """The running handoff of this SunCo conversation: a late event of an earlier handoff
    must not touch a newer one, nor reach a user who is back with the bot."""
    handoff = active(events)
    return handoff if handoff is not None and handoff.conversation_id == conversation_id else None


def records(events: Sequence[Any], conversation_id: Optional[str] = None) -> Iterator[Handoff]:
    """Every record the handoff's transitions wrote in these events, oldest first; only those
    of one SunCo conversation when given (the others are not even read: every webhook asks)."""
    for event in events:
        if kind(event) == "slot" and field(event, "name") == SLOT:
            value = field(event, "value")
            if conversation_id is not None and (
                not isinstance(value, Mapping) or value.get("conversation_id") != conversation_id
            ):
                continue
            record = Handoff.from_slot(value)
            if record is not None:
                yield record


def connectors_of(events: Sequence[Any], conversation_id: str) -> Set[Optional[str]]:
    """The connectors on which this user's handoffs, current or past, had the SunCo
    conversation (None: the default, in records older than connectors). A conversation is the
    user's only when one of their records names it: its metadata may name anyone."""
    return {record.connector for record in records(events, conversation_id)}


def slot_value(handoff: Optional[Handoff]) -> Optional[Dict[str, Any]]:
    """What the slot holds for this record (None: no handoff)."""
    return handoff.as_slot() if handoff is not None else None


# Transitions: each returns the new record, which the caller stores as the slot's value.


def opened(
    conversation_id: str,
    trigger: Optional[str] = None,
    at: Optional[float] = None,
    connector: Optional[str] = None,
    user_external_id: Optional[str] = None,
    pinned: Tuple[Optional[str], Optional[str]] = (None, None),
) -> Handoff:
    """Control passed to the agents: the handoff waits for the first agent message.
    `pinned`: where the agent's messages go on the user's platform (channel, thread)."""
    requested_at = _now(at)
    return Handoff(
        id=uuid.uuid4().hex,
        conversation_id=conversation_id,
        state=WAITING,
        requested_at=requested_at,
        trigger=trigger,
        waiting_since=requested_at,
        connector=connector,
        user_external_id=user_external_id,
        pinned_channel=pinned[0],
        pinned_thread=pinned[1],
    )


def agent_joined(
    handoff: Handoff, agent_name: Optional[str], at: Optional[float] = None
) -> Handoff:
    """The first agent message of a waiting handoff."""
    if handoff.state != WAITING:
        raise TransitionError(f"an agent joins a waiting handoff, not one {handoff.state}")
    return replace(
        handoff,
        state=AGENT_JOINED,
        agent_name=agent_name,
        agent_joined_at=_now(at),
        agent_timeout_offered_at=None,
    )


def agent_timed_out(handoff: Handoff, at: Optional[float] = None) -> Handoff:
    """No agent came in time: the user is offered to wait, leave a message or leave."""
    _expect_waiting(handoff)
    return replace(handoff, agent_timeout_offered_at=_now(at))


def keep_waiting(handoff: Handoff, at: Optional[float] = None) -> Handoff:
    """The user waits on: the agent timeout starts again."""
    _expect_waiting(handoff)
    return replace(handoff, waiting_since=_now(at), agent_timeout_offered_at=None)


def message_left(handoff: Handoff) -> Handoff:
    """The user leaves a message for the agents, who answer later: no agent timeout now."""
    _expect_waiting(handoff)
    return replace(handoff, message_left=True, agent_timeout_offered_at=None)


def ticket_changed(handoff: Handoff, ticket_id: str, status: str) -> Handoff:
    """Zendesk says the handoff's ticket has a new status (recorded; an end is `ended`). The
    first one pins the ticket: another ticket's events are refused (`ticket_of_another`)."""
    return replace(handoff, ticket_id=ticket_id, ticket_status=status)


def ticket_of_another(events: Sequence[Any], handoff: Handoff, ticket_id: str) -> bool:
    """Whether `ticket_id` is not this handoff's ticket: the first ticket event that reached
    the handoff pinned its ticket (`ticket_changed`), or an earlier handoff of the same
    conversation had this one. A ticket event ends only its own handoff."""
    if handoff.ticket_id is not None:
        return handoff.ticket_id != ticket_id
    return any(
        record.ticket_id == ticket_id and record.id != handoff.id for record in records(events)
    )


def refused(handoff: Handoff, cause: str) -> Handoff:
    """The user's platform refused a message for good for `cause` (the agent was told)."""
    return replace(handoff, undelivered=[*(handoff.undelivered or []), cause])


def handled(handoff: Handoff, message_id: Optional[str]) -> Handoff:
    """The user's messages up to `message_id` are dealt with (relayed, or a gesture)."""
    return replace(handoff, handled_through=message_id) if message_id else handoff


def pending_messages(events: Sequence[Any], handoff: Handoff) -> List[Any]:
    """The user messages of this handoff not yet dealt with, oldest first: what the relay
    passes on. A message whose relay failed (the action server or SunCo was down) stays here
    until a relay gets it through."""
    messages: List[Any] = []
    started = False
    for event in events:
        what = kind(event)
        if what == "slot" and field(event, "name") == SLOT:
            record = Handoff.from_slot(field(event, "value"))
            started = started or (record is not None and record.id == handoff.id)
        elif what == "user" and started and not pending.is_poll_event(event):
            messages.append(event)
            if handoff.handled_through and field(event, "message_id") == handoff.handled_through:
                messages = []
    return messages


def _expect_waiting(handoff: Handoff) -> None:
    if handoff.state != WAITING:
        raise TransitionError(f"only a waiting handoff times out, not one {handoff.state}")


def ended(handoff: Handoff, reason: str, at: Optional[float] = None) -> Handoff:
    """The handoff is over, for `reason`; it ends once."""
    if reason not in END_REASONS:
        raise TransitionError(f"unknown end reason {reason!r}")
    if not handoff.active:
        raise TransitionError("the handoff has ended already")
    return replace(handoff, state=ENDED, ended_at=_now(at), end_reason=reason)


CSAT_RATINGS = range(1, 6)


def rated(handoff: Handoff, rating: int, at: Optional[float] = None) -> Handoff:
    """The user rated an ended handoff (1 to 5); a handoff is rated once."""
    if handoff.state != ENDED:
        raise TransitionError("only an ended handoff is rated")
    if handoff.csat_rating is not None:
        raise TransitionError("the handoff is rated already")
    if rating not in CSAT_RATINGS:
        raise TransitionError(f"a rating is 1 to 5, not {rating!r}")
    return replace(handoff, csat_rating=rating, csat_at=_now(at))


def _now(at: Optional[float]) -> float:
    return clock.now() if at is None else at
