"""The metrics route of a real Rasa server with the channel, fed by the emulator: off unless
turned on, only for a token of their own (never the webhook secret), and counting what
happened: a handoff's request, agent and end (from the tracker store's records), webhook
events by type and outcome, refused webhooks, SunCo calls and their errors."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Dict

import httpx
import pytest

from rasa_zendesk import constants
from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.settings import SettingsError
from testkit.channel_harness import CREDENTIALS, SECRET
from testkit.emulator_control import wait_for
from testkit.emulator_stack import EmulatorStack, emulator_stack
from testkit.metrics import scrape, value

pytestmark = pytest.mark.timeout(60)

TOKEN = "metrics-token-0123456789abcdef"
METRICS = "/webhooks/zendesk/metrics"


@pytest.fixture
async def stack(db_path: Path) -> AsyncIterator[EmulatorStack]:
    credentials = {"metrics": "true", "metrics_token": TOKEN}
    async with emulator_stack(db_path, credentials=credentials) as running:
        yield running


async def get(url: str, headers: Dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        return await http.get(METRICS, headers=headers)


async def test_metrics_are_off_unless_turned_on(db_path: Path) -> None:
    async with emulator_stack(db_path) as stack:
        answer = await get(stack.rasa.url, {"Authorization": f"Bearer {SECRET}"})
    assert answer.status_code == 404
    assert "ZENDESK_METRICS" in answer.json()["error"]


async def test_only_the_metrics_token_opens_them_never_the_webhook_secret(
    stack: EmulatorStack,
) -> None:
    assert (await get(stack.rasa.url, {})).status_code == 401
    assert (await get(stack.rasa.url, {"Authorization": "Bearer nope"})).status_code == 401
    assert (await get(stack.rasa.url, {"Authorization": f"Bearer {SECRET}"})).status_code == 401
    assert (await get(stack.rasa.url, {"X-API-Key": SECRET})).status_code == 401
    assert (await get(stack.rasa.url, {"Authorization": f"Bearer {TOKEN}"})).status_code == 200
    answer = await get(stack.rasa.url, {"X-API-Key": TOKEN})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert SECRET not in answer.text and TOKEN not in answer.text


def test_metrics_without_a_token_of_their_own_stop_the_start() -> None:
    with pytest.raises(SettingsError) as raised:
        ZendeskInput.from_credentials({**CREDENTIALS, "metrics": "true"})
    assert "metrics_token (ZENDESK_METRICS_TOKEN) is required" in str(raised.value)
    with pytest.raises(SettingsError, match="must not be a webhook secret"):
        ZendeskInput.from_credentials({**CREDENTIALS, "metrics": "true", "metrics_token": SECRET})


async def test_a_handoffs_life_and_its_webhooks_are_counted(stack: EmulatorStack) -> None:
    sender_id, conversation_id, chat = await stack.handoff()
    try:
        await stack.agent_says(conversation_id, "Hello, I am Alex")
        await chat.next_message()
        await stack.control("POST", f"/conversations/{conversation_id}/solve")
        await stack.settled()
    finally:
        await chat.client.disconnect()
    refused = await stack.rasa.post_webhook({"events": []}, key="wrong")
    assert refused.status_code == 401

    async def ended() -> str:
        text = await scrape(stack.rasa.url, TOKEN)
        return text if value(text, "rasa_zendesk_handoffs_ended_total") else ""

    text = await wait_for(ended, "the end of the handoff in the metrics", timeout=15)
    assert value(text, "rasa_zendesk_handoffs_requested_total", connector="default") == 1
    assert value(text, "rasa_zendesk_handoffs_ended_total", reason="ticket_closed") == 1
    assert value(text, "rasa_zendesk_handoff_first_agent_reply_seconds_count") == 1
    assert value(text, "rasa_zendesk_handoff_duration_seconds_count", reason="ticket_closed") == 1
    assert value(text, "rasa_zendesk_handoffs_running") == 0
    message = {"route": "webhook", "type": "conversation:message"}
    assert value(text, "rasa_zendesk_webhook_events_total", **message, outcome="applied") == 1
    # Control passed to the agents needs nothing done: ignored.
    passed = {"type": "switchboard:passControl", "outcome": "ignored"}
    assert value(text, "rasa_zendesk_webhook_events_total", **passed) == 1
    ended_by = {"type": "switchboard:releaseControl", "outcome": "applied"}
    assert value(text, "rasa_zendesk_webhook_events_total", **ended_by) == 1
    assert value(text, "rasa_zendesk_webhook_requests_total", status="401") == 1
    assert value(text, "rasa_zendesk_webhook_requests_total", status="200") >= 3


async def test_a_running_handoff_is_counted_as_waiting(stack: EmulatorStack) -> None:
    await stack.new_handoff()

    async def waiting() -> str:
        text = await scrape(stack.rasa.url, TOKEN)
        return text if value(text, "rasa_zendesk_handoffs_running", state="waiting") else ""

    text = await wait_for(waiting, "a waiting handoff in the metrics", timeout=15)
    assert value(text, "rasa_zendesk_handoffs_running", state="waiting") == 1
    assert value(text, "rasa_zendesk_handoffs_running", state="agent_joined") == 0


async def test_sunco_calls_and_errors_are_timed(stack: EmulatorStack) -> None:
    """A webhook without the conversation's metadata makes the channel ask SunCo whose it is;
    the first ask gets a 500 and is retried."""
    _, conversation_id = await stack.new_handoff(metadata=False)
    await stack.sunco.pass_control(conversation_id, constants.AGENT_WORKSPACE)
    await stack.settled()
    fault = {"method": "GET", "pathContains": f"/conversations/{conversation_id}", "status": 500}
    await stack.control("POST", "/faults", fault)
    await stack.agent_says(conversation_id, "Hello")
    await stack.settled()
    text = await scrape(stack.rasa.url, TOKEN)
    lookup = {"connector": "default", "method": "GET", "operation": "/conversations/{id}"}
    assert value(text, "rasa_zendesk_sunco_request_seconds_count", **lookup) == 2
    assert value(text, "rasa_zendesk_sunco_errors_total", **lookup, status="500") == 1
