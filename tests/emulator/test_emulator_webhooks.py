"""Webhooks as Zendesk sends them, to a real receiving server; each is checked against the spec."""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List

import aiohttp
import pytest

from rasa_zendesk.emulator import EmulatorConfig, run_emulator
from testkit.emulator_support import FAST_RETRIES, SunCoApi, WebhookReceiver, start_receiver

AGENT = "Alex (Zendesk agent)"


def payloads(receiver: WebhookReceiver, event_type: str) -> List[Dict[str, Any]]:
    return [event["payload"] for event in receiver.events(event_type)]


async def test_webhooks_are_v2_envelopes_with_the_api_key(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    await api.create_user("rasa-1")
    conversation = await api.create_conversation("rasa-1", {"rasa_sender_id": "rasa-1"})
    await api.post_text(conversation["id"], "hello", type="user", userExternalId="rasa-1")
    await receiver.wait_for(lambda r: len(r.events()) == 2)

    for item in receiver.received:
        assert item.headers["X-API-Key"] == "whsec_demo"
        assert item.headers["Content-Type"] == "application/json"
        body = item.body
        assert body["app"] == {"id": "app_demo"}
        assert body["webhook"]["version"] == "v2" and body["webhook"]["id"]
        assert len(body["events"]) == 1
        event = body["events"][0]
        assert event["id"] and event["createdAt"].endswith("Z")
    assert [e["type"] for e in receiver.events()] == ["conversation:create", "conversation:message"]
    assert len({e["id"] for e in receiver.events()}) == 2

    create = payloads(receiver, "conversation:create")[0]
    assert create["conversation"]["id"] == conversation["id"]
    assert create["conversation"]["metadata"] == {"rasa_sender_id": "rasa-1"}
    assert create["conversation"]["activeSwitchboardIntegration"]["name"] == "rasa"
    assert create["creationReason"] == "none"
    assert create["user"]["externalId"] == "rasa-1"


async def test_messages_posted_through_the_api_are_echoed(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    cid = (await api.user_conversation("rasa-1", givenName="Jane"))["id"]
    origin = {"rasa_zendesk_origin": "rasa"}
    user_message = await api.post_message(
        cid,
        {
            "author": {"type": "user", "userExternalId": "rasa-1"},
            "content": {"type": "text", "text": "my order is late"},
            "metadata": origin,
        },
    )
    bot_message = await api.post_message(
        cid,
        {
            "author": {"type": "business", "displayName": "Rasa bot"},
            "content": {"type": "image", "mediaUrl": "https://example.com/a.png"},
            "metadata": origin,
        },
    )
    await receiver.wait_for(lambda r: len(r.events("conversation:message")) == 2)
    user_echo, bot_echo = payloads(receiver, "conversation:message")

    assert user_echo["message"]["id"] == user_message["id"]
    assert user_echo["message"]["author"]["type"] == "user"
    assert user_echo["message"]["author"]["user"]["externalId"] == "rasa-1"
    assert user_echo["message"]["author"]["displayName"] == "Jane"
    assert user_echo["message"]["source"]["type"] == "api:conversations"
    assert user_echo["message"]["metadata"] == origin
    assert user_echo["conversation"]["metadata"] == {"rasa_sender_id": "rasa-1"}
    assert user_echo["conversation"]["activeSwitchboardIntegration"]["name"] == "rasa"

    assert bot_echo["message"]["id"] == bot_message["id"]
    assert bot_echo["message"]["author"] == {"type": "business", "displayName": "Rasa bot"}
    assert bot_echo["message"]["content"]["mediaUrl"] == "https://example.com/a.png"
    assert bot_echo["message"]["metadata"] == origin


async def test_handoff_agent_reply_typing_and_solve(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    cid = (await api.user_conversation("rasa-1", givenName="Jane"))["id"]
    summary = await api.post_text(cid, "Summary: Jane wants a refund", displayName="Rasa bot")
    handoff = {"first_message_id": summary["id"], "dataCapture.systemField.tags": "rasa,refund"}
    queue = await api.control("GET", "/queue")
    assert queue["conversations"] == [] and queue["agentName"] == AGENT

    await api.pass_control(cid, "zd-agentWorkspace", handoff)
    await receiver.wait_for(lambda r: r.events("switchboard:passControl"))
    passed = payloads(receiver, "switchboard:passControl")[0]
    assert passed["metadata"] == handoff
    active = passed["conversation"]["activeSwitchboardIntegration"]
    assert (active["name"], active["integrationType"]) == ("zd-agentWorkspace", "zd:agentWorkspace")
    assert passed["conversation"]["metadata"] == {"rasa_sender_id": "rasa-1"}

    queued = (await api.control("GET", "/queue"))["conversations"]
    assert [c["id"] for c in queued] == [cid]
    assert queued[0]["agentStatus"] == "open"
    assert queued[0]["handoffMetadata"] == handoff
    assert queued[0]["messages"][0]["content"]["text"] == "Summary: Jane wants a refund"
    assert queued[0]["participants"][0]["displayName"] == "Jane"

    # The agent types, replies with text, an image and a file.
    await api.control("POST", f"/conversations/{cid}/typing", {"typing": True})
    await api.control("POST", f"/conversations/{cid}/typing", {"typing": False})
    reply = await api.control(
        "POST", f"/conversations/{cid}/agent-message", {"text": "Hi Jane!"}, expect=201
    )
    await api.control(
        "POST",
        f"/conversations/{cid}/agent-message",
        {"type": "image", "mediaUrl": "/_emulator/samples/receipt.png", "agentName": "Sam"},
        expect=201,
    )
    await api.control(
        "POST",
        f"/conversations/{cid}/agent-message",
        {"type": "file", "mediaUrl": "https://example.com/invoice.pdf", "altText": "Invoice"},
        expect=201,
    )
    await receiver.wait_for(lambda r: len(r.events("conversation:message")) == 4)

    typing = payloads(receiver, "conversation:typing")
    assert [t["activity"]["type"] for t in typing] == ["typing:start", "typing:stop"]
    assert typing[0]["activity"]["author"]["type"] == "business"
    assert typing[0]["activity"]["author"]["displayName"] == AGENT
    assert typing[0]["activity"]["source"]["type"] == "zd:agentWorkspace"

    _, text, image, file = payloads(receiver, "conversation:message")
    assert text["message"]["id"] == reply["message"]["id"]
    author = text["message"]["author"]
    assert author["type"] == "business" and author["displayName"] == AGENT
    assert author["avatarUrl"].startswith("http://") and author["avatarUrl"].endswith(".png")
    assert text["message"]["source"]["type"] == "zd:agentWorkspace"
    assert text["message"]["content"] == {"type": "text", "text": "Hi Jane!"}
    assert text["conversation"]["activeSwitchboardIntegration"]["name"] == "zd-agentWorkspace"
    assert image["message"]["author"]["displayName"] == "Sam"
    assert image["message"]["content"]["mediaUrl"] == (
        api.server.base_url + "/_emulator/samples/receipt.png"
    )
    assert file["message"]["content"]["type"] == "file"
    assert file["message"]["content"]["altText"] == "Invoice"

    # The sample image the agent sent is really served.
    async with api.session.get(image["message"]["content"]["mediaUrl"]) as response:
        assert response.content_type == "image/png"
        assert (await response.read()).startswith(b"\x89PNG")

    # Solving releases control with reason ticketClosed.
    await api.solve(cid)
    await receiver.wait_for(lambda r: r.events("switchboard:releaseControl"))
    released = payloads(receiver, "switchboard:releaseControl")[0]
    assert released["reason"] == "ticketClosed"
    assert released["conversation"]["id"] == cid
    assert "activeSwitchboardIntegration" not in released["conversation"]
    solved = (await api.control("GET", "/queue"))["conversations"]
    assert [(c["id"], c["agentStatus"]) for c in solved] == [(cid, "solved")]
    state = await api.control("GET", "/state")
    assert "activeSwitchboardIntegration" not in state["conversations"][0]


async def test_solve_can_hand_back_with_pass_control(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    conversation = await api.handed_off()
    await api.solve(conversation["id"], {"handback": "passControl"})
    await receiver.wait_for(lambda r: len(r.events("switchboard:passControl")) == 2)
    handback = payloads(receiver, "switchboard:passControl")[1]
    assert handback["reason"] == "ticketClosed"
    assert handback["conversation"]["activeSwitchboardIntegration"]["name"] == "rasa"


async def test_moving_to_email_hands_back_with_transfer_to_email(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    conversation = await api.handed_off()
    await api.solve(conversation["id"], {"reason": "transferToEmail"})
    await receiver.wait_for(lambda r: r.events("switchboard:releaseControl"))
    assert payloads(receiver, "switchboard:releaseControl")[0]["reason"] == "transferToEmail"
    path = f"/conversations/{conversation['id']}/solve"
    await api.control("POST", path, {"reason": "bored"}, expect=400)


async def test_offer_accept_and_read_events(api: SunCoApi, receiver: WebhookReceiver) -> None:
    await api.create_user("rasa-1")
    cid = (await api.create_conversation("rasa-1"))["id"]
    offer = {"switchboardIntegration": "zd-agentWorkspace", "metadata": {"k": "v"}}
    await api.ok("POST", f"/conversations/{cid}/offerControl", offer)
    await api.ok("POST", f"/conversations/{cid}/acceptControl", {"metadata": {"a": True}})
    read = {"type": "conversation:read", "author": {"type": "user", "userExternalId": "rasa-1"}}
    await api.ok("POST", f"/conversations/{cid}/activity", read)
    await receiver.wait_for(lambda r: r.events("conversation:read"))

    offered = payloads(receiver, "switchboard:offerControl")[0]
    assert offered["conversation"]["activeSwitchboardIntegration"]["name"] == "rasa"
    assert offered["conversation"]["pendingSwitchboardIntegration"]["name"] == "zd-agentWorkspace"
    assert offered["metadata"] == {"k": "v"}
    accepted = payloads(receiver, "switchboard:acceptControl")[0]
    assert accepted["conversation"]["activeSwitchboardIntegration"]["name"] == "zd-agentWorkspace"
    assert "pendingSwitchboardIntegration" not in accepted["conversation"]
    assert accepted["metadata"] == {"a": True}
    activity = payloads(receiver, "conversation:read")[0]["activity"]
    assert activity["type"] == "conversation:read"
    assert activity["author"]["user"]["externalId"] == "rasa-1"
    # Accepted by Agent Workspace: the conversation is in the agent queue.
    queue = (await api.control("GET", "/queue"))["conversations"]
    assert [c["id"] for c in queue] == [cid]


async def test_events_of_a_conversation_arrive_in_order_even_with_retries(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    conversation = await api.handed_off()
    await api.deliveries()
    receiver.received.clear()
    receiver.plan.extend([0.2, 500, 503])  # slow, then two failures to retry
    posted = [(await api.post_text(conversation["id"], f"message {n}"))["id"] for n in range(6)]
    await api.deliveries()
    delivered = [e["payload"]["message"]["id"] for e in receiver.events("conversation:message")]
    assert delivered == posted
    assert [item.status for item in receiver.received[:4]] == [200, 500, 503, 200]


async def test_non_2xx_is_retried_until_delivered(api: SunCoApi, receiver: WebhookReceiver) -> None:
    await api.create_user("rasa-1")
    receiver.plan.extend([500, 503, 429])
    conversation = await api.create_conversation("rasa-1")
    (delivery,) = await api.deliveries(eventType="conversation:create")
    assert delivery["status"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 429, 200]
    assert [a["attempt"] for a in delivery["attempts"]] == [1, 2, 3, 4]
    assert {a["url"] for a in delivery["attempts"]} == {receiver.url}
    ids = {item.body["events"][0]["id"] for item in receiver.received}
    assert ids == {delivery["eventId"]}  # the same event each time
    assert delivery["conversationId"] == conversation["id"]
    assert delivery["payload"]["events"][0]["type"] == "conversation:create"


async def test_delivery_gives_up_after_five_attempts(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    await api.create_user("rasa-1")
    receiver.plan.extend([500] * 5)
    await api.create_conversation("rasa-1")
    (delivery,) = await api.deliveries(eventType="conversation:create")
    assert delivery["status"] == "failed"
    assert [a["status"] for a in delivery["attempts"]] == [500] * 5


async def test_statuses_sunco_does_not_retry_are_not_retried(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    await api.create_user("rasa-1")
    receiver.plan.extend([401])
    cid = (await api.create_conversation("rasa-1"))["id"]
    await api.post_text(cid, "next")
    create, message = await api.deliveries()
    assert create["status"] == "failed" and len(create["attempts"]) == 1
    assert message["status"] == "delivered"


async def test_a_timeout_is_retried() -> None:
    receiver, runner = await start_receiver()
    config = EmulatorConfig(
        port=0, webhook_urls=[receiver.url], webhook_retry_delays=(0.05,), webhook_timeout=0.3
    )
    try:
        async with run_emulator(config) as server, aiohttp.ClientSession() as session:
            api = SunCoApi(session, server)
            await api.create_user("rasa-1")
            receiver.plan.append(1.0)  # answer after the emulator gave up
            await api.create_conversation("rasa-1")
            (delivery,) = await api.deliveries()
            first, second = delivery["attempts"]
            assert first["status"] is None and "timeout" in first["error"]
            assert second["status"] == 200 and delivery["status"] == "delivered"
            # Let the receiver finish its slow answer to the abandoned first attempt.
            await receiver.wait_for(lambda r: len(r.received) == 2)
            assert [item.status for item in receiver.received] == [200, 200]
    finally:
        await runner.cleanup()
    assert receiver.invalid == []


async def test_redeliver_sends_the_same_event_again(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    await api.create_user("rasa-1")
    await api.create_conversation("rasa-1")
    (delivery,) = await api.deliveries()
    result = await api.control("POST", f"/webhooks/{delivery['eventId']}/redeliver")
    assert result["delivery"]["redeliveries"] == 1
    assert result["delivery"]["status"] == "delivered"
    assert len(result["delivery"]["attempts"]) == 2
    bodies = [item.body for item in receiver.received]
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    await api.control("POST", "/webhooks/000000000000000000000000/redeliver", expect=404)


async def test_several_urls_get_deliveries_round_robin() -> None:
    first, first_runner = await start_receiver()
    second, second_runner = await start_receiver()
    config = EmulatorConfig(
        port=0, webhook_urls=[first.url, second.url], webhook_retry_delays=FAST_RETRIES
    )
    try:
        async with run_emulator(config) as server, aiohttp.ClientSession() as session:
            api = SunCoApi(session, server)
            await api.create_user("rasa-1")
            cid = (await api.create_conversation("rasa-1"))["id"]
            for n in range(3):
                await api.post_text(cid, f"message {n}")
            deliveries = await api.deliveries()
            urls = [d["attempts"][0]["url"] for d in deliveries]
            assert urls == [first.url, second.url, first.url, second.url]
            assert len(first.received) == len(second.received) == 2
    finally:
        await first_runner.cleanup()
        await second_runner.cleanup()
    assert first.invalid == second.invalid == []


async def test_the_webhook_target_can_be_set_after_start(receiver: WebhookReceiver) -> None:
    async with run_emulator(webhook_retry_delays=FAST_RETRIES) as server:
        async with aiohttp.ClientSession() as session:
            api = SunCoApi(session, server)
            await api.create_user("rasa-1")
            cid = (await api.create_conversation("rasa-1"))["id"]
            (skipped,) = await api.deliveries()
            assert skipped["status"] == "skipped" and skipped["attempts"] == []

            config = await api.control(
                "POST", "/webhook-config", {"url": receiver.url, "secret": "whsec_new"}
            )
            assert config["urls"] == [receiver.url] and config["secretSet"] is True
            assert "whsec_new" not in json.dumps(config)
            assert (await api.control("GET", "/webhook-config"))["urls"] == [receiver.url]

            await api.post_text(cid, "after configuration")
            await api.control("POST", f"/webhooks/{skipped['eventId']}/redeliver")
            await receiver.wait_for(lambda r: len(r.received) == 2)
            assert {item.headers["X-API-Key"] for item in receiver.received} == {"whsec_new"}
            kinds = [e["type"] for e in receiver.events()]
            assert sorted(kinds) == ["conversation:create", "conversation:message"]


async def test_secrets_never_appear_in_logs_or_the_control_api(
    api: SunCoApi, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="rasa_zendesk.emulator")
    conversation = await api.handed_off()
    await api.call("GET", "/users/x", auth=aiohttp.BasicAuth("key_demo", "bad-secret-x"))
    await api.deliveries()
    receiver.plan.append(500)
    await api.post_text(conversation["id"], "hello")
    await api.deliveries()
    everything = caplog.text + json.dumps(
        [await api.control("GET", path) for path in ("/state", "/requests", "/webhooks")]
    )
    for secret in ("secret_demo", "whsec_demo", "bad-secret-x"):
        assert secret not in everything
    # It does log requests and webhook attempts with their status.
    assert "GET /sc/v2/apps/app_demo/users/x -> 401" in caplog.text
    assert " 500 (attempt 1/5" in caplog.text and "webhook conversation:message" in caplog.text
