"""The webhook route's answers to what is not a good webhook: 401, 400, 413, and 200 for the
unknown; in none of them is anything applied, and the secret never reaches the logs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from rasa_zendesk.channel.config import DEFAULT_MAX_BODY_BYTES
from testkit.channel_harness import (
    EXAMPLES,
    SECRET,
    Handoff,
    RasaServer,
    content,
    message_webhook,
    new_id,
)

pytestmark = pytest.mark.timeout(30)


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
    webhook = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))

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
    webhook = message_webhook(handoff.conversation_id, handoff.sender_id, content("text"))
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
