"""Several Zendesk connectors in one channel: each has its own routes and secrets, and an
event that comes through one connector's route for another's conversation is refused."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Optional

import httpx
import pytest
from rasa.shared.core.domain import Domain

from rasa_zendesk import constants
from rasa_zendesk.channel.config import DEFAULT_MAX_BODY_BYTES
from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.settings import SettingsError
from testkit.channel_harness import (
    CREDENTIALS,
    EXAMPLES,
    SECRET,
    Handoff,
    RasaServer,
    content,
    message_webhook,
    new_id,
    open_web_chat,
    start_handoff,
    start_rasa,
)

pytestmark = pytest.mark.timeout(30)

EU_SECRET = "whsec_connector_eu_0c1d"
EU = {
    "subdomain": "acme-eu",
    "app_id": "app_eu",
    "key_id": "key_eu",
    "key_secret": "keysecret_eu_5b7a",
    "webhook_secret": EU_SECRET,
}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RasaServer]:
    zendesk = ZendeskInput.from_credentials({**CREDENTIALS, "connectors": {"eu": EU}})
    running = await start_rasa(tmp_path / "tracker.db", zendesk=zendesk)  # type: ignore[arg-type]
    yield running
    await running.stop()


async def post(
    server: RasaServer, path: str, payload: Dict[str, Any], key: Optional[str]
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as http:
        return await http.post(path, json=payload, headers={"X-API-Key": key or ""})


async def handoff_of(server: RasaServer, connector: Optional[str]) -> Dict[str, str]:
    """A user in a handoff recorded as escalated through `connector`."""
    sender_id, conversation_id = "webchat-" + new_id(), new_id()
    await start_handoff(server.store, sender_id, conversation_id, connector=connector)
    return {"sender_id": sender_id, "conversation_id": conversation_id}


async def agent_texts(server: RasaServer, sender_id: str) -> list:
    tracker = await server.tracker(sender_id)
    return [e.text for e in tracker.events if e.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)]


async def test_each_connector_verifies_its_own_secret(server: RasaServer) -> None:
    user = await handoff_of(server, "eu")
    webhook = message_webhook(user["conversation_id"], user["sender_id"], content("text"))
    assert (await post(server, "/webhooks/zendesk/eu/webhook", webhook, SECRET)).status_code == 401
    assert (
        await post(server, "/webhooks/zendesk/asia/webhook", webhook, SECRET)
    ).status_code == 404
    answer = await post(server, "/webhooks/zendesk/eu/webhook", webhook, EU_SECRET)
    assert answer.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert len(await agent_texts(server, user["sender_id"])) == 1
    # The unnamed routes stay the default connector's, with its secret.
    assert (await post(server, "/webhooks/zendesk/webhook", webhook, EU_SECRET)).status_code == 401


async def test_an_event_through_another_connector_s_route_is_refused(
    server: RasaServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    on_default = await handoff_of(server, None)  # a record from before connectors: default
    on_eu = await handoff_of(server, "eu")
    chat = await open_web_chat(server.url, on_default["sender_id"])
    try:
        wrong = [
            ("/webhooks/zendesk/eu/webhook", EU_SECRET, on_default),
            ("/webhooks/zendesk/webhook", SECRET, on_eu),
        ]
        for path, key, user in wrong:
            webhook = message_webhook(user["conversation_id"], user["sender_id"], content("text"))
            answer = await post(server, path, webhook, key)
            assert answer.status_code == 200
            assert answer.json() == {"status": "ok", "processed": 0, "ignored": 0, "refused": 1}
        for user in (on_default, on_eu):
            assert await agent_texts(server, user["sender_id"]) == []
        chat.assert_no_more_messages()
        assert "came through connector eu's webhook" in caplog.text
        assert "belongs to connector eu: refused" in caplog.text
        # Through its own route, the same message arrives, whatever connector the
        # conversation's metadata names (a hint for the lookup, never proof).
        webhook = message_webhook(
            on_default["conversation_id"], on_default["sender_id"], content("text")
        )
        conversation = webhook["events"][0]["payload"]["conversation"]
        conversation["metadata"][constants.CONVERSATION_CONNECTOR] = "eu"
        answer = await post(server, "/webhooks/zendesk/webhook", webhook, SECRET)
        assert answer.json()["processed"] == 1
        assert (await chat.next_message())["text"]
    finally:
        await chat.client.disconnect()


def test_the_domain_declares_the_connector_slot() -> None:
    from testkit.channel_harness import load_domain

    domain: Domain = load_domain()
    assert constants.SLOT_CONNECTOR in [slot.name for slot in domain.slots]


def test_routing_slots_the_domain_lacks_stop_the_start_naming_them() -> None:
    from testkit.channel_harness import load_domain

    class Agent:
        domain = load_domain()

    routing = {
        "ticket_fields": {"zendesk_connector": 1, "order_id": 2},
        "system_fields": "tier=priority",
    }
    channel = ZendeskInput.from_credentials({**CREDENTIALS, **routing})
    with pytest.raises(SettingsError, match="not define: order_id, tier;"):
        channel.check_routing(Agent())
    channel.check_routing(None)  # no bot loaded yet: nothing to check
    present = {"ticket_fields": {"zendesk_connector": 1}}
    ZendeskInput.from_credentials({**CREDENTIALS, **present}).check_routing(Agent())


@pytest.mark.tracker_stores("sql", "sql-uncached")
async def test_a_bot_that_is_not_loaded_gets_503(
    rasa: RasaServer, handoff: Handoff, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rasa.app.ctx.agent = None

    answer = await rasa.post_webhook(handoff.message(content("text")))

    assert answer.status_code == 503
    await asyncio.sleep(0)
    handoff.chat.assert_no_more_messages()


async def assert_nothing_delivered(rasa: RasaServer, handoff: Handoff) -> None:
    """Only the escalation's own message is in the tracker, and the chat got nothing."""
    assert [e.text for e in await rasa.bot_events(handoff.sender_id)] == [
        "An agent will be with you shortly."
    ]
    handoff.chat.assert_no_more_messages()


@pytest.mark.parametrize("key", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1]])
async def test_a_missing_or_wrong_key_gets_401_and_nothing_is_applied(
    rasa: RasaServer, handoff: Handoff, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    webhook = handoff.message(content("text"))

    answer = await rasa.post_webhook(webhook, key=key)

    assert answer.status_code == 401
    assert answer.json()["status"] == "error"
    assert "X-API-Key" in answer.json()["error"]
    await assert_nothing_delivered(rasa, handoff)
    assert "rejected: missing or wrong X-API-Key" in caplog.text
    assert SECRET not in caplog.text
    assert SECRET not in answer.text


async def test_the_key_is_checked_before_the_body_is_read(
    rasa: RasaServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    answer = await rasa.post_webhook(b"{not json", key="nope")

    assert answer.status_code == 401
    assert "not valid JSON" not in caplog.text


@pytest.mark.parametrize(
    "body, error",
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'"events"', "not a JSON object"),
        (b"{}", "no 'events' list"),
        (b'{"events": {"id": "e1"}}', "no 'events' list"),
        (b'{"events": ["e1", 2]}', "events must be objects"),
    ],
)
async def test_what_is_not_an_envelope_gets_400(
    rasa: RasaServer, handoff: Handoff, body: bytes, error: str
) -> None:
    answer = await rasa.post_webhook(body, headers={"Content-Type": "application/json"})

    assert answer.status_code == 400, answer.text
    assert error in answer.json()["error"]
    await assert_nothing_delivered(rasa, handoff)


async def test_a_malformed_event_gets_400_and_the_valid_ones_are_applied(
    rasa: RasaServer, handoff: Handoff
) -> None:
    webhook = handoff.message(content("text"))
    broken = json.loads(json.dumps(webhook["events"][0]))
    broken["id"] = "broken-1"
    del broken["payload"]["message"]
    webhook["events"].insert(0, broken)

    answer = await rasa.post_webhook(webhook)

    assert answer.status_code == 400
    assert answer.json()["malformed"] == ["broken-1"]
    assert answer.json()["processed"] == 1
    assert "payload.message" in answer.json()["error"]
    assert await handoff.chat.next_message() == {"text": "Hello!"}


async def test_a_body_over_the_cap_gets_413(rasa: RasaServer, handoff: Handoff) -> None:
    webhook = message_webhook(
        handoff.conversation_id,
        handoff.sender_id,
        {"type": "text", "text": "x" * (DEFAULT_MAX_BODY_BYTES + 1)},
    )

    answer = await rasa.post_webhook(webhook)

    assert answer.status_code == 413
    assert "larger than" in answer.json()["error"]
    await assert_nothing_delivered(rasa, handoff)


async def test_a_chunked_body_over_the_cap_gets_413(rasa: RasaServer, handoff: Handoff) -> None:
    """No Content-Length to trust: the cap holds while the body is read."""

    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"events": [], "padding": "'
        for _ in range(DEFAULT_MAX_BODY_BYTES // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    async with httpx.AsyncClient(base_url=rasa.url, timeout=15) as http:
        answer = await http.post(
            "/webhooks/zendesk/webhook", content=chunks(), headers={"X-API-Key": SECRET}
        )

    assert answer.status_code == 413
    await assert_nothing_delivered(rasa, handoff)


async def test_unknown_and_unhandled_events_get_200(
    rasa: RasaServer, handoff: Handoff, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="rasa_zendesk")
    future = {"id": new_id(), "type": "conversation:hologram", "payload": {"beam": [1, 2]}}
    read = json.loads(json.dumps(EXAMPLES["conversationReadEvent"]["events"][0]))
    envelope = {"app": {"id": "app_test"}, "events": [future, read]}

    answer = await rasa.post_webhook(envelope)

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "processed": 0, "ignored": 2}
    assert "conversation:hologram) needs nothing done" in caplog.text
    await assert_nothing_delivered(rasa, handoff)


async def test_an_empty_batch_gets_200(rasa: RasaServer) -> None:
    answer = await rasa.post_webhook({"events": []})

    assert answer.json() == {"status": "ok", "processed": 0, "ignored": 0}


async def test_health(rasa: RasaServer) -> None:
    async with httpx.AsyncClient(base_url=rasa.url) as http:
        for path in ("/webhooks/zendesk/health", "/webhooks/zendesk/"):
            answer = await http.get(path)
            assert answer.status_code == 200
            assert answer.json() == {"status": "ok"}
