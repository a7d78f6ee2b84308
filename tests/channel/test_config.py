"""credentials.yml -> ZendeskInput, read by Rasa's own start-up code (`rasa run` reads the file
with `create_http_input_channels`), with Rasa's `${VAR}` substitution."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Dict

import pytest
from rasa.core.run import create_http_input_channels
from rasa.shared.exceptions import RasaException

from rasa_zendesk.channel.config import DEFAULT_MAX_BODY_BYTES, ChannelConfig
from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.channel.tracker_cache import DEFAULT_CACHE_MAX_MB, DEFAULT_CACHE_SIZE
from rasa_zendesk.settings import REQUIRED, SettingsError, Sources
from testkit.channel_harness import CREDENTIALS, KEY_SECRET, SECRET

FROM_ENV = """
rasa_zendesk.ZendeskInput:
  subdomain: ${ZENDESK_SUBDOMAIN}
  app_id: ${ZENDESK_APP_ID}
  key_id: ${ZENDESK_KEY_ID}
  key_secret: ${ZENDESK_KEY_SECRET}
  webhook_secret: "${ZENDESK_WEBHOOK_SECRET}"
  api_url: "${ZENDESK_API_URL}"
"""


def clear_zendesk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [name for name in os.environ if name.startswith("ZENDESK_")]:
        monkeypatch.delenv(var)


@pytest.fixture
def zendesk_env(monkeypatch: pytest.MonkeyPatch) -> Dict[str, str]:
    values = {Sources().env_name(name): CREDENTIALS[name] for name in REQUIRED}
    clear_zendesk_env(monkeypatch)
    for var, value in values.items():
        monkeypatch.setenv(var, value)
    return values


def load(tmp_path: Path, text: str) -> ZendeskInput:
    path = tmp_path / "credentials.yml"
    path.write_text(text)
    [channel] = create_http_input_channels(None, str(path))
    assert isinstance(channel, ZendeskInput)
    return channel


def test_rasa_builds_the_channel_from_credentials_yml(
    tmp_path: Path, zendesk_env: Dict[str, str]
) -> None:
    channel = load(tmp_path, FROM_ENV)

    assert channel.name() == "zendesk"
    settings = channel.config.settings
    assert (settings.subdomain, settings.app_id, settings.key_id) == (
        "acme",
        "app_test",
        "key_test",
    )
    assert settings.webhook_secret == SECRET
    # ZENDESK_API_URL is not set: the quoted "${ZENDESK_API_URL}" stays unexpanded = not set.
    assert settings.base_url == "https://acme.zendesk.com/sc"
    assert channel.config.max_body_bytes == DEFAULT_MAX_BODY_BYTES


def test_the_api_url_override(
    tmp_path: Path, zendesk_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENDESK_API_URL", "http://127.0.0.1:8090/sc/")

    assert load(tmp_path, FROM_ENV).config.settings.base_url == "http://127.0.0.1:8090/sc"


@pytest.mark.parametrize("unset", ["ZENDESK_WEBHOOK_SECRET", "ZENDESK_KEY_SECRET"])
def test_a_missing_setting_stops_start_up_naming_it(
    tmp_path: Path,
    zendesk_env: Dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    unset: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv(unset)

    with pytest.raises((SettingsError, RasaException)) as failure:
        load(tmp_path, FROM_ENV)

    assert unset in str(failure.value)
    for secret in (SECRET, KEY_SECRET):
        assert secret not in str(failure.value)
        assert secret not in caplog.text


def test_an_empty_variable_counts_as_missing(
    tmp_path: Path, zendesk_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", "")

    with pytest.raises(SettingsError, match=r"webhook_secret \(ZENDESK_WEBHOOK_SECRET\)"):
        load(tmp_path, FROM_ENV)


def test_settings_left_out_of_credentials_yml_come_from_the_environment(
    tmp_path: Path, zendesk_env: Dict[str, str]
) -> None:
    channel = load(tmp_path, "rasa_zendesk.ZendeskInput:\n  subdomain: other\n")

    assert channel.config.settings.subdomain == "other"
    assert channel.config.settings.key_secret == KEY_SECRET


def test_every_missing_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_zendesk_env(monkeypatch)

    with pytest.raises(SettingsError) as failure:
        ZendeskInput.from_credentials({"key_secret": KEY_SECRET})

    message = str(failure.value)
    for name in ("subdomain", "app_id", "key_id", "webhook_secret"):
        assert f"{name} (ZENDESK_{name.upper()})" in message
    assert "key_secret" not in message
    assert KEY_SECRET not in message


def test_optional_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    config = ChannelConfig.from_credentials(
        {
            **CREDENTIALS,
            "max_body_bytes": "2048",
            "handoff_ended_text": "Bye!",
            "typing_event": "typing",
            "tracker_cache_size": "0",
            "tracker_cache_max_mb": "16",
        },
        environ={},
    )

    assert (
        config.max_body_bytes,
        config.handoff.handoff_ended_text,
        config.typing_event,
        config.tracker_cache_size,
        config.tracker_cache_max_mb,
        config.tracker_cache_max_bytes,
    ) == (2048, "Bye!", "typing", 0, 16, 16 * 1024 * 1024)


def test_the_tracker_cache_is_bounded_by_default() -> None:
    config = ChannelConfig.from_credentials(CREDENTIALS, environ={})

    assert (config.tracker_cache_size, config.tracker_cache_max_mb) == (
        DEFAULT_CACHE_SIZE,
        DEFAULT_CACHE_MAX_MB,
    )


def test_rasa_reads_the_cache_budget_from_credentials_yml(
    tmp_path: Path, zendesk_env: Dict[str, str]
) -> None:
    channel = load(tmp_path, "rasa_zendesk.ZendeskInput:\n  tracker_cache_max_mb: 8\n")

    assert channel.config.tracker_cache_max_bytes == 8 * 1024 * 1024


@pytest.mark.parametrize(
    "name, value",
    [
        ("max_body_bytes", "0"),
        ("max_body_bytes", "-5"),
        ("max_body_bytes", "lots"),
        ("tracker_cache_size", "-1"),
        ("tracker_cache_size", "many"),
        ("tracker_cache_max_mb", "0"),
        ("tracker_cache_max_mb", "-1"),
        ("tracker_cache_max_mb", "1.5"),
        ("tracker_cache_max_mb", "64MB"),
    ],
)
def test_a_bad_number_stops_start_up(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        ChannelConfig.from_credentials({**CREDENTIALS, name: value}, environ={})


@pytest.mark.parametrize(
    "name, value",
    [
        ("ZENDESK_PLATFORM_SEND_TIMEOUT", "0"),
        ("ZENDESK_PLATFORM_SEND_TIMEOUT", "soon"),
        ("ZENDESK_USER_FILE_HOSTS", "https://fbcdn.net/x"),
        ("ZENDESK_ACTION_DEADLINE", "-1"),
    ],
)
def test_a_shared_setting_in_the_wrong_form_stops_the_rasa_server_too(
    name: str, value: str
) -> None:
    """Read by the action server, checked when the channel starts too."""
    with pytest.raises(SettingsError, match=name):
        ChannelConfig.from_credentials(CREDENTIALS, environ={name: value})


def test_the_secrets_are_not_in_the_config_repr() -> None:
    config = ChannelConfig.from_credentials(CREDENTIALS, environ={})

    assert SECRET not in repr(config)
    assert KEY_SECRET not in repr(config)


@pytest.mark.parametrize(
    "credentials, environ, frozen",
    [
        ({}, {}, False),  # off unless asked for
        ({"gc_freeze": "true"}, {}, True),
        ({}, {"ZENDESK_GC_FREEZE": "yes"}, True),
        ({"gc_freeze": "false"}, {"ZENDESK_GC_FREEZE": "true"}, False),  # credentials.yml first
    ],
)
def test_gc_freeze_is_an_opt_in(
    credentials: Dict[str, str], environ: Dict[str, str], frozen: bool
) -> None:
    config = ChannelConfig.from_credentials({**CREDENTIALS, **credentials}, environ=environ)
    assert config.gc_freeze is frozen


@pytest.mark.parametrize(
    "credentials, environ, seconds",
    [
        ({}, {}, 15),
        ({"platform_send_timeout": "4"}, {}, 4),
        ({}, {"ZENDESK_PLATFORM_SEND_TIMEOUT": "6"}, 6),
        ({"platform_send_timeout": "4"}, {"ZENDESK_PLATFORM_SEND_TIMEOUT": "6"}, 4),
    ],
)
def test_the_channel_reads_the_platform_send_timeout_at_start(
    credentials: Dict[str, str], environ: Dict[str, str], seconds: int
) -> None:
    """The one read of `platform_send_timeout`: every send takes it from here."""
    config = ChannelConfig.from_credentials({**CREDENTIALS, **credentials}, environ=environ)
    assert config.sending.send_timeout == seconds


def test_a_platform_send_timeout_in_the_wrong_form_stops_start_up_naming_it() -> None:
    named = r"platform_send_timeout \(ZENDESK_PLATFORM_SEND_TIMEOUT\)"
    with pytest.raises(SettingsError, match=named):
        ChannelConfig.from_credentials({**CREDENTIALS, "platform_send_timeout": "soon"}, {})


def test_gc_freeze_in_the_wrong_form_stops_start_up_naming_it() -> None:
    with pytest.raises(SettingsError, match=r"gc_freeze \(ZENDESK_GC_FREEZE\)"):
        ChannelConfig.from_credentials(CREDENTIALS, environ={"ZENDESK_GC_FREEZE": "sometimes"})
