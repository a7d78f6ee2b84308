"""The handoff's whole life with real processes: the example bot in `rasa run`, `rasa run
actions`, the emulator, and a web chat user on socket.io.

Time is the plugin's clock: both servers read `ZENDESK_CLOCK_FILE`, and the test moves it on
instead of waiting (agent timeout 600 s, max duration 7200 s here).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest

from demo.stack import DemoStack
from rasa_zendesk import constants
from rasa_zendesk.handoff import endings, state
from testkit.clock_file import ClockFile
from testkit.emulator_control import EmulatorControl, user_texts, wait_for
from testkit.events_table import EventsTable
from testkit.processes import running_stack
from testkit.socket_user import SocketUser
from testkit.stack_users import COMMENT, ENDED, GREETING, RATE, STARTED, THANKS

pytestmark = pytest.mark.e2e

OFFER = "No agent is free yet"
KEEP_WAITING = "still in the queue"
RELAY_FAILED = "couldn't reach the agent just now"
FEEDBACK = "Did our team solve your problem?"
#: The example bot's `action_after_handoff`, by the outcome of the handoff.
FAQ = "Our FAQ answers most questions"
GOODBYE_BY_EMAIL = "Watch your inbox"


@pytest.fixture(scope="module")
def stack(trained_model: Path, clock_file: Path) -> Iterator[DemoStack]:
    env = {
        "ZENDESK_AGENT_TIMEOUT": "600",
        "ZENDESK_IDLE_TIMEOUT": "0",
        "ZENDESK_MAX_DURATION": "7200",
    }
    with running_stack(trained_model, "lifecycle", extra_env=env, clock_file=clock_file) as stack:
        yield stack


async def hand_off(user: SocketUser, emulator: EmulatorControl) -> str:
    await user.next_text(await user.say("I want to talk to a human"), contains=STARTED)
    conversation = await wait_for(
        lambda: emulator.handed_off_conversation(user.session_id), "the agents have it"
    )
    return str(conversation["id"])


def record(tracker: EventsTable, sender: str) -> state.Handoff:
    handoff = tracker.handoff(sender)
    assert handoff is not None
    return handoff


def ended_record(tracker: EventsTable, sender: str) -> Optional[state.Handoff]:
    handoff = tracker.handoff(sender)
    return handoff if handoff is not None and handoff.state == state.ENDED else None


async def released_with(emulator: EmulatorControl, conversation_id: str) -> Optional[Dict]:
    calls = await emulator.requests(f"/conversations/{conversation_id}/releaseControl")
    return calls[-1]["body"] if calls else None


@pytest.mark.timeout(300)
async def test_no_agent_comes_a_sigkill_then_the_timer_fires_from_the_store(
    stack: DemoStack,
    user: SocketUser,
    emulator: EmulatorControl,
    tracker: EventsTable,
    clock: ClockFile,
) -> None:
    """Nothing arrives at all: the Rasa server dies (SIGKILL) and comes back, and its timer,
    found in the tracker store, offers the choices; waiting on restarts it; the bot back."""
    conversation_id = await hand_off(user, emulator)
    stack.rasa.kill()
    await asyncio.to_thread(stack.restart_rasa)
    await user.wait_session_confirmed(2, timeout=60)

    mark = len(user.received)
    clock.advance(601)
    offer = await user.next_text(mark, contains=OFFER, timeout=30)
    assert offer
    await wait_for(  # stored right after the user is told
        lambda: record(tracker, user.session_id).agent_timeout_offered_at, "the offer stored"
    )

    mark = len(user.received)
    await user.next_text(await user.say("/wait"), contains=KEEP_WAITING)
    clock.advance(601)  # the agent timeout counts again from "keep waiting"
    await user.next_text(mark, contains=OFFER, timeout=30)

    mark = await user.say("back to the bot")
    await user.next_text(mark, contains=ENDED)
    await user.next_text(mark, contains=FAQ)  # the example bot's after_handoff_action
    ended = await wait_for(lambda: ended_record(tracker, user.session_id), "the end stored")
    assert ended.end_reason == state.AGENT_TIMEOUT
    outcome = tracker.slot(user.session_id, constants.SLOT_HANDOFF_OUTCOME)
    assert outcome["reason"] == state.AGENT_TIMEOUT and outcome["agent_name"] is None
    assert outcome["wait_seconds"] == outcome["duration_seconds"] >= 1202
    release = await wait_for(lambda: released_with(emulator, conversation_id), "the release")
    assert release["metadata"] == {constants.END_REASON_KEY: state.AGENT_TIMEOUT}
    await user.next_text(await user.say("hi"), contains=GREETING)  # the bot answers again


@pytest.mark.timeout(300)
async def test_a_handoff_never_outlives_max_duration(
    user: SocketUser, emulator: EmulatorControl, tracker: EventsTable, clock: ClockFile
) -> None:
    conversation_id = await hand_off(user, emulator)
    mark = len(user.received)
    await emulator.agent_message(conversation_id, text="Hi, Alex here")
    await user.next_text(mark, contains="Hi, Alex here")
    mark = len(user.received)
    clock.advance(7201)
    await user.next_text(mark, contains=ENDED, timeout=30)
    await user.next_text(mark, contains=FEEDBACK)  # after a timer's end too
    ended = await wait_for(lambda: ended_record(tracker, user.session_id), "the end stored")
    assert ended.end_reason == state.MAX_DURATION and ended.agent_name
    release = await wait_for(lambda: released_with(emulator, conversation_id), "the release")
    assert release["metadata"] == {constants.END_REASON_KEY: state.MAX_DURATION}


@pytest.mark.timeout(300)
async def test_the_action_server_down_loses_no_message(
    stack: DemoStack,
    user: SocketUser,
    emulator: EmulatorControl,
    tracker: EventsTable,
) -> None:
    await hand_off(user, emulator)
    stack.actions.stop()
    mark = await user.say("my parcel is lost")
    await user.next_text(mark, contains=RELAY_FAILED)  # at once, from Rasa itself

    stack.actions.start()
    await asyncio.to_thread(stack.actions.wait_ready)
    await user.say("it was a birthday present")
    texts = await wait_for(
        lambda: _texts_ending_with(emulator, user.session_id, "it was a birthday present"),
        "both messages with the agent",
        timeout=60,
    )
    late = [text for text in texts if "my parcel is lost" in text]
    assert len(late) == 1 and "sent late" in late[0]
    assert texts.index(late[0]) < texts.index("it was a birthday present")
    assert record(tracker, user.session_id).active


@pytest.mark.timeout(300)
async def test_a_lost_hand_back_is_found_out_by_the_next_message(
    user: SocketUser, emulator: EmulatorControl, tracker: EventsTable, clock: ClockFile
) -> None:
    """Every try of the hand-back webhook is lost (the emulator drops it), and so is the
    ticket's status change. The user writes later: the relay learns from Zendesk, the handoff
    ends, and the bot answers."""
    conversation_id = await hand_off(user, emulator)
    await emulator.webhook_mode(mode="drop", handback=True)
    await emulator.webhook_mode(kind="ticket", mode="drop", conversationId=conversation_id)
    await emulator.solve(conversation_id)
    clock.advance(400)  # later than the relay's patience with a silent Zendesk
    mark = await user.say("hi")
    await user.next_text(mark, contains=ENDED)
    await user.next_text(mark, contains=GREETING)  # the bot answered that very message
    ended = await wait_for(lambda: ended_record(tracker, user.session_id), "the end stored")
    assert ended.end_reason == state.CONVERSATION_GONE
    assert "hi" not in user_texts(await emulator.conversation_of(user.session_id) or {})


@pytest.mark.timeout(300)
async def test_restart_ends_the_handoff_first(
    user: SocketUser, emulator: EmulatorControl, tracker: EventsTable
) -> None:
    conversation_id = await hand_off(user, emulator)
    await user.say("/restart")
    release = await wait_for(lambda: released_with(emulator, conversation_id), "the release")
    assert release["metadata"] == {constants.END_REASON_KEY: state.RESTART}
    restarted = await wait_for(
        lambda: any(e.get("event") == "restart" for e in tracker.events(user.session_id)),
        "Rasa's restart",
    )
    assert restarted
    await user.next_text(await user.say("hi"), contains=GREETING)


async def _texts_ending_with(emulator: EmulatorControl, sender: str, last: str) -> Optional[list]:
    conversation = await emulator.conversation_of(sender)
    texts = user_texts(conversation) if conversation else []
    return texts if texts and texts[-1] == last else None


@pytest.mark.timeout(300)
async def test_moved_to_email_the_user_is_told_and_the_bot_is_back(
    user: SocketUser, emulator: EmulatorControl, tracker: EventsTable
) -> None:
    conversation_id = await hand_off(user, emulator)
    mark = len(user.received)
    await emulator.solve(conversation_id, reason="transferToEmail")
    await user.next_text(mark, contains="continue this conversation by email")
    await user.next_text(mark, contains=GOODBYE_BY_EMAIL)  # the example bot's after the end
    ended = await wait_for(lambda: ended_record(tracker, user.session_id), "the end stored")
    assert ended.end_reason == state.TRANSFER_TO_EMAIL
    outcome = tracker.slot(user.session_id, constants.SLOT_HANDOFF_OUTCOME)
    assert outcome == endings.outcome(ended)
    await user.next_text(await user.say("hi"), contains=GREETING)


@pytest.mark.timeout(300)
async def test_solved_the_user_is_told_at_once_and_the_close_later_says_nothing(
    user: SocketUser, emulator: EmulatorControl, tracker: EventsTable
) -> None:
    """Zendesk's ticket webhook (signed, `--ticket-webhook-url` of the stack) ends the
    handoff when the agent solves the ticket; Agent Workspace gives the conversation back
    only when the ticket closes, and that says nothing more to the user."""
    conversation_id = await hand_off(user, emulator)
    mark = len(user.received)
    await emulator.agent_message(conversation_id, text="Your refund is on its way.")
    await user.next_text(mark, contains="refund is on its way")
    mark = len(user.received)
    ticket = await emulator.set_ticket_status(conversation_id, "solved")
    await user.next_text(mark, contains=ENDED)
    await user.next_text(mark, contains=RATE)  # the example bot's after_handoff_action
    ended = await wait_for(lambda: ended_record(tracker, user.session_id), "the end stored")
    assert ended.end_reason == state.TICKET_SOLVED
    assert (ended.ticket_id, ended.ticket_status) == (str(ticket["id"]), "SOLVED")
    await user.next_text(await user.say("5"), contains=COMMENT)
    await user.next_text(await user.say("no"), contains=THANKS)
    await user.next_text(await user.say("hi"), contains=GREETING)

    mark = len(user.received)
    await emulator.set_ticket_status(conversation_id, "closed")
    await emulator.wait_idle()
    deliveries = await emulator.ticket_deliveries(conversationId=conversation_id)
    assert [d["status"] for d in deliveries] == ["delivered"] * len(deliveries)
    statuses = [d["payload"]["event"]["current"] for d in deliveries]
    assert statuses[-2:] == ["SOLVED", "CLOSED"]  # each change told to the plugin
    await user.assert_silent(mark, window=2.0)
    assert len([t for t in user.texts if t and ENDED in t]) == 1
    assert record(tracker, user.session_id).end_reason == state.TICKET_SOLVED
