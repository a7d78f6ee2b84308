"""The Zendesk ticket behind each handoff, and Zendesk Support's ticket-status webhooks
(`zen:event-type:ticket.status_changed`), signed as Zendesk signs them.

Ticket webhooks go to a receiver of their own, which checks each body's shape; SunCo's go to
the usual spec-checking receiver.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import re
from typing import Any, AsyncIterator, Dict, List, Optional

import aiohttp
import pytest

from rasa_zendesk.emulator import EmulatorConfig, run_emulator
from rasa_zendesk.emulator.webhook_formats import ZendeskEventFormat, zendesk_signature
from testkit.emulator_support import (
    TIMESTAMP,
    SunCoApi,
    WebhookReceiver,
    check_ticket_event,
    start_receiver,
)

pytestmark = pytest.mark.timeout(30)

HANDOFF = {
    "first_message_id": "m1",
    "dataCapture.systemField.subject": "Refund for order 42",
    "dataCapture.systemField.tags": "Rasa, refund  VIP,rasa_zendesk_conversation_abc",
    "dataCapture.systemField.requester.name": "Jane Q. Doe",
    "dataCapture.systemField.requester.email": "jane@example.com",
}


@pytest.fixture
async def tickets() -> AsyncIterator[WebhookReceiver]:
    receiver, runner = await start_receiver(check=check_ticket_event)
    yield receiver
    await runner.cleanup()
    assert receiver.invalid == [], "ticket webhooks of the wrong shape"


@pytest.fixture
def emulator_config(emulator_config: EmulatorConfig, tickets: WebhookReceiver) -> EmulatorConfig:
    return dataclasses.replace(
        emulator_config, ticket_webhook_urls=[tickets.url], ticket_webhook_timeout=2.0
    )


async def handoff(
    api: SunCoApi, metadata: Optional[Dict[str, Any]] = None, external_id: str = "rasa-1"
) -> str:
    await api.create_user(external_id, givenName="Jane", surname="Doe", email="jd@example.org")
    conversation = await api.create_conversation(external_id, {"rasa_sender_id": external_id})
    await api.pass_control(conversation["id"], "zd-agentWorkspace", metadata)
    return str(conversation["id"])


async def ticket_of(api: SunCoApi, cid: str) -> Dict[str, Any]:
    shown = await api.control("GET", f"/conversations/{cid}/ticket")
    state = await api.control("GET", "/state")
    (in_state,) = (c for c in state["conversations"] if c["id"] == cid)
    assert shown["ticket"] == in_state["ticket"] == shown["conversation"]["ticket"]
    return dict(shown["ticket"])


async def set_status(
    api: SunCoApi, cid: str, status: str, expect: int = 200, **extra: Any
) -> Dict[str, Any]:
    path = f"/conversations/{cid}/ticket"
    return await api.control("POST", path, {"status": status, **extra}, expect=expect)


async def agent_says(api: SunCoApi, cid: str, text: str) -> None:
    path = f"/conversations/{cid}/agent-message"
    await api.control("POST", path, {"text": text}, expect=201)


async def user_says(api: SunCoApi, cid: str, text: str) -> None:
    await api.post_text(cid, text, type="user", userExternalId="rasa-1")


async def ticket_deliveries(api: SunCoApi, **query: str) -> List[Dict[str, Any]]:
    result = await api.control("POST", "/webhooks/wait?kind=ticket", {"timeout": 10})
    assert result["idle"], "ticket webhook deliveries did not settle"
    return [d for d in result["deliveries"] if all(d.get(k) == v for k, v in query.items())]


async def transitions(api: SunCoApi, tickets: WebhookReceiver) -> List[str]:
    """previous->current of every ticket webhook delivered, in order."""
    await ticket_deliveries(api)
    return [
        f"{item.body['event']['previous']}->{item.body['event']['current']}"
        for item in tickets.received
        if 200 <= item.status < 300
    ]


async def test_a_handoff_opens_a_ticket_from_the_pass_control_metadata(api: SunCoApi) -> None:
    cid = await handoff(api, HANDOFF)
    ticket = await ticket_of(api, cid)
    assert ticket["id"] == 1001 and ticket["status"] == "new"
    assert ticket["subject"] == "Refund for order 42"
    # Zendesk tags: lower case, split at commas and spaces, each once.
    assert ticket["tags"] == ["rasa", "refund", "vip", "rasa_zendesk_conversation_abc"]
    assert ticket["requester"]["name"] == "Jane Q. Doe"
    assert ticket["requester"]["email"] == "jane@example.com"
    assert isinstance(ticket["requester"]["id"], int)
    assert ticket["via"] == {"channel": "native_messaging"} and ticket["conversationId"] == cid
    assert TIMESTAMP.match(ticket["createdAt"]) and ticket["updatedAt"] == ticket["createdAt"]
    # No status change yet, so no ticket webhook (ticket.created is another event type).
    assert await ticket_deliveries(api) == []


async def test_without_system_fields_the_ticket_comes_from_the_sunco_user(
    api: SunCoApi,
) -> None:
    cid = await handoff(api)
    ticket = await ticket_of(api, cid)
    assert ticket["requester"]["name"] == "Jane Doe"
    assert ticket["requester"]["email"] == "jd@example.org"
    assert ticket["subject"] == "Conversation with Jane Doe" and ticket["tags"] == []
    # Another user without a name is a "Web User", as Zendesk names them.
    await api.create_user("rasa-2")
    other = (await api.create_conversation("rasa-2"))["id"]
    await api.ok("POST", f"/conversations/{other}/offerControl", {"switchboardIntegration": "next"})
    await api.ok("POST", f"/conversations/{other}/acceptControl", {})
    second = await ticket_of(api, other)
    assert second["id"] == 1002 and second["requester"]["name"].startswith("Web User ")
    assert second["requester"]["email"] is None
    assert second["requester"]["id"] != ticket["requester"]["id"]


async def test_the_ticket_lives_its_life_until_closed(
    api: SunCoApi, receiver: WebhookReceiver, tickets: WebhookReceiver
) -> None:
    cid = await handoff(api, HANDOFF)
    await agent_says(api, cid, "Hi, I'm Alex.")  # the first agent message opens it
    await agent_says(api, cid, "Let me check.")
    assert (await ticket_of(api, cid))["status"] == "open"
    await set_status(api, cid, "pending")
    await user_says(api, cid, "It is order 42.")  # the requester's reply reopens it
    await set_status(api, cid, "hold")
    await user_says(api, cid, "Any news?")  # on hold stays on hold
    await set_status(api, cid, "hold")  # no change, no webhook
    answer = await set_status(api, cid, "solved")
    assert answer["ticket"]["status"] == "solved"
    # Solved: the messaging session stays with the agent until the ticket closes.
    assert answer["conversation"]["agentStatus"] == "open"
    await user_says(api, cid, "Wait, one more thing.")  # a solved ticket is reopened too
    await set_status(api, cid, "solved")
    assert await transitions(api, tickets) == [
        "NEW->OPEN",
        "OPEN->PENDING",
        "PENDING->OPEN",
        "OPEN->HOLD",
        "HOLD->SOLVED",
        "SOLVED->OPEN",
        "OPEN->SOLVED",
    ]
    await api.deliveries()
    assert receiver.events("switchboard:releaseControl") == []

    closed = await set_status(api, cid, "closed")
    assert closed["ticket"]["status"] == "closed"
    assert closed["conversation"]["agentStatus"] == "solved"
    await receiver.wait_for(lambda r: r.events("switchboard:releaseControl"))
    (released,) = (e["payload"] for e in receiver.events("switchboard:releaseControl"))
    assert released["reason"] == "ticketClosed"
    assert (await transitions(api, tickets))[-1] == "SOLVED->CLOSED"

    # Closed is final.
    for status in ("open", "solved", "closed"):
        refused = await set_status(api, cid, status, expect=409)
        assert "closed" in refused["errors"][0]["title"]
    # Who did what: the agent, assigned by acting; the requester when they reopened it.
    details = [item.body["detail"] for item in tickets.received]
    requester = details[0]["requester_id"]
    assert [d["actor_id"] == requester for d in details] == [
        False,
        False,
        True,
        False,
        False,
        True,
        False,
        False,
    ]
    assert {d["assignee_id"] for d in details} == {details[0]["actor_id"]}

    # A new handoff of the same conversation opens a new ticket.
    await api.pass_control(cid, "zd-agentWorkspace", {"dataCapture.systemField.tags": "again"})
    again = await ticket_of(api, cid)
    assert (again["id"], again["status"], again["tags"]) == (1002, "new", ["again"])


async def test_closing_can_hand_back_with_pass_control(
    api: SunCoApi, receiver: WebhookReceiver, tickets: WebhookReceiver
) -> None:
    cid = await handoff(api)
    await set_status(api, cid, "closed", handback="passControl")
    await receiver.wait_for(lambda r: len(r.events("switchboard:passControl")) == 2)
    handback = receiver.events("switchboard:passControl")[1]["payload"]
    assert handback["reason"] == "ticketClosed"
    assert handback["conversation"]["activeSwitchboardIntegration"]["name"] == "rasa"
    assert await transitions(api, tickets) == ["NEW->CLOSED"]


async def test_solve_with_ticket_closed_closes_the_ticket(
    api: SunCoApi, receiver: WebhookReceiver, tickets: WebhookReceiver
) -> None:
    cid = await handoff(api)
    await agent_says(api, cid, "Done.")
    solved = await api.solve(cid)
    assert solved["conversation"]["ticket"]["status"] == "closed"
    assert await transitions(api, tickets) == ["NEW->OPEN", "OPEN->CLOSED"]
    await receiver.wait_for(lambda r: r.events("switchboard:releaseControl"))
    await set_status(api, cid, "open", expect=409)


async def test_moving_to_email_leaves_the_ticket_as_it_is(
    api: SunCoApi, receiver: WebhookReceiver, tickets: WebhookReceiver
) -> None:
    cid = await handoff(api)
    await agent_says(api, cid, "I'll email you.")
    body = {"reason": "transferToEmail"}
    moved = await api.solve(cid, body)
    assert moved["conversation"]["ticket"]["status"] == "open"
    assert moved["conversation"]["agentStatus"] == "solved"
    await receiver.wait_for(lambda r: r.events("switchboard:releaseControl"))
    assert await transitions(api, tickets) == ["NEW->OPEN"]
    # The ticket goes on by email: solving and closing it later touches no conversation.
    await set_status(api, cid, "solved")
    await set_status(api, cid, "closed")
    assert await transitions(api, tickets) == ["NEW->OPEN", "OPEN->SOLVED", "SOLVED->CLOSED"]
    await api.deliveries()
    assert len(receiver.events("switchboard:releaseControl")) == 1
    assert len(receiver.events("switchboard:passControl")) == 1  # only the bot's handoff


async def test_bad_ticket_calls_are_refused(api: SunCoApi) -> None:
    await api.create_user("rasa-1")
    cid = (await api.create_conversation("rasa-1"))["id"]
    refused = await set_status(api, cid, "solved", expect=409)
    assert refused["errors"][0]["code"] == "conflict"
    assert (await api.control("GET", f"/conversations/{cid}/ticket"))["ticket"] is None
    await api.pass_control(cid, "zd-agentWorkspace")
    for status in ("new", "deleted", "SOLVED", ""):
        await set_status(api, cid, status, expect=400)
    await set_status(api, cid, "open", expect=400, handback="nowhere")
    path = f"/conversations/{cid}/ticket"
    await api.control("POST", path, {}, expect=400)
    await api.control("POST", path, ["open"], expect=400)
    await api.control("POST", "/conversations/nope/ticket", {"status": "open"}, expect=404)
    assert (await ticket_of(api, cid))["status"] == "new"


async def test_the_webhook_is_zendesks_event_signed_with_the_signing_secret(
    api: SunCoApi, tickets: WebhookReceiver
) -> None:
    cid = await handoff(api, HANDOFF)
    await agent_says(api, cid, "Hi")
    (delivery,) = await ticket_deliveries(api)
    (item,) = tickets.received
    body, headers = item.body, item.headers
    ticket = await ticket_of(api, cid)

    assert body["account_id"] == 1000001 and body["subject"] == "zen:ticket:1001"
    assert body["event"] == {"previous": "NEW", "current": "OPEN"}
    detail = body["detail"]
    assert detail["id"] == "1001" and detail["status"] == "OPEN"
    assert detail["subject"] == "Refund for order 42"
    assert detail["tags"] == ["rasa", "refund", "vip", "rasa_zendesk_conversation_abc"]
    assert detail["requester_id"] == str(ticket["requester"]["id"])
    assert detail["created_at"] == ticket["createdAt"]
    assert detail["updated_at"] == ticket["updatedAt"]
    assert delivery["eventId"] == body["id"] and delivery["kind"] == "ticket"
    assert delivery["eventType"] == "zen:event-type:ticket.status_changed"
    assert delivery["conversationId"] == cid and delivery["payload"] == body

    config = await api.control("GET", "/ticket-webhook-config")
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Zendesk-Account-Id"] == "1000001"
    assert headers["X-Zendesk-Webhook-Id"] == config["webhookId"]
    assert re.match(r"^[0-9A-HJKMNP-TV-Z]{26}$", config["webhookId"])
    assert headers["X-Zendesk-Webhook-Invocation-Id"] == delivery["invocationId"]
    timestamp = headers["X-Zendesk-Webhook-Signature-Timestamp"]
    assert TIMESTAMP.match(timestamp)
    # The signature, computed here from the raw bytes received: HMAC-SHA256 of timestamp +
    # body, keyed by the signing secret, base64.
    expected = hmac.new(b"tkwh_demo", timestamp.encode() + item.raw, hashlib.sha256).digest()
    assert headers["X-Zendesk-Webhook-Signature"] == base64.b64encode(expected).decode()
    assert json.loads(item.raw) == body
    # No API key header unless one is configured; no SunCo header either.
    assert "X-API-Key" not in headers and config["apiKeySet"] is False


def test_the_signature_matches_known_vectors() -> None:
    """Computed once with `printf '%s' "$ts$body" | openssl dgst -sha256 -hmac "$secret"
    -binary | base64`. The second takes the secret, body and timestamp of the worked example
    in an older revision of Zendesk's docs, signed timestamp + body as the current docs say
    (that page's own signature, body + timestamp, is not what Zendesk sends)."""
    body = (
        b'{"type":"zen:event-type:ticket.status_changed","detail":{"id":"1001","status":"SOLVED"}}'
    )
    assert (
        zendesk_signature("tkwh_demo", "2021-03-25T05:09:27Z", body)
        == "lsy8gG7uqOu/7YvUx9nvMZ4CXFTe8s5Yv1ibtIQmnqE="
    )
    assert (
        zendesk_signature(
            "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=",
            "2021-07-25T10:00:00Z",
            b'{"say": "hello"}',
        )
        == "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk="
        != "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw="
    )


async def test_the_api_key_header_is_sent_only_when_configured(
    api: SunCoApi, tickets: WebhookReceiver
) -> None:
    cid = await handoff(api)
    config = await api.control(
        "POST",
        "/ticket-webhook-config",
        {"secret": "tkwh_other", "apiKey": "zd-api-key-1", "apiKeyHeader": "X-Rasa-Key"},
    )
    assert config["apiKeySet"] is True and config["apiKeyHeader"] == "X-Rasa-Key"
    assert config["secretSet"] is True and config["urls"] == [tickets.url]
    shown = json.dumps([config, await api.control("GET", "/ticket-webhook-config")])
    assert "zd-api-key-1" not in shown and "tkwh_other" not in shown
    await agent_says(api, cid, "Hi")
    await ticket_deliveries(api)

    await api.control("POST", "/ticket-webhook-config", {"apiKey": None})
    await set_status(api, cid, "solved")
    await ticket_deliveries(api)
    with_key, without_key = tickets.received
    assert with_key.headers["X-Rasa-Key"] == "zd-api-key-1"
    assert "X-Rasa-Key" not in without_key.headers and "X-API-Key" not in without_key.headers
    for item in (with_key, without_key):  # signed with the new secret
        stamp = item.headers["X-Zendesk-Webhook-Signature-Timestamp"]
        assert item.headers["X-Zendesk-Webhook-Signature"] == zendesk_signature(
            "tkwh_other", stamp, item.raw
        )
    for bad in (
        {"apiKeyHeader": "X-Zendesk-Webhook-Id"},
        {"apiKeyHeader": "Bad Header"},
        {"apiKey": ""},
        {"urls": ["ftp://x"]},
    ):
        await api.control("POST", "/ticket-webhook-config", bad, expect=400)


async def test_a_failed_attempt_is_retried_with_the_same_event_and_a_fresh_signature() -> None:
    tickets, runner = await start_receiver(check=check_ticket_event)
    config = EmulatorConfig(
        port=0,
        webhook_retry_delays=(1.05,),  # timestamps are whole seconds: the retry gets its own
        ticket_webhook_urls=[tickets.url],
        ticket_webhook_api_key="zd-key",
    )
    try:
        async with run_emulator(config) as server, aiohttp.ClientSession() as session:
            api = SunCoApi(session, server)
            cid = await handoff(api)
            tickets.plan.append(500)
            await set_status(api, cid, "solved")
            (delivery,) = await ticket_deliveries(api)
    finally:
        await runner.cleanup()
    assert tickets.invalid == []
    assert delivery["status"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 200]
    first, second = tickets.received
    assert first.raw == second.raw and first.body["id"] == delivery["eventId"]
    stamps = [item.headers["X-Zendesk-Webhook-Signature-Timestamp"] for item in tickets.received]
    assert stamps[0] < stamps[1]
    for item, stamp in zip(tickets.received, stamps):
        assert item.headers["X-Zendesk-Webhook-Signature"] == zendesk_signature(
            "tkwh_demo", stamp, item.raw
        )
        assert item.headers["X-API-Key"] == "zd-key"
    assert (
        first.headers["X-Zendesk-Webhook-Signature"]
        != second.headers["X-Zendesk-Webhook-Signature"]
    )
    assert (
        first.headers["X-Zendesk-Webhook-Invocation-Id"]
        == second.headers["X-Zendesk-Webhook-Invocation-Id"]
    )


async def test_ticket_webhooks_can_be_unkind_too(api: SunCoApi, tickets: WebhookReceiver) -> None:
    cid = await handoff(api)
    rule = {"mode": "duplicate", "type": "zen:event-type:ticket.status_changed"}
    await api.control("POST", "/webhook-mode?kind=ticket", rule, expect=201)
    assert (await api.control("GET", "/webhook-mode"))["rules"] == []  # SunCo's: untouched
    await set_status(api, cid, "pending")  # duplicated
    await ticket_deliveries(api)
    await api.control("POST", "/webhook-mode?kind=ticket", {"mode": "hold"}, expect=201)
    await set_status(api, cid, "solved")  # held
    pending, solved = await ticket_deliveries(api)
    assert pending["modes"] == ["duplicate"] and solved["status"] == "held"
    assert [item.body["id"] for item in tickets.received] == [pending["eventId"]] * 2
    released = await api.control("POST", f"/webhooks/{solved['eventId']}/release")
    assert released["delivery"]["status"] == "delivered"
    assert released["delivery"]["kind"] == "ticket"
    redelivered = await api.control("POST", f"/webhooks/{solved['eventId']}/redeliver")
    assert redelivered["delivery"]["redeliveries"] == 1
    assert [item.body["event"]["current"] for item in tickets.received] == [
        "PENDING",
        "PENDING",
        "SOLVED",
        "SOLVED",
    ]
    delivered = await api.control("GET", "/webhooks?kind=ticket&status=delivered")
    assert len(delivered["deliveries"]) == 2
    await api.control("GET", "/webhooks?kind=email", expect=400)


async def test_ticket_secrets_stay_out_of_logs_views_and_reprs(
    api: SunCoApi, tickets: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="rasa_zendesk.emulator")
    await api.control("POST", "/ticket-webhook-config", {"apiKey": "zd-api-key-2"})
    cid = await handoff(api)
    tickets.plan.append(503)
    await set_status(api, cid, "solved")
    await ticket_deliveries(api)
    views = [
        await api.control("GET", path)
        for path in ("/state", "/ticket-webhook-config", "/webhooks?kind=ticket", "/apps")
    ]
    emulator = api.server.emulator
    everything = caplog.text + json.dumps(views) + repr(api.server.config)
    everything += repr(emulator.ticket_format) + repr(ZendeskEventFormat(1, "tkwh_x", "k-x"))
    for secret in ("tkwh_demo", "zd-api-key-2", "tkwh_x", "k-x"):
        assert secret not in everything
    assert "ticket webhook zen:event-type:ticket.status_changed" in caplog.text
    assert " 503 (attempt 1/5" in caplog.text
