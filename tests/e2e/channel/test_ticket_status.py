"""The ticket-status route (`POST /webhooks/zendesk/ticket_status`): Zendesk's event webhook
ends a handoff when the agent solves its ticket, days before Agent Workspace would give the
conversation back. A real Rasa server with the channel, the emulator as the SunCo API; the
ticket events are signed here the way Zendesk signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional

import httpx
import pytest

from rasa_zendesk.handoff import state
from testkit.channel_harness import HANDOFF_ENDED_TEXT
from testkit.emulator_stack import EmulatorStack, emulator_stack
from testkit.emulator_support import ticket_event

pytestmark = pytest.mark.timeout(60)

TICKET_SECRET = "tkwh_channel_tests_51d0"
API_KEY = "tkkey_channel_tests_9e2"
ROUTE = "/webhooks/zendesk/ticket_status"


def signed_headers(body: bytes, secret: str = TICKET_SECRET, age: float = 0) -> Dict[str, str]:
    stamp = (datetime.now(timezone.utc) - timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


async def post(
    stack: EmulatorStack,
    event: Any,
    headers: Optional[Dict[str, str]] = None,
    route: str = ROUTE,
) -> httpx.Response:
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    async with httpx.AsyncClient(base_url=stack.rasa.url, timeout=15) as http:
        return await http.post(
            route, content=body, headers=signed_headers(body) if headers is None else headers
        )


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[EmulatorStack]:
    credentials = {"ticket_webhook_secret": TICKET_SECRET, "ticket_webhook_api_key": API_KEY}
    async with emulator_stack(tmp_path / "tracker.db", credentials=credentials) as running:
        yield running


async def record_of(stack: EmulatorStack, sender_id: str) -> state.Handoff:
    handoff = state.current((await stack.rasa.tracker(sender_id)).events)
    assert handoff is not None
    return handoff


async def test_solved_ends_the_handoff_at_once_and_the_later_close_says_nothing(
    stack: EmulatorStack,
) -> None:
    sender_id, conversation_id, chat = await stack.handoff()
    event = ticket_event(conversation_id, "SOLVED")

    answer = await post(stack, event)

    assert answer.status_code == 200 and answer.json()["processed"] == 1, answer.text
    assert await chat.next_message() == {"text": HANDOFF_ENDED_TEXT}
    handoff = await record_of(stack, sender_id)
    assert (handoff.state, handoff.end_reason) == (state.ENDED, state.TICKET_SOLVED)
    assert (handoff.ticket_id, handoff.ticket_status) == ("4711", "SOLVED")
    tracker = await stack.rasa.tracker(sender_id)
    assert tracker.latest_action_name == "action_listen"

    # The same event again (Zendesk retries), freshly signed: applied once only.
    again = await post(stack, event)
    assert again.json() == {"status": "ok", "processed": 0, "ignored": 1}
    # Days later the ticket closes and Agent Workspace gives the conversation back.
    closed = await post(stack, ticket_event(conversation_id, "CLOSED", previous="SOLVED"))
    assert closed.json()["processed"] == 0
    await stack.control("POST", f"/conversations/{conversation_id}/solve")
    await stack.settled()
    chat.assert_no_more_messages()
    assert (await record_of(stack, sender_id)).end_reason == state.TICKET_SOLVED
    ended = [
        e
        for e in (await stack.rasa.tracker(sender_id)).events
        if e.type_name == "bot" and e.text == HANDOFF_ENDED_TEXT
    ]
    assert len(ended) == 1


async def test_closed_without_solved_first_ends_it_too(stack: EmulatorStack) -> None:
    sender_id, conversation_id, chat = await stack.handoff()
    answer = await post(stack, ticket_event(conversation_id, "closed", previous="pending"))
    assert answer.json()["processed"] == 1
    assert await chat.next_message() == {"text": HANDOFF_ENDED_TEXT}
    assert (await record_of(stack, sender_id)).end_reason == state.TICKET_SOLVED


@pytest.mark.parametrize("status", ["PENDING", "HOLD", "OPEN", "NEW"])
async def test_other_statuses_are_recorded_not_acted_on(stack: EmulatorStack, status: str) -> None:
    sender_id, conversation_id, chat = await stack.handoff()
    answer = await post(stack, ticket_event(conversation_id, status, ticket_id=99))
    assert answer.json()["processed"] == 1
    handoff = await record_of(stack, sender_id)
    assert handoff.active and (handoff.ticket_id, handoff.ticket_status) == ("99", status)
    # The agent still reaches the user.
    await stack.agent_says(conversation_id, "Still looking into it")
    assert (await chat.next_message())["text"] == "Still looking into it"


async def test_the_api_key_is_enough_and_either_way_must_be_right(
    stack: EmulatorStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sender_id, conversation_id, chat = await stack.handoff()
    event = ticket_event(conversation_id, "PENDING")
    body = json.dumps(event).encode()
    wrong = [
        {"X-API-Key": API_KEY + "x"},
        signed_headers(body, secret="not-the-secret"),
        # Well outside the 300 s window: the stamp has whole seconds and the check runs a
        # moment later (the exact boundary is tested in tests/tickets/test_auth.py).
        signed_headers(body, age=330),
        signed_headers(body, age=-330),
        signed_headers(body + b" "),
        {},
    ]
    for headers in wrong:
        answer = await post(stack, body, headers={"Content-Type": "application/json", **headers})
        assert answer.status_code == 401, headers
        assert (await record_of(stack, sender_id)).ticket_status is None
    answer = await post(stack, body, headers={"X-API-Key": API_KEY})
    assert answer.status_code == 200 and answer.json()["processed"] == 1
    for secret in (TICKET_SECRET, API_KEY):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[]", 400, "not a JSON object"),
        (b'{"type": "zen:event-type:ticket.status_changed"}', 400, "needs an id and a type"),
        (b'{"id": "e1", "type": "zen:event-type:ticket.status_changed"}', 400, "bad detail"),
        (
            b'{"id": "e2", "type": "zen:event-type:ticket.status_changed", '
            b'"detail": {"id": "1", "tags": []}, "event": {}}',
            400,
            "bad event.current",
        ),
    ],
)
async def test_what_is_not_a_ticket_event_gets_400(
    stack: EmulatorStack, body: bytes, status: int, says: str
) -> None:
    answer = await post(stack, body)
    assert answer.status_code == status and says in answer.json()["error"], answer.text


async def test_events_that_are_not_ours_get_200_and_touch_nothing(
    stack: EmulatorStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sender_id, conversation_id, chat = await stack.handoff()
    others: List[Dict[str, Any]] = [
        ticket_event(
            conversation_id, "SOLVED", event_type="zen:event-type:ticket.priority_changed"
        ),
        ticket_event(None, "SOLVED"),  # a ticket without our link tag
        ticket_event("0123456789abcdef01234567", "SOLVED"),  # not a conversation in SunCo
    ]
    # A conversation that SunCo has, but not opened by this bot (no sender id in it).
    stranger_id = "someone-else-" + conversation_id[:6]
    await stack.sunco.get_or_create_user(stranger_id)
    stranger = await stack.sunco.create_conversation(stranger_id)
    others.append(ticket_event(stranger.id, "SOLVED"))
    for event in others:
        answer = await post(stack, event)
        assert answer.status_code == 200, answer.text
        assert answer.json()["processed"] == 0
    assert (await record_of(stack, sender_id)).active
    chat.assert_no_more_messages()
    assert "zen:event-type:ticket.priority_changed" in caplog.text


async def test_off_unless_a_secret_or_key_is_configured(tmp_path: Path) -> None:
    async with emulator_stack(tmp_path / "tracker.db") as plain:
        answer = await post(plain, ticket_event("abc", "SOLVED"))
        assert answer.status_code == 404
        assert "ticket_webhook_secret" in answer.json()["error"]
