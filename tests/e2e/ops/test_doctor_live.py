"""The doctor's live checks against the emulator and a real Rasa server with the channel (in
process): a setup done right passes, and each mistake made on purpose (a wrong key secret, a
wrong webhook secret, no webhook, a webhook to the wrong URL, a missing trigger, an unknown
Agent Workspace) fails the matching check with its fix. The emulator's listings are checked
against the SunCo spec."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import AsyncIterator, Dict, List, Optional

import httpx
import pytest

from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.ops.doctor.rasa_checks import check_rasa
from rasa_zendesk.ops.doctor.result import Check, Findings
from rasa_zendesk.ops.doctor.zendesk_checks import check_zendesk
from rasa_zendesk.settings import ZendeskSettings
from testkit.channel_harness import CREDENTIALS, KEY_SECRET, SECRET
from testkit.emulator_stack import EmulatorStack, emulator_stack
from testkit.spec import validate_response

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def stack(db_path: Path) -> AsyncIterator[EmulatorStack]:
    async with emulator_stack(db_path) as running:
        yield running


def settings_of(stack: EmulatorStack, **changes: str) -> ChannelConfig:
    given = {**CREDENTIALS, "api_url": stack.emulator.api_url, **changes}
    return ChannelConfig.from_credentials(given, {})


async def zendesk_findings(
    connector: ZendeskSettings, public_url: Optional[str]
) -> Dict[str, List[Check]]:
    findings = Findings()
    await check_zendesk(connector, findings, public_url)
    by_status: Dict[str, List[Check]] = {}
    for check in findings.checks:
        by_status.setdefault(check.status, []).append(check)
    return by_status


async def test_a_setup_done_right_passes(stack: EmulatorStack) -> None:
    config = settings_of(stack)
    found = await zendesk_findings(config.settings, stack.rasa.url)
    assert "FAIL" not in found and "WARN" not in found, found
    names = [c.name for c in found["PASS"]]
    assert names == [
        "connector default credentials",
        "connector default webhook",
        "connector default webhook triggers",
        "connector default webhook secret",
        "connector default switchboard",
        "connector default switchboard default responder",
    ]
    # What the emulator cannot prove is said plainly.
    (note,) = found["NOTE"]
    assert "not that a Zendesk account is set up" in note.detail
    findings = Findings()
    await check_rasa(stack.rasa.url, config, findings)
    assert findings.ok and [c.status for c in findings.checks] == ["PASS"] * 3, findings.checks


async def test_a_wrong_key_secret_fails_authentication(stack: EmulatorStack) -> None:
    connector = dataclasses.replace(settings_of(stack).settings, key_secret=KEY_SECRET + "x")
    found = await zendesk_findings(connector, stack.rasa.url)
    (fail,) = found["FAIL"]
    assert fail.name == "connector default credentials" and "HTTP 401" in fail.detail
    assert "key_secret" in (fail.fix or "")
    assert KEY_SECRET not in fail.detail


async def test_a_wrong_webhook_secret_fails_in_zendesk_and_at_the_rasa_server(
    stack: EmulatorStack,
) -> None:
    config = settings_of(stack, webhook_secret=SECRET + "-old")
    found = await zendesk_findings(config.settings, stack.rasa.url)
    (fail,) = found["FAIL"]
    assert fail.name == "connector default webhook secret"
    assert SECRET not in fail.detail
    findings = Findings()
    await check_rasa(stack.rasa.url, config, findings)
    fails = [c for c in findings.checks if c.status == "FAIL"]
    assert [c.name for c in fails] == ["webhook /webhooks/zendesk/webhook with the secret"]
    assert "ZENDESK_WEBHOOK_SECRET" in (fails[0].fix or "")


async def test_no_webhook_fails(stack: EmulatorStack) -> None:
    await stack.control("POST", "/webhook-config", {"urls": []})
    found = await zendesk_findings(settings_of(stack).settings, stack.rasa.url)
    (fail,) = found["FAIL"]
    assert fail.name == "connector default webhook"
    assert "the app's webhooks call: nothing" in fail.detail
    assert stack.rasa.url + "/webhooks/zendesk/webhook" in (fail.fix or "")


async def test_a_webhook_to_another_url_fails(stack: EmulatorStack) -> None:
    found = await zendesk_findings(settings_of(stack).settings, "https://bot.example.com")
    (fail,) = found["FAIL"]
    assert fail.name == "connector default webhook"
    assert "no webhook calls https://bot.example.com/webhooks/zendesk/webhook" in fail.detail
    assert stack.rasa.url in fail.detail  # where it does point


async def test_a_missing_trigger_fails_and_the_emulator_sends_only_its_triggers(
    stack: EmulatorStack,
) -> None:
    triggers = {"triggers": ["conversation:message", "switchboard:releaseControl"]}
    await stack.control("POST", "/webhook-triggers", triggers)
    found = await zendesk_findings(settings_of(stack).settings, stack.rasa.url)
    assert [c.name for c in found["FAIL"]] == ["connector default webhook triggers"]
    assert "switchboard:passControl" in found["FAIL"][0].detail
    assert [c.name for c in found["WARN"]] == ["connector default webhook triggers"]  # typing
    _, conversation_id = await stack.new_handoff()
    await stack.sunco.pass_control(conversation_id, "zd-agentWorkspace")
    deliveries = await stack.settled()
    passed = [d for d in deliveries if d["eventType"] == "switchboard:passControl"]
    assert [d["status"] for d in passed] == ["skipped"]


async def test_an_unknown_agent_workspace_setting_fails(stack: EmulatorStack) -> None:
    connector = settings_of(stack, agent_workspace="zd-nobody").settings
    found = await zendesk_findings(connector, stack.rasa.url)
    assert [c.name for c in found["FAIL"]] == ["connector default switchboard agent_workspace"]


async def test_the_listings_match_the_spec(stack: EmulatorStack) -> None:
    base = stack.emulator.api_url
    auth = (CREDENTIALS["key_id"], KEY_SECRET)
    async with httpx.AsyncClient(base_url=base, auth=auth) as http:
        app = f"/v2/apps/{CREDENTIALS['app_id']}"
        listed = await http.get(f"{app}/integrations")
        validate_response("GET", f"/sc{app}/integrations", 200, listed.json())
        (custom,) = listed.json()["integrations"]
        hooks = await http.get(f"{app}/integrations/{custom['id']}/webhooks")
        validate_response(
            "GET", f"/sc{app}/integrations/{custom['id']}/webhooks", 200, hooks.json()
        )
        (hook,) = hooks.json()["webhooks"]
        assert hook["target"] == stack.rasa.url + "/webhooks/zendesk/webhook"
        assert hook["version"] == "v2" and "switchboard:passControl" in hook["triggers"]
        unknown = await http.get(f"{app}/integrations/nope/webhooks")
        assert unknown.status_code == 404
        validate_response("GET", f"/sc{app}/integrations/nope/webhooks", 404, unknown.json())
        refused = await http.get(f"{app}/integrations", auth=(CREDENTIALS["key_id"], "wrong"))
        assert refused.status_code == 401
