"""Kill the Rasa server in the middle of a handoff and start it again on the same SQLite tracker
store: the handoff goes on in both directions and nothing is lost.

The agent's messages sent while Rasa is down reach it through the emulator's webhook retries
(up to 11 attempts over 3.5 minutes: enough for a restart on a busy machine).

One ordering is pinned down: a retry must not land in the second between Rasa accepting
connections again and the web chat rejoining its session (socket.io would push the message to
an empty room; SunCo's retries, minutes apart, practically never hit it). So while Rasa restarts
the emulator's webhook target is a closed port, and it is pointed back at Rasa once the web chat
is back: the next scheduled retry then delivers.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, Dict

import pytest

from testkit.emulator_control import EmulatorControl, wait_for
from testkit.events_table import EventsTable
from testkit.processes import free_ports, running_stack
from testkit.socket_user import SocketUser

pytestmark = pytest.mark.e2e

RETRY_DELAYS = "2,4,8,16,30,30,30,30,30,30"
LONGEST_DELAY = 30


@pytest.mark.timeout(300)
async def test_rasa_restart_in_the_middle_of_a_handoff(trained_model: Path) -> None:
    with running_stack(
        trained_model, "restart", emulator_args=["--webhook-retry-delays", RETRY_DELAYS]
    ) as stack:
        assert stack.config.tracker_db is not None
        tracker = EventsTable.sqlite(stack.config.tracker_db)
        emulator = EmulatorControl(stack.emulator_url)
        user = SocketUser(stack.rasa_url, uuid.uuid4().hex)
        try:
            await _scenario(stack, user, emulator, tracker)
        finally:
            await user.close()
            await emulator.close()


async def _scenario(
    stack: Any, user: SocketUser, emulator: EmulatorControl, tracker: EventsTable
) -> None:
    sender = user.session_id
    await user.connect()
    await user.next_text(await user.say("hi"), contains="Acme support bot")
    await user.next_text(
        await user.say("I want to talk to a human"), contains="connecting you with a human agent"
    )
    conversation = await wait_for(
        lambda: emulator.handed_off_conversation(sender), "the conversation with Agent Workspace"
    )
    conversation_id = conversation["id"]
    mark = len(user.received)
    await emulator.agent_message(conversation_id, text="A: hello from the agent")
    await user.next_text(mark, contains="A: hello")
    # Its webhook answered too (the user sees a message before it is recorded and answered):
    # the crash is after it, not in the middle of it.
    await emulator.wait_idle()

    # Rasa crashes. The agent goes on writing.
    stack.rasa.kill()
    (closed_port,) = free_ports(1)
    await emulator.set_webhook_url(f"http://127.0.0.1:{closed_port}/webhooks/zendesk/webhook")
    mark = len(user.received)
    late = await emulator.agent_message(conversation_id, text="B: are you still there?")
    await emulator.agent_message(conversation_id, text="C: I found your order.")
    failed = await wait_for(
        lambda: _attempts(emulator, late["message"]["id"], 1),
        "a failed delivery attempt while Rasa is down",
    )
    assert failed["status"] == "pending"
    assert all(attempt["status"] is None for attempt in failed["attempts"])

    # Rasa comes back on the same tracker store; the web chat reconnects to its session.
    await asyncio.to_thread(stack.restart_rasa)
    await user.wait_session_confirmed(2, timeout=30)
    await emulator.set_webhook_url(stack.webhook_url)

    # The retried webhooks arrive, once each, in order.
    await user.next_text(mark, contains="B: are you still there?", timeout=LONGEST_DELAY + 20)
    await user.next_text(mark, contains="C: I found your order.")
    delivered = await emulator.delivery_of_message(late["message"]["id"])
    assert delivered is not None and delivered["status"] == "delivered"
    assert len(delivered["attempts"]) >= 2, "B was delivered by a retry"
    texts = user.texts
    assert texts.index("B: are you still there?") < texts.index("C: I found your order.")

    # Both directions work after the restart: the user's message goes to the agent (the bot
    # stays quiet), the agent's next reply comes back.
    mark = len(user.received)
    await user.say("Great, thanks for checking")
    await wait_for(
        lambda: emulator.has_user_message(sender, "Great, thanks for checking"),
        "the user's message in Zendesk after the restart",
    )
    await user.assert_silent(mark, window=2.0)
    await emulator.agent_message(conversation_id, text="D: you're welcome")
    await user.next_text(mark, contains="D: you're welcome")

    # Nothing lost, nothing doubled: in the tracker store and on the screen.
    await wait_for(
        lambda: len(tracker.agent_texts(sender)) >= 4, "four agent messages in the tracker"
    )
    assert tracker.agent_texts(sender) == [
        "A: hello from the agent",
        "B: are you still there?",
        "C: I found your order.",
        "D: you're welcome",
    ]
    for text in tracker.agent_texts(sender):
        assert user.texts.count(text) == 1
    user_texts = [e.get("text") for e in tracker.events(sender) if e.get("event") == "user"]
    assert user_texts[:2] == ["hi", "I want to talk to a human"]
    assert "Great, thanks for checking" in user_texts
    handoff = tracker.handoff(sender)
    assert handoff is not None and handoff.active


async def _attempts(emulator: EmulatorControl, message_id: str, count: int) -> Dict[str, Any]:
    delivery = await emulator.delivery_of_message(message_id)
    if delivery and len(delivery["attempts"]) >= count:
        return delivery
    return {}
