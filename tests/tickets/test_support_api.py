"""The Support API client against the emulator: a static OAuth token, or an OAuth client's
credentials (`client_credentials`) with the token fetched once, refreshed before it expires
on the plugin's clock, and fetched again when Zendesk refuses it; what Zendesk says of the
token; errors that never carry a secret."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Tuple

import pytest

from rasa_zendesk.emulator import EmulatorServer
from rasa_zendesk.emulator.config import DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET
from rasa_zendesk.tickets import support_api
from rasa_zendesk.tickets.support_api import SupportApiError
from testkit.clock_file import ClockFile
from testkit.emulator_support import SunCoApi
from testkit.support_tickets import connector, emulated_account

pytestmark = pytest.mark.timeout(30)

Account = Tuple[EmulatorServer, SunCoApi]


@pytest.fixture
async def account() -> AsyncIterator[Account]:
    async for pair in emulated_account():
        yield pair


async def token_calls(api: SunCoApi) -> list:
    log = await api.control("GET", "/requests?pathContains=/oauth/tokens&method=POST")
    return log["requests"]


async def test_a_static_token_reads_what_zendesk_says_of_it(account: Account) -> None:
    server, api = account
    await api.control(
        "POST",
        "/support",
        {"oauthTokenExpiresAt": "2030-01-01T00:00:00Z", "oauthTokenScopes": ["read"]},
    )
    info = await support_api.token_info(connector(server), 5)
    assert info.scopes == ("read",)
    assert info.expires_at == pytest.approx(1893456000)
    assert support_api.grants(info.scopes, "read")
    assert not support_api.grants(info.scopes, "tickets:write")
    assert await token_calls(api) == []


async def test_client_credentials_fetch_one_token_and_reuse_it(account: Account) -> None:
    server, api = account
    settings = connector(server, client_credentials=True)
    for _ in range(3):
        info = await support_api.token_info(settings, 5)
    assert info.scopes == ("read", "tickets:write")
    assert info.expires_at is not None
    (fetch,) = await token_calls(api)
    assert fetch["body"]["grant_type"] == "client_credentials"
    assert fetch["body"]["client_secret"] == "<hidden>"  # never kept in the request log


async def test_the_token_is_refreshed_before_it_expires(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, api = account
    monkeypatch.setenv("ZENDESK_CLOCK_FILE", str(tmp_path / "clock"))
    clock = ClockFile(tmp_path / "clock")
    await api.control("POST", "/support", {"tokenLifetime": 3600})
    settings = connector(server, client_credentials=True)
    await support_api.token_info(settings, 5)
    clock.advance(3600 - support_api.REFRESH_BEFORE - 10)  # not yet
    await support_api.token_info(settings, 5)
    assert len(await token_calls(api)) == 1
    clock.advance(20)  # within REFRESH_BEFORE of the expiry: a new token first
    await support_api.token_info(settings, 5)
    assert len(await token_calls(api)) == 2


async def test_a_refused_token_is_fetched_again_once(account: Account) -> None:
    server, api = account
    settings = connector(server, client_credentials=True)
    await support_api.token_info(settings, 5)
    server.emulator.support.tokens = {  # Zendesk revoked the client's tokens
        value: token
        for value, token in server.emulator.support.tokens.items()
        if token.client_id is None
    }
    await support_api.token_info(settings, 5)
    assert len(await token_calls(api)) == 2


async def test_failures_name_the_call_and_status_never_a_secret(account: Account) -> None:
    server, api = account
    wrong = connector(
        server, client_credentials=True, support_oauth_client_secret="not-the-secret-4711"
    )
    with pytest.raises(SupportApiError) as refused:
        await support_api.token_info(wrong, 5)
    assert refused.value.status == 401 and not refused.value.passing
    assert "invalid_client" in str(refused.value)
    assert "not-the-secret-4711" not in str(refused.value)
    await api.control(
        "POST", "/faults", {"pathContains": "/oauth/tokens/current", "status": 503}, expect=201
    )
    with pytest.raises(SupportApiError) as failing:
        await support_api.token_info(connector(server, client_credentials=True), 5)
    assert failing.value.status == 503 and failing.value.passing
    assert DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET not in str(failing.value)
    await api.control(
        "POST", "/faults", {"pathContains": "/oauth/tokens/current", "hang": True}, expect=201
    )
    with pytest.raises(SupportApiError) as silent:
        await support_api.token_info(connector(server), 0.5)
    assert silent.value.status is None and silent.value.passing
