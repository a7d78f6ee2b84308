"""Which switchboard events give the conversation back, and with which end reason
(`rasa_zendesk.channel.handlers.switchboard`)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet

from rasa_zendesk import constants
from rasa_zendesk.channel.handlers.switchboard import reason_of_hand_back
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.webhooks import parse_event
from testkit.channel_harness import (
    AGENT_WORKSPACE,
    HANDOFF_ENDED_TEXT,
    Handoff,
    RasaServer,
    content,
    load_domain,
    new_id,
    open_web_chat,
    pass_control_webhook,
    release_webhook,
    start_handoff,
    start_rasa,
)

BOT = {"id": "sbi_bot", "name": "rasa", "integrationId": "int_rasa", "integrationType": "custom"}


def release(reason: Optional[str]) -> Dict[str, Any]:
    envelope = release_webhook("conv", "sender")
    payload = envelope["events"][0]["payload"]
    payload.pop("reason")
    if reason:
        payload["reason"] = reason
    return envelope


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        (release(None), state.AGENT_RELEASED),
        (release("ticketClosed"), state.TICKET_CLOSED),
        (release("transferToEmail"), state.TRANSFER_TO_EMAIL),
        (release("somethingNew"), state.AGENT_RELEASED),
        (pass_control_webhook("conv", "sender", BOT, "ticketClosed"), state.TICKET_CLOSED),
        (pass_control_webhook("conv", "sender", AGENT_WORKSPACE, "ticketClosed"), None),
        (pass_control_webhook("conv", "sender", AGENT_WORKSPACE, None), None),
        (pass_control_webhook("conv", "sender", BOT, None), None),
        (pass_control_webhook("conv", "sender", BOT, "transferToEmail"), None),
    ],
)
def test_the_end_reason_of_a_hand_back(envelope: Dict[str, Any], reason: Optional[str]) -> None:
    assert reason_of_hand_back(parse_event(envelope["events"][0])) == reason


async def assert_handoff_over(
    rasa: RasaServer, sender_id: str, event_id: str, reason: str = state.TICKET_CLOSED
) -> None:
    tracker = await rasa.tracker(sender_id)
    handoff = state.current(tracker.events)
    assert handoff is not None and handoff.state == state.ENDED
    assert handoff.end_reason == reason and handoff.ended_at is not None
    assert tracker.get_slot(constants.SLOT_HANDOFF) == handoff.as_slot()
    closing = [e for e in tracker.events if e.metadata.get(constants.EVENT_ZENDESK_EVENT_ID)]
    assert [type(e).__name__ for e in closing] == ["SlotSet", "BotUttered", "ActionExecuted"]
    assert tracker.latest_action_name == "action_listen"
    assert {e.metadata[constants.EVENT_ZENDESK_EVENT_ID] for e in closing} == {event_id}


@pytest.mark.timeout(30)
async def test_release_control_ends_the_handoff_and_tells_the_user(
    rasa: RasaServer, handoff: Handoff
) -> None:
    webhook = release_webhook(handoff.conversation_id, handoff.sender_id)
    event_id = webhook["events"][0]["id"]

    answer = await rasa.post_webhook(webhook)

    assert answer.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert await handoff.chat.next_message() == {"text": HANDOFF_ENDED_TEXT}
    await assert_handoff_over(rasa, handoff.sender_id, event_id)
    [*_, notice] = await rasa.bot_events(handoff.sender_id)
    assert notice.text == HANDOFF_ENDED_TEXT
    assert notice.metadata["utter_action"] == "utter_zendesk_handoff_ended"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("sunco_reason", "end_reason"),
    [
        (None, state.AGENT_RELEASED),
        ("transferToEmail", state.TRANSFER_TO_EMAIL),
        (constants.REASON_TICKET_CLOSED, state.TICKET_CLOSED),
    ],
)
async def test_the_handoff_ends_with_sunco_s_reason(
    rasa: RasaServer, handoff: Handoff, sunco_reason: Optional[str], end_reason: str
) -> None:
    webhook = release_webhook(handoff.conversation_id, handoff.sender_id)
    payload = webhook["events"][0]["payload"]
    payload.pop("reason")
    if sunco_reason:
        payload["reason"] = sunco_reason

    assert (await rasa.post_webhook(webhook)).json()["processed"] == 1

    await handoff.chat.next_message()
    await assert_handoff_over(rasa, handoff.sender_id, webhook["events"][0]["id"], end_reason)


@pytest.mark.timeout(30)
async def test_a_second_release_does_nothing(rasa: RasaServer, handoff: Handoff) -> None:
    await rasa.post_webhook(release_webhook(handoff.conversation_id, handoff.sender_id))
    await handoff.chat.next_message()
    before = await rasa.tracker(handoff.sender_id)

    # Our own releaseControl (the user ended the handoff) coming back, or a retry.
    again = await rasa.post_webhook(release_webhook(handoff.conversation_id, handoff.sender_id))

    assert again.json() == {"status": "ok", "processed": 0, "ignored": 1}
    assert len((await rasa.tracker(handoff.sender_id)).events) == len(before.events)
    handoff.chat.assert_no_more_messages()
    # An agent who writes after the handoff ended still reaches the user: never a silent drop.
    late = await rasa.post_webhook(handoff.message(content("text")))
    assert late.json()["processed"] == 1
    assert "text" in await handoff.chat.next_message()
    handoff.chat.assert_no_more_messages()


@pytest.mark.timeout(30)
async def test_a_retried_release_is_applied_once(rasa: RasaServer, handoff: Handoff) -> None:
    webhook = release_webhook(handoff.conversation_id, handoff.sender_id)
    await rasa.post_webhook(webhook)
    await handoff.chat.next_message()
    # The user escalates again: a new handoff, in a new SunCo conversation.
    second_conversation = "conv_" + new_id()
    tracker = await rasa.store.retrieve(handoff.sender_id)
    assert tracker is not None
    tracker.update(SlotSet(constants.SLOT_HANDOFF, state.opened(second_conversation).as_slot()))
    await rasa.store.save(tracker)

    again = await rasa.post_webhook(webhook)
    old_conversation = await rasa.post_webhook(
        release_webhook(handoff.conversation_id, handoff.sender_id)
    )

    assert again.json()["ignored"] == 1
    assert old_conversation.json()["ignored"] == 1
    tracker = await rasa.tracker(handoff.sender_id)
    running = state.active(tracker.events)
    assert running is not None and running.conversation_id == second_conversation
    handoff.chat.assert_no_more_messages()


@pytest.mark.timeout(30)
async def test_pass_control_on_ticket_close_ends_the_handoff(
    rasa: RasaServer, handoff: Handoff
) -> None:
    webhook = pass_control_webhook(
        handoff.conversation_id, handoff.sender_id, BOT, constants.REASON_TICKET_CLOSED
    )

    answer = await rasa.post_webhook(webhook)

    assert answer.json()["processed"] == 1
    assert await handoff.chat.next_message() == {"text": HANDOFF_ENDED_TEXT}
    await assert_handoff_over(rasa, handoff.sender_id, webhook["events"][0]["id"])


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "active, reason",
    [
        (AGENT_WORKSPACE, None),  # the escalation itself
        (AGENT_WORKSPACE, constants.REASON_TICKET_CLOSED),
        (BOT, None),
        (BOT, "transferToEmail"),
    ],
)
async def test_other_pass_control_events_leave_the_handoff_on(
    rasa: RasaServer, handoff: Handoff, active: dict, reason: str
) -> None:
    webhook = pass_control_webhook(handoff.conversation_id, handoff.sender_id, active, reason)

    answer = await rasa.post_webhook(webhook)

    assert answer.json() == {"status": "ok", "processed": 0, "ignored": 1}
    tracker = await rasa.tracker(handoff.sender_id)
    assert state.active(tracker.events) is not None
    handoff.chat.assert_no_more_messages()


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("email", "said"),
    [
        (None, "by email (the address we have for you)"),
        ("jane@example.com", "by email (jane@example.com)"),
    ],
)
async def test_moved_to_email_the_user_learns_where_it_goes_on(
    db_path: Path, email: Optional[str], said: str
) -> None:
    data = copy.deepcopy(load_domain().as_dict())
    data["slots"]["email"] = {"type": "text", "mappings": [{"type": "custom"}]}
    rasa = await start_rasa(db_path, domain=Domain.from_dict(data))
    sender_id, conversation_id = "webchat-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id)
    if email:
        tracker = await rasa.store.retrieve(sender_id)
        assert tracker is not None
        tracker.update(SlotSet("email", email))
        await rasa.store.save(tracker)
    chat = await open_web_chat(rasa.url, sender_id)
    try:
        webhook = release_webhook(conversation_id, sender_id)
        webhook["events"][0]["payload"]["reason"] = "transferToEmail"
        assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
        assert said in (await chat.next_message())["text"]
        await assert_handoff_over(
            rasa, sender_id, webhook["events"][0]["id"], state.TRANSFER_TO_EMAIL
        )
    finally:
        await chat.client.disconnect()
        await rasa.stop()
