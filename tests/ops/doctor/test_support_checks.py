"""The doctor's verdicts on the Support API's auth, against the emulator: an API token FAILs
(Zendesk stops them on 30 Apr 2027), a static OAuth token expiring within 14 days or without
a scope the plugin uses WARNs, an OAuth client's credentials PASS. No secret in the output."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, List, Tuple

import pytest

from rasa_zendesk.emulator import EmulatorServer
from rasa_zendesk.emulator.config import (
    DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET,
    DEFAULT_SUPPORT_OAUTH_TOKEN,
)
from rasa_zendesk.ops.doctor.result import FAIL, NOTE, PASS, WARN, Findings
from rasa_zendesk.ops.doctor.settings_checks import check_settings
from rasa_zendesk.ops.doctor.support_checks import check_support
from testkit.emulator_support import SunCoApi
from testkit.support_tickets import connector, emulated_account

pytestmark = pytest.mark.timeout(30)

Account = Tuple[EmulatorServer, SunCoApi]
SECRETS = (DEFAULT_SUPPORT_OAUTH_TOKEN, DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET)


@pytest.fixture
async def account() -> AsyncIterator[Account]:
    async for pair in emulated_account():
        yield pair


def verdicts(findings: Findings) -> List[Tuple[str, str]]:
    text = findings.as_text("doctor")
    assert not any(secret in text for secret in SECRETS), text
    return [(check.status, check.detail) for check in findings.checks]


async def test_client_credentials_pass(account: Account) -> None:
    server, _ = account
    findings = Findings()
    await check_support(connector(server, client_credentials=True), findings)
    (auth, scopes) = verdicts(findings)
    assert auth[0] == PASS and "rasa_zendesk_demo gets tokens" in auth[1]
    assert scopes == (PASS, "read tickets:write")


async def test_a_token_expiring_within_14_days_warns(account: Account) -> None:
    server, api = account
    soon = datetime.now(timezone.utc) + timedelta(days=9, hours=12)
    await api.control(
        "POST", "/support", {"oauthTokenExpiresAt": soon.strftime("%Y-%m-%dT%H:%M:%SZ")}
    )
    findings = Findings()
    await check_support(connector(server), findings)
    (expiry, scopes) = verdicts(findings)
    assert expiry[0] == WARN and "expires in 9.5 days" in expiry[1]
    assert scopes[0] == PASS
    later = datetime.now(timezone.utc) + timedelta(days=30)
    await api.control(
        "POST", "/support", {"oauthTokenExpiresAt": later.strftime("%Y-%m-%dT%H:%M:%SZ")}
    )
    findings = Findings()
    await check_support(connector(server), findings)
    assert verdicts(findings)[0][0] == PASS


async def test_a_missing_scope_warns_naming_what_needs_it(account: Account) -> None:
    server, api = account
    await api.control("POST", "/support", {"oauthTokenScopes": ["tickets:read"]})
    findings = Findings()
    await check_support(connector(server, check_agent_availability="true"), findings)
    warned = [detail for status, detail in verdicts(findings) if status == WARN]
    assert len(warned) == 2
    assert "lacks tickets:write" in warned[0] and "CSAT" in warned[0]
    assert "lacks read" in warned[1] and "agents online" in warned[1]


async def test_a_refused_client_or_token_fails(account: Account) -> None:
    server, api = account
    findings = Findings()
    wrong = connector(server, client_credentials=True, support_oauth_client_secret="nope-nope")
    await check_support(wrong, findings)
    await api.control("POST", "/support", {"oauthToken": "zdoauth_other_token"})
    await check_support(connector(server), findings)
    (client, token) = verdicts(findings)
    assert client[0] == FAIL and "gets no token" in client[1] and "401" in client[1]
    assert token[0] == FAIL and "does not work" in token[1]


async def test_without_support_auth_it_is_a_note(account: Account) -> None:
    server, _ = account
    findings = Findings()
    settings = connector(server, client_credentials=True)
    await check_support(
        replace(settings, support_oauth_client_id=None, support_oauth_client_secret=None),
        findings,
    )
    assert [status for status, _ in verdicts(findings)] == [NOTE]


@pytest.mark.parametrize(
    "auth",
    [
        {"ZENDESK_SUPPORT_API_TOKEN": "abcdefghij0123456789abcdefghij0123456789"},
        {"ZENDESK_SUPPORT_OAUTH_TOKEN": "agent@example.com/token:abcdefghij0123456789"},
    ],
)
def test_an_api_token_fails_in_the_settings(auth: dict) -> None:
    env = {
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_APP_ID": "app",
        "ZENDESK_KEY_ID": "key",
        "ZENDESK_KEY_SECRET": "secret",
        "ZENDESK_WEBHOOK_SECRET": "whsec",
        **auth,
    }
    findings = Findings()
    assert check_settings({}, findings, env) is None
    (check,) = findings.checks
    assert check.status == FAIL and "30 Apr 2027" in check.detail
    assert "abcdefghij0123456789" not in findings.as_text("doctor")
