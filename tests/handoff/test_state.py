"""The handoff's record and its transitions (`rasa_zendesk.handoff.state`): every transition
and every one the state refuses, the slot form, and reading the state from the events as
stored (rewinds cannot change it)."""

from __future__ import annotations

from typing import Any, List

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.slots import AnySlot
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.handoff import state
from rasa_zendesk.handoff.pending import POLL_COMMAND

CONVERSATION = "0123456789abcdef01234567"


def opened() -> state.Handoff:
    return state.opened(CONVERSATION, trigger="explicit_request", at=100.0, connector="eu")


def slot(handoff: state.Handoff) -> SlotSet:
    return SlotSet(constants.SLOT_HANDOFF, handoff.as_slot())


# --- transitions ---------------------------------------------------------------------------


def test_opened_waits_for_an_agent_from_the_request() -> None:
    handoff = opened()
    assert (handoff.state, handoff.requested_at, handoff.waiting_since) == (state.WAITING, 100, 100)
    assert (handoff.trigger, handoff.connector, handoff.conversation_id) == (
        "explicit_request",
        "eu",
        CONVERSATION,
    )
    assert handoff.active and len(handoff.id) == 32 and handoff.id != opened().id


def test_the_first_agent_message_joins_and_closes_the_offer() -> None:
    offered = state.agent_timed_out(opened(), at=700.0)
    joined = state.agent_joined(offered, "Anna", at=750.0)
    assert (joined.state, joined.agent_name, joined.agent_joined_at) == (
        state.AGENT_JOINED,
        "Anna",
        750.0,
    )
    assert joined.agent_timeout_offered_at is None and joined.active


def test_no_agent_in_time_then_keep_waiting_then_a_message_left() -> None:
    offered = state.agent_timed_out(opened(), at=700.0)
    assert offered.agent_timeout_offered_at == 700.0 and offered.state == state.WAITING
    waiting = state.keep_waiting(offered, at=800.0)
    assert (waiting.waiting_since, waiting.agent_timeout_offered_at) == (800.0, None)
    left = state.message_left(state.agent_timed_out(waiting, at=1400.0))
    assert left.message_left and left.agent_timeout_offered_at is None and left.active


@pytest.mark.parametrize(
    "transition",
    [state.agent_joined, state.agent_timed_out, state.keep_waiting, state.message_left],
    ids=["agent_joined", "agent_timed_out", "keep_waiting", "message_left"],
)
def test_only_a_waiting_handoff_takes_the_waiting_transitions(transition: Any) -> None:
    joined = state.agent_joined(opened(), "Anna")
    ended = state.ended(opened(), state.USER_ENDED)
    for handoff in (joined, ended):
        with pytest.raises(state.TransitionError):
            transition(*([handoff, "Anna"] if transition is state.agent_joined else [handoff]))


@pytest.mark.parametrize("reason", state.END_REASONS)
def test_a_running_handoff_ends_once_with_its_reason(reason: str) -> None:
    for running in (opened(), state.agent_joined(opened(), "Anna")):
        ended = state.ended(running, reason, at=900.0)
        assert (ended.state, ended.end_reason, ended.ended_at) == (state.ENDED, reason, 900.0)
        assert not ended.active
        with pytest.raises(state.TransitionError, match="ended already"):
            state.ended(ended, reason)


def test_an_unknown_end_reason_is_refused() -> None:
    with pytest.raises(state.TransitionError, match="unknown end reason"):
        state.ended(opened(), "bored")


def test_the_ticket_status_and_the_messages_dealt_with_are_recorded() -> None:
    changed = state.ticket_changed(opened(), "4711", "PENDING")
    assert (changed.ticket_id, changed.ticket_status, changed.state) == (
        "4711",
        "PENDING",
        state.WAITING,
    )
    assert state.handled(changed, "msg-2").handled_through == "msg-2"
    assert state.handled(changed, None) is changed


# --- the slot --------------------------------------------------------------------------------


def test_the_record_round_trips_through_the_slot() -> None:
    handoff = state.ended(state.agent_joined(opened(), "Anna", at=200.0), state.IDLE_TIMEOUT)
    assert state.Handoff.from_slot(handoff.as_slot()) == handoff
    assert state.slot_value(handoff) == handoff.as_slot() and state.slot_value(None) is None


@pytest.mark.parametrize(
    "value",
    [None, "waiting", {"state": "bored", "conversation_id": "c"}, {"state": "waiting"}, {}],
)
def test_an_unreadable_slot_is_no_handoff(value: Any) -> None:
    assert state.Handoff.from_slot(value) is None


def test_a_record_of_an_older_version_is_read_with_the_new_fields_empty() -> None:
    old = {"id": "x", "conversation_id": CONVERSATION, "state": "waiting", "requested_at": 1.0}
    handoff = state.Handoff.from_slot(old)
    assert handoff is not None and handoff.connector is None and handoff.ticket_id is None


# --- reading the state from the events -----------------------------------------------------


def test_the_newest_record_written_counts_whatever_a_rewind_undid() -> None:
    running = opened()
    ended = state.ended(running, state.AGENT_RELEASED)
    events: List[Any] = [slot(running), slot(ended), UserUtteranceReverted()]
    assert state.current(events) == ended and state.active(events) is None


def test_a_restart_forgets_and_a_new_session_starts_from_what_it_carried_over() -> None:
    running = opened()
    assert state.current([slot(running), Restarted()]) is None
    assert state.current([slot(running), SessionStarted()]) is None
    assert state.current([slot(running), SessionStarted(), slot(running)]) == running


def test_a_growing_tracker_s_record_is_seen_at_once() -> None:
    """`current` keeps its answer for a Rasa tracker's events and carries it on with what is
    appended (`event_folds`); a rasa-sdk tracker's dicts are read whole each time."""
    running = opened()
    joined = state.agent_joined(running, "Alex", at=160.0)
    tracker = DialogueStateTracker("alice", slots=[AnySlot(constants.SLOT_HANDOFF, mappings=[])])
    tracker.update(slot(running))
    assert state.current(tracker.events) == running
    tracker.update(slot(joined))
    assert state.current(tracker.events) == joined
    tracker.update(Restarted())
    assert state.current(tracker.events) is None
    as_dicts: List[Any] = [{"event": "slot", "name": constants.SLOT_HANDOFF, "value": None}]
    assert state.current(as_dicts) is None
    as_dicts.append({"event": "slot", "name": constants.SLOT_HANDOFF, "value": joined.as_slot()})
    assert state.current(as_dicts) == joined


def test_the_running_handoff_of_a_conversation_only() -> None:
    events = [slot(opened())]
    assert state.active_for(events, CONVERSATION) is not None
    assert state.active_for(events, "another-conversation") is None
    assert state.active_for([slot(state.ended(opened(), state.USER_ENDED))], CONVERSATION) is None


def test_the_same_from_event_dicts_as_the_action_server_gets_them() -> None:
    running = opened()
    events = [{"event": "slot", "name": constants.SLOT_HANDOFF, "value": running.as_slot()}]
    assert state.current(events) == running


def user(text: str, message_id: str) -> UserUttered:
    return UserUttered(text, message_id=message_id)


def test_pending_messages_are_those_of_this_handoff_after_the_last_dealt_with() -> None:
    running = opened()
    events: List[Any] = [
        user("before the handoff", "m0"),
        slot(running),
        user("first", "m1"),
        ActionExecuted(constants.ACTION_RELAY),
        slot(state.handled(running, "m1")),
        user("second", "m2"),
        user(POLL_COMMAND, "poll"),  # a front end asking for news is no message
        user("third", "m3"),
    ]
    handled = state.handled(running, "m1")
    assert [e.text for e in state.pending_messages(events, handled)] == ["second", "third"]
    assert [e.text for e in state.pending_messages(events, running)] == ["first", "second", "third"]


def test_an_ended_handoff_is_rated_once_from_1_to_5() -> None:
    opened = state.opened("conv-rated", at=100.0)
    with pytest.raises(state.TransitionError):
        state.rated(opened, 4)  # still running
    ended = state.ended(opened, state.TICKET_SOLVED, at=200.0)
    for wrong in (0, 6, "4"):
        with pytest.raises(state.TransitionError):
            state.rated(ended, wrong)  # type: ignore[arg-type]
    rated = state.rated(ended, 4, at=300.0)
    assert (rated.csat_rating, rated.csat_at, rated.state) == (4, 300.0, state.ENDED)
    assert state.Handoff.from_slot(rated.as_slot()) == rated
    with pytest.raises(state.TransitionError):
        state.rated(rated, 5)
