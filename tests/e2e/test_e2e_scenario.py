"""The whole handoff with real processes: a web chat user on socket.io, `rasa run` with the
trained example bot, `rasa run actions`, and the Zendesk emulator acting as the agent's desk.
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Optional

import httpx
import pytest

from demo.stack import BILLING_GROUP, CUSTOMER_ID_FIELD, ORDER_NUMBER_FIELD, DemoStack
from rasa_zendesk import constants
from rasa_zendesk.handoff import state
from testkit.emulator_control import EmulatorControl, user_texts, wait_for
from testkit.events_table import EventsTable
from testkit.socket_user import SocketUser
from testkit.stack_users import COMMENT, ENDED, GREETING, RATE, STARTED, THANKS

pytestmark = pytest.mark.e2e

CUSTOMER = constants.SLOT_EXTERNAL_ID


def bot_events_for(tracker: EventsTable, sender_id: str, message_id: str) -> List[Dict[str, Any]]:
    return [
        event
        for event in tracker.bot_events(sender_id)
        if (event.get("metadata") or {}).get(constants.EVENT_ZENDESK_MESSAGE_ID) == message_id
    ]


@pytest.mark.timeout(240)
async def test_handoff_to_an_agent_and_back(
    user: SocketUser, emulator: EmulatorControl, tracker: EventsTable
) -> None:
    sender = user.session_id

    # 1. The bot answers a greeting by itself: no Zendesk call at all.
    calls_before = len(await emulator.requests())
    await user.next_text(await user.say("hi"), contains=GREETING)
    assert len(await emulator.requests()) == calls_before
    assert await emulator.conversation_of(sender) is None

    # 2. Asking for a human opens a conversation: summary first, then passControl to Agent
    #    Workspace with first_message_id pointing at it.
    await user.next_text(await user.say("I want to talk to a human"), contains=STARTED)
    conversation = await wait_for(
        lambda: emulator.conversation_of(sender), "the conversation in Zendesk"
    )
    conversation_id = conversation["id"]
    conversation = await wait_for(
        lambda: emulator.handed_off_conversation(sender), "the conversation with Agent Workspace"
    )
    assert conversation["activeSwitchboardIntegration"]["name"] == constants.AGENT_WORKSPACE
    assert conversation["metadata"][constants.CONVERSATION_SENDER_ID] == sender
    assert conversation["metadata"][constants.CONVERSATION_INPUT_CHANNEL] == "socketio"
    summary = conversation["messages"][0]
    assert summary["author"]["type"] == "business"
    assert summary["metadata"][constants.ORIGIN_KEY] == constants.ORIGIN_VALUE
    assert summary["content"]["type"] == "text" and summary["content"]["text"].strip()
    assert "] User: hi\n" in summary["content"]["text"], "the transcript has the user's turns"
    assert user_texts(conversation) == [], "the transcript is the bot's, not posts as the user"
    pass_control = await emulator.requests(f"/conversations/{conversation_id}/passControl")
    assert [call["status"] for call in pass_control] == [200]
    body = pass_control[0]["body"]
    assert body["switchboardIntegration"] == constants.AGENT_WORKSPACE
    assert body["metadata"]["first_message_id"] == summary["id"]
    handoff = tracker.handoff(sender)
    assert handoff is not None and handoff.state == state.WAITING
    assert handoff.conversation_id == conversation_id

    # 3. The user's next messages go to the agent, authored by the user; the bot stays silent.
    for text in ("My order 12345678 never arrived", "It was a birthday present"):
        mark = await user.say(text)
        await wait_for(
            lambda text=text: emulator.has_user_message(sender, text),
            f"{text!r} in the Zendesk conversation",
        )
    await user.assert_silent(mark, window=3.0)

    # 4. Agent text, image and file reach the web chat and the tracker.
    mark = len(user.received)
    reply = await emulator.agent_message(conversation_id, text="Hi, I'm Alex. Let me check.")
    text_id = reply["message"]["id"]
    await user.next_text(mark, contains="Let me check")
    await wait_for(
        lambda: bot_events_for(tracker, sender, text_id), "the agent's text in the tracker"
    )

    image_url = emulator.sample_url("receipt.png")
    mark = len(user.received)
    image = await emulator.agent_message(conversation_id, type="image", mediaUrl=image_url)
    shown = await user.next_message(
        mark, lambda m: "attachment" in m.data, "the agent's image in the web chat"
    )
    assert shown.data["attachment"] == {"type": "image", "payload": {"src": image_url}}
    [event] = await wait_for(
        lambda: bot_events_for(tracker, sender, image["message"]["id"]),
        "the agent's image in the tracker",
    )
    assert event["data"]["image"] == image_url

    file_url = emulator.sample_url("invoice.pdf")
    mark = len(user.received)
    document = await emulator.agent_message(conversation_id, type="file", mediaUrl=file_url)
    link = await user.next_text(mark, contains=file_url)
    assert link == f"[invoice.pdf]({file_url})"
    [event] = await wait_for(
        lambda: bot_events_for(tracker, sender, document["message"]["id"]),
        "the agent's file in the tracker",
    )
    assert event["data"]["attachment"]["payload"]["src"] == file_url

    # 5. A webhook delivered again (as SunCo retries) is applied once.
    delivery = await wait_for(
        lambda: emulator.delivery_of_message(text_id), "the agent text's webhook delivery"
    )
    assert delivery["status"] == "delivered"
    attempts = len(delivery["attempts"])
    mark = len(user.received)
    await emulator.redeliver(delivery["eventId"])
    redelivered = await wait_for(
        lambda: _redelivered(emulator, text_id, attempts), "the redelivery to be answered"
    )
    assert 200 <= redelivered["attempts"][-1]["status"] < 300
    await user.assert_silent(mark, window=2.0)
    assert len(bot_events_for(tracker, sender, text_id)) == 1
    assert user.texts.count("Hi, I'm Alex. Let me check.") == 1

    # 6. Solving the ticket hands the user back to the bot, which answers again.
    mark = len(user.received)
    await emulator.solve(conversation_id)
    await user.next_text(mark, contains=ENDED)
    ended = await wait_for(
        lambda: _ended(tracker, sender), "the handoff to end in the tracker store"
    )
    # Zendesk's ticket event (CLOSED) or Agent Workspace's release, whichever came first.
    assert ended.end_reason in (state.TICKET_CLOSED, state.TICKET_SOLVED) and ended.agent_name
    messages_before = len((await emulator.conversation_of(sender))["messages"])
    if ended.end_reason == state.TICKET_SOLVED:
        # The example bot's after_handoff_action: an agent solved it, so its CSAT form asks.
        await user.next_text(mark, contains=RATE)
        await user.next_text(await user.say("4"), contains=COMMENT)
        await user.next_text(await user.say("no"), contains=THANKS)
    await user.next_text(await user.say("hello"), contains=GREETING)
    conversation = await emulator.conversation_of(sender)
    assert len(conversation["messages"]) == messages_before, "nothing relayed after the handoff"


async def _ended(tracker: EventsTable, sender: str) -> Optional[state.Handoff]:
    handoff = tracker.handoff(sender)
    return handoff if handoff is not None and handoff.state == state.ENDED else None


async def _redelivered(emulator: EmulatorControl, message_id: str, attempts: int) -> Any:
    delivery = await emulator.delivery_of_message(message_id)
    if delivery and delivery["redeliveries"] >= 1 and len(delivery["attempts"]) > attempts:
        if delivery["attempts"][-1]["status"] is not None:
            return delivery
    return None


async def say_as(user: SocketUser, text: str, customer: str) -> int:
    """A web chat message whose metadata names the customer, as a logged-in page passes it
    (rasa-webchat's customData, the example bot's socket.io `metadata_key`)."""
    mark = len(user.received)
    payload = {"message": text, "session_id": user.session_id, "customData": {CUSTOMER: customer}}
    await user.client.emit("user_uttered", payload)
    return mark


async def rest_says(url: str, sender: str, text: str, customer: str) -> List[Dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        body = {"sender": sender, "message": text, "metadata": {CUSTOMER: customer}}
        answer = await http.post("/webhooks/rest/webhook", json=body)
    answer.raise_for_status()
    return answer.json()


@pytest.mark.timeout(240)
async def test_a_billing_question_lands_with_the_billing_group_and_two_fields(
    user: SocketUser, emulator: EmulatorControl
) -> None:
    """The example bot's routing (`demo.stack.EXAMPLE_BOT_ENV`): the group by the billing
    intent, the order number and the customer's id from slots into custom fields."""
    customer = "cust-" + uuid.uuid4().hex[:8]
    mark = await say_as(user, '/order_status{"order_number": "12345678"}', customer)
    await user.next_text(mark, contains="Order 12345678")
    await user.next_text(await say_as(user, "/billing_question", customer), contains="billing")
    await user.next_text(await say_as(user, "I want to talk to a human", customer), STARTED)
    conversation = await wait_for(
        lambda: emulator.handed_off_conversation(user.session_id), "the agents have it"
    )
    metadata = conversation["handoffMetadata"]
    assert metadata["dataCapture.systemField.group_id"] == BILLING_GROUP
    assert metadata[f"dataCapture.ticketField.{ORDER_NUMBER_FIELD}"] == "12345678"
    assert metadata[f"dataCapture.ticketField.{CUSTOMER_ID_FIELD}"] == customer
    assert conversation["ticket"] is not None


@pytest.mark.timeout(240)
async def test_one_customer_on_two_channels_is_one_user_with_two_handoffs(
    stack: DemoStack, user: SocketUser, emulator: EmulatorControl, tracker: EventsTable
) -> None:
    """Web chat and REST at once, one customer: one messaging user in Zendesk, a
    conversation and a handoff per channel, each agent's words only in their own."""
    customer = "cust-" + uuid.uuid4().hex[:8]
    rest_sender = "rest-" + uuid.uuid4().hex[:12]
    await user.next_text(await say_as(user, "I want to talk to a human", customer), STARTED)
    answer = await rest_says(stack.rasa_url, rest_sender, "I want to talk to a human", customer)
    assert any(STARTED in (m.get("text") or "") for m in answer)
    web = await wait_for(lambda: emulator.handed_off_conversation(user.session_id), "web")
    rest = await wait_for(lambda: emulator.handed_off_conversation(rest_sender), "rest")

    users = [u for u in (await emulator.state())["users"] if u["externalId"] == customer]
    assert len(users) == 1
    assert web["id"] != rest["id"]
    assert web["participants"][0]["id"] == rest["participants"][0]["id"] == users[0]["id"]
    for sender in (user.session_id, rest_sender):
        handoff = tracker.handoff(sender)
        assert handoff is not None and handoff.active and handoff.user_external_id == customer

    mark = len(user.received)
    await emulator.agent_message(web["id"], text="Hi, web chat, Ana here")
    await emulator.agent_message(rest["id"], text="Hi, REST, Ben here")
    await user.next_text(mark, contains="Ana here")
    await wait_for(lambda: "Hi, REST, Ben here" in tracker.agent_texts(rest_sender), "Ben")
    await wait_for(lambda: tracker.agent_texts(user.session_id), "Ana's record")
    assert tracker.agent_texts(user.session_id) == ["Hi, web chat, Ana here"]
    assert tracker.agent_texts(rest_sender) == ["Hi, REST, Ben here"]
    assert "Ben here" not in " ".join(t or "" for t in user.texts)
