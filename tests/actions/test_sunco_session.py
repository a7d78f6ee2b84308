"""The action server's shared SunCo client: one per event loop and environment."""

from __future__ import annotations

import asyncio

import pytest

from rasa_zendesk.actions import sunco_session
from rasa_zendesk.settings import SettingsError, Sources
from rasa_zendesk.sunco.client import SunCoClient

ENV = {
    "ZENDESK_SUBDOMAIN": "acme",
    "ZENDESK_APP_ID": "app_1",
    "ZENDESK_KEY_ID": "key_1",
    "ZENDESK_KEY_SECRET": "secret_1",
    "ZENDESK_WEBHOOK_SECRET": "whsec_1",
}
TIMEOUT_ENV = Sources().env_name("request_timeout")
DEADLINE_ENV = Sources().env_name("request_deadline")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ZENDESK_API_URL", raising=False)
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    monkeypatch.delenv(DEADLINE_ENV, raising=False)
    return monkeypatch


async def test_one_client_per_loop_rebuilt_when_settings_change(
    env: pytest.MonkeyPatch,
) -> None:
    first = sunco_session.get_client()
    assert sunco_session.get_client() is first
    assert first.app_id == "app_1"
    env.setenv("ZENDESK_APP_ID", "app_2")
    second = sunco_session.get_client()
    assert second is not first and second.app_id == "app_2"
    await second.aclose()  # the first is closed by the switch


def test_a_new_event_loop_gets_a_new_client(env: pytest.MonkeyPatch) -> None:
    async def client() -> SunCoClient:
        return sunco_session.get_client()

    loop_a, loop_b = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        client_a = loop_a.run_until_complete(client())
        assert loop_a.run_until_complete(client()) is client_a
        assert loop_b.run_until_complete(client()) is not client_a
        client_b = loop_b.run_until_complete(client())
        loop_a.run_until_complete(client_a.aclose())
        loop_b.run_until_complete(client_b.aclose())
    finally:
        loop_a.close()
        loop_b.close()


def test_timeouts_from_the_environment() -> None:
    assert sunco_session.client_options({}) == {"timeout": 10.0, "deadline": 20.0}
    options = sunco_session.client_options({TIMEOUT_ENV: "2.5", DEADLINE_ENV: " 7 "})
    assert options == {"timeout": 2.5, "deadline": 7.0}
    for bad in ("0", "-1", "soon"):
        with pytest.raises(SettingsError, match=DEADLINE_ENV):
            sunco_session.client_options({DEADLINE_ENV: bad})


async def test_missing_settings_name_the_variable(env: pytest.MonkeyPatch) -> None:
    env.delenv("ZENDESK_KEY_SECRET")
    with pytest.raises(SettingsError, match="ZENDESK_KEY_SECRET"):
        sunco_session.get_client()
