"""Several Zendesk connectors in one channel: each has its own routes and secrets, and an
event that comes through one connector's route for another's conversation is refused (the
user's handoff records say which connector had it; the conversation's metadata does not)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Optional

import httpx
import pytest
from rasa.shared.core.domain import Domain

from rasa_zendesk import constants
from rasa_zendesk.channel.input import ZendeskInput
from tests.channel.harness import (
    CREDENTIALS,
    SECRET,
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
    from tests.channel.harness import load_domain

    domain: Domain = load_domain()
    assert constants.SLOT_CONNECTOR in [slot.name for slot in domain.slots]
