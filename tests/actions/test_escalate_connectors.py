"""The actions with several Zendesk connectors: the escalation goes where the slot, the input
channel's rule or the default says, records it, and the relay and the end follow the record."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.actions.handoff_metadata import TAGS
from rasa_zendesk.emulator.testing import free_port
from rasa_zendesk.handoff import state
from testkit.action_calls import responses, run_action, slots, user
from testkit.action_emulator import Zendesk

pytestmark = pytest.mark.timeout(60)

SENDER = "telegram-5521"


@pytest.fixture
def eu(zendesk: Zendesk, monkeypatch: pytest.MonkeyPatch) -> Zendesk:
    """A named connector `eu` on the running emulator; the default one unreachable, so a
    call that goes to the wrong connector fails the test."""
    config = zendesk.process.config
    env = {
        "ZENDESK_CONNECTORS": "eu",
        "ZENDESK_CONNECTOR_EU_SUBDOMAIN": "acme-eu",
        "ZENDESK_CONNECTOR_EU_APP_ID": config.app_id,
        "ZENDESK_CONNECTOR_EU_KEY_ID": config.key_id,
        "ZENDESK_CONNECTOR_EU_KEY_SECRET": config.key_secret,
        "ZENDESK_CONNECTOR_EU_WEBHOOK_SECRET": "whsec_eu",
        "ZENDESK_CONNECTOR_EU_API_URL": zendesk.process.api_url,
        "ZENDESK_CONNECTOR_EU_TAGS": "brand_eu",
        "ZENDESK_API_URL": f"http://127.0.0.1:{free_port()}/sc",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return zendesk


def opened(result: Dict[str, Any]) -> state.Handoff:
    value = next(e["value"] for e in result["events"] if e.get("name") == constants.SLOT_HANDOFF)
    handoff = state.Handoff.from_slot(value)
    assert handoff is not None
    return handoff


def asking(channel: str = "telegram", **values: Any) -> List[Any]:
    return [*slots(**values), *user("I want a person", "human_handoff", channel=channel)]


async def test_the_slot_chooses_the_connector(eu: Zendesk, executor: ActionExecutor) -> None:
    result = await run_action(
        executor, constants.ACTION_HANDOFF, SENDER, asking(zendesk_connector="eu")
    )
    assert responses(result) == [constants.UTTER_HANDOFF_STARTED]
    handoff = opened(result)
    assert handoff.connector == "eu"
    conversation = eu.conversation(handoff.conversation_id)
    assert conversation["metadata"][constants.CONVERSATION_CONNECTOR] == "eu"
    tags = eu.api_calls()[-1]["body"]["metadata"][TAGS].split(",")
    assert tags[0] == f"rasa_zendesk_conversation_{handoff.conversation_id}"
    assert "brand_eu" in tags

    # The relay and the end go through the connector the handoff recorded.
    turns = [
        *asking(zendesk_connector="eu"),
        *[_slot(constants.SLOT_HANDOFF, handoff.as_slot())],
        *user("my order never came", "inform", channel="telegram"),
    ]
    relayed = await run_action(executor, constants.ACTION_RELAY, SENDER, turns)
    assert responses(relayed) == []
    texts = [m["content"].get("text") for m in eu.conversation(handoff.conversation_id)["messages"]]
    assert "my order never came" in texts
    await run_action(
        executor, constants.ACTION_END_HANDOFF, SENDER, [*turns, *user("/end", "end_handoff")]
    )
    released = [c for c in eu.api_calls() if c["path"].endswith("/releaseControl")]
    assert [c["body"]["metadata"][constants.END_REASON_KEY] for c in released] == ["user_ended"]
    assert handoff.conversation_id in released[0]["path"]


async def test_the_input_channel_rule_then_the_default(
    eu: Zendesk, executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENDESK_CONNECTOR_BY_CHANNEL", "telegram=eu")
    result = await run_action(executor, constants.ACTION_HANDOFF, SENDER, asking("telegram"))
    assert opened(result).connector == "eu"
    # Another channel gets the default connector, which is unreachable here: the user hears
    # that the handoff failed, and nothing is recorded.
    failed = await run_action(executor, constants.ACTION_HANDOFF, "web-1", asking("socketio"))
    assert responses(failed) == [constants.UTTER_HANDOFF_FAILED]
    assert not [e for e in failed["events"] if e.get("name") == constants.SLOT_HANDOFF]


async def test_a_connector_that_is_not_configured_fails_the_handoff_without_a_call(
    eu: Zendesk, executor: ActionExecutor
) -> None:
    before = len(eu.api_calls())
    result = await run_action(
        executor, constants.ACTION_HANDOFF, SENDER, asking(zendesk_connector="asia")
    )
    assert responses(result) == [constants.UTTER_HANDOFF_FAILED]
    assert len(eu.api_calls()) == before


def _slot(name: str, value: Any) -> Any:
    return slots(**{name: value})[0]
