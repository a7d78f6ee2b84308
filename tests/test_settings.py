"""One parser for the settings both servers read: credentials.yml keys, else ZENDESK_*."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from rasa_zendesk.settings import (
    ENV_FILE,
    Connectors,
    HandoffSettings,
    SettingsError,
    Sources,
    UnknownConnector,
    environment,
    read_env_file,
)

pytestmark = pytest.mark.timeout(10)


def test_defaults() -> None:
    assert HandoffSettings.read(Sources({}, {})) == HandoffSettings(
        agent_timeout=600, idle_timeout=0, max_duration=86400, agent_joined_notice=True
    )


def test_the_channel_s_keys_come_first_then_the_environment() -> None:
    env = {"ZENDESK_AGENT_TIMEOUT": "120", "ZENDESK_IDLE_TIMEOUT": "900"}
    read = HandoffSettings.read(Sources({"agent_timeout": "60"}, env))
    assert (read.agent_timeout, read.idle_timeout) == (60, 900)
    env = {"ZENDESK_MAX_DURATION": "3600", "ZENDESK_AGENT_JOINED_NOTICE": "off"}
    env["ZENDESK_AFTER_HANDOFF_ACTION"] = "utter_ask_feedback"
    read = HandoffSettings.read(Sources(None, env))
    assert read.max_duration == 3600 and read.agent_joined_notice is False
    assert read.after_handoff_action == "utter_ask_feedback"
    env = {"ZENDESK_EXTERNAL_ID_CHANNELS": "rest, my_app.LoggedInInput"}
    assert HandoffSettings.read(Sources(None, env)).external_id_channels == (
        "rest",
        "my_app.LoggedInInput",
    )
    given = Sources({"external_id_channels": ["rest"]}, env)
    assert HandoffSettings.read(given).external_id_channels == ("rest",)


def test_an_unexpanded_variable_is_not_a_setting() -> None:
    read = HandoffSettings.read(Sources({"agent_timeout": "${ZENDESK_AGENT_TIMEOUT}"}, {}))
    assert read.agent_timeout == 600


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("agent_timeout", "10 minutes", "agent_timeout (ZENDESK_AGENT_TIMEOUT) must be a whole"),
        ("idle_timeout", "-5", "idle_timeout (ZENDESK_IDLE_TIMEOUT) must be a whole"),
        ("max_duration", "1.5", "max_duration (ZENDESK_MAX_DURATION) must be a whole"),
        ("agent_joined_notice", "sometimes", "agent_joined_notice (ZENDESK_AGENT_JOINED_NOTICE)"),
    ],
)
def test_a_setting_in_the_wrong_form_names_itself_and_the_right_form(
    name: str, value: str, says: str
) -> None:
    with pytest.raises(SettingsError, match=r".*") as error:
        HandoffSettings.read(Sources({name: value}, {}))
    assert says in str(error.value)
    assert value not in str(error.value)  # never echoes what was given (it may be a secret)


def import_actions(**variables: str) -> subprocess.CompletedProcess:
    """Import the actions as `rasa run actions` does at start, with these variables only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENDESK_")}
    return subprocess.run(
        [sys.executable, "-c", "import rasa_zendesk.actions"],
        env={**env, **variables},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.timeout(120)
def test_the_action_server_stops_at_start_on_a_setting_in_the_wrong_form() -> None:
    """`rasa run actions` imports the actions: a wrong value stops it there, named."""
    started = import_actions(ZENDESK_AGENT_TIMEOUT="ten minutes")
    assert started.returncode != 0
    assert "agent_timeout (ZENDESK_AGENT_TIMEOUT) must be a whole number" in started.stderr
    assert "ten minutes" not in started.stderr
    started = import_actions(ZENDESK_CONNECTOR_BY_CHANNEL="telegram")
    assert started.returncode != 0
    assert "connector_by_channel (ZENDESK_CONNECTOR_BY_CHANNEL) must be" in started.stderr
    # Missing connection settings fail the handoffs, naming them, not the import.
    assert import_actions().returncode == 0


# Connectors: the unnamed one, named ones, and which one a conversation goes to.

BASE = {
    "ZENDESK_SUBDOMAIN": "acme",
    "ZENDESK_APP_ID": "app_default",
    "ZENDESK_KEY_ID": "key_default",
    "ZENDESK_KEY_SECRET": "ks-default-0001",
    "ZENDESK_WEBHOOK_SECRET": "wh-default-0001",
}


def named(name: str, **extra: str) -> Dict[str, str]:
    prefix = f"ZENDESK_CONNECTOR_{name.upper()}_"
    values = {
        "SUBDOMAIN": f"acme-{name}",
        "APP_ID": f"app_{name}",
        "KEY_ID": f"key_{name}",
        "KEY_SECRET": f"ks-{name}-0002",
        "WEBHOOK_SECRET": f"wh-{name}-0002",
        **extra,
    }
    return {prefix + key: value for key, value in values.items()}


def test_the_unnamed_connector_alone_is_the_simple_case() -> None:
    connectors = Connectors.read(Sources(None, BASE))
    assert list(connectors.by_name) == ["default"] and not connectors.named
    assert connectors.default.app_id == "app_default"
    assert connectors.default.ticket_webhook_enabled is False
    assert connectors.default.ticket_webhook_api_key_header == "X-API-Key"
    assert connectors.choose(None, "telegram") is connectors.default


def test_named_connectors_from_the_environment() -> None:
    env = {
        **BASE,
        "ZENDESK_CONNECTORS": "eu, us",
        **named("eu", TICKET_WEBHOOK_SECRET="tk-eu", TAGS="brand_eu,emea"),
        **named("us", API_URL="http://127.0.0.1:1/sc", AGENT_WORKSPACE="zd-aw-us"),
        "ZENDESK_CONNECTOR_BY_CHANNEL": "telegram=eu, slack=us",
    }
    connectors = Connectors.read(Sources(None, env))
    assert list(connectors.by_name) == ["default", "eu", "us"] and connectors.named
    eu, us = connectors.get("eu"), connectors.get("us")
    assert (eu.app_id, eu.name, eu.tags, eu.ticket_webhook_enabled) == (
        "app_eu",
        "eu",
        ("brand_eu", "emea"),
        True,
    )
    assert us.base_url == "http://127.0.0.1:1/sc" and us.agent_workspace == "zd-aw-us"
    assert connectors.default_name == "default"
    # The slot first, then the input channel's rule, then the default.
    assert connectors.choose("us", "telegram") is us
    assert connectors.choose(None, "telegram") is eu
    assert connectors.choose(None, "socketio") is connectors.default
    with pytest.raises(UnknownConnector, match="no Zendesk connector 'asia'"):
        connectors.choose("asia", None)
    assert "ks-eu" not in repr(eu) and "tk-eu" not in repr(eu)


def test_only_named_connectors_and_a_chosen_default() -> None:
    env = {"ZENDESK_CONNECTORS": "eu,us", **named("eu"), **named("us")}
    assert Connectors.read(Sources(None, env)).default_name == "eu"
    env["ZENDESK_DEFAULT_CONNECTOR"] = "us"
    assert Connectors.read(Sources(None, env)).default.app_id == "app_us"


def test_routing_per_connector_from_credentials_yml_and_the_environment() -> None:
    given = {
        "ticket_fields": {"order_number": 360001234567, "plan": "360001234568"},
        "group_by_intent": {"billing_question": 360000111},
        "default_group": "360000999",
    }
    routing = Connectors.read(Sources(given, BASE)).default.routing
    assert routing.ticket_fields == (("order_number", "360001234567"), ("plan", "360001234568"))
    assert routing.group_by_intent == (("billing_question", "360000111"),)
    assert routing.default_group == "360000999" and routing.brand_id is None
    env = {
        **BASE,
        **named("eu", SYSTEM_FIELDS="tier=priority,org=organization_id", BRAND_ID="42"),
        "ZENDESK_CONNECTORS": "eu",
        "ZENDESK_CONNECTOR_EU_GROUP_BY_TRIGGER": "frustration=360000222",
    }
    eu = Connectors.read(Sources(None, env)).get("eu").routing
    assert eu.system_fields == (("tier", "priority"), ("org", "organization_id"))
    assert eu.group_by_trigger == (("frustration", "360000222"),) and eu.brand_id == "42"
    assert eu.slots == ("tier", "org")
    assert eu.missing_slots(["tier", "email"]) == ["org"]
    with pytest.raises(SettingsError, match="not define: org;"):
        eu.check_slots({"tier": None}, "the bot's domain")


@pytest.mark.parametrize(
    "values, says",
    [
        ({"TICKET_FIELDS": "order_number=abc"}, "ticket_fields (ZENDESK_TICKET_FIELDS) takes"),
        ({"TICKET_FIELDS": "order_number"}, "must be slot=field id pairs"),
        ({"GROUP_BY_INTENT": "billing=-1"}, "group_by_intent (ZENDESK_GROUP_BY_INTENT) takes"),
        ({"GROUP_BY_TRIGGER": "angry=1"}, "names escalation kinds, one of explicit_request"),
        ({"SYSTEM_FIELDS": "tier=status"}, "one of group_id, brand_id"),
        ({"DEFAULT_GROUP": "sales"}, "default_group (ZENDESK_DEFAULT_GROUP) takes Zendesk ids"),
        ({"BRAND_ID": "1.5"}, "brand_id (ZENDESK_BRAND_ID) takes Zendesk ids"),
    ],
)
def test_routing_in_the_wrong_form_stops_start_up(values: Dict[str, str], says: str) -> None:
    env = {**BASE, **{f"ZENDESK_{key}": value for key, value in values.items()}}
    with pytest.raises(SettingsError, match=re.escape(says)):
        Connectors.read(Sources(None, env))


def test_credentials_yml_names_connectors_as_a_mapping() -> None:
    given = {
        **{key.removeprefix("ZENDESK_").lower(): value for key, value in BASE.items()},
        "connectors": {"eu": {"app_id": "app_eu_from_yml"}},
        "connector_by_channel": {"telegram": "eu"},
    }
    env = named("eu")
    connectors = Connectors.read(Sources(given, env))
    assert connectors.get("eu").app_id == "app_eu_from_yml"  # the key first
    assert connectors.get("eu").key_id == "key_eu"  # then its variable
    assert connectors.choose(None, "telegram").name == "eu"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({**BASE, "ZENDESK_CONNECTORS": "EU"}, "connectors (ZENDESK_CONNECTORS): connector names"),
        ({**BASE, "ZENDESK_CONNECTORS": "webhook"}, "not one of"),
        ({**BASE, "ZENDESK_CONNECTORS": "e-u"}, "lower-case letters"),
        ({**BASE, "ZENDESK_DEFAULT_CONNECTOR": "eu"}, "connector 'eu', which is not configured"),
        ({**BASE, "ZENDESK_CONNECTOR_BY_CHANNEL": "telegram"}, "channel=connector pairs"),
        ({**BASE, "ZENDESK_CONNECTOR_BY_CHANNEL": "telegram=asia"}, "'asia', which is not"),
        (
            {**BASE, "ZENDESK_CONNECTORS": "eu", **named("eu", APP_ID="")},
            "in connector eu (ZENDESK_CONNECTOR_EU_*): app_id (ZENDESK_CONNECTOR_EU_APP_ID)",
        ),
        (
            {"ZENDESK_CONNECTORS": "eu", **named("eu"), "ZENDESK_APP_ID": "half"},
            "subdomain (ZENDESK_SUBDOMAIN)",
        ),
        ({}, "webhook_secret (ZENDESK_WEBHOOK_SECRET)"),
    ],
)
def test_connector_settings_in_the_wrong_form_stop_start_up(env: Dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError) as error:
        Connectors.read(Sources(None, env))
    assert says in str(error.value)
    assert "ks-" not in str(error.value) and "wh-" not in str(error.value)


@pytest.mark.parametrize(
    ("values", "says"),
    [
        (
            {"ZENDESK_BUSINESS_HOURS": "Mars/Olympus; mon 09:00-17:00"},
            "business_hours (ZENDESK_BUSINESS_HOURS)",
        ),
        (
            {"ZENDESK_BUSINESS_HOURS": "Europe/Berlin; weekdays 9-5"},
            "for example Europe/Berlin; mon-fri",
        ),
        ({"ZENDESK_HOLIDAYS": "24.12.2026"}, "holidays (ZENDESK_HOLIDAYS)"),
        ({"ZENDESK_CHECK_AGENT_AVAILABILITY": "sometimes"}, "check_agent_availability"),
        (
            {"ZENDESK_CHECK_AGENT_AVAILABILITY": "true"},
            "support_oauth_token (ZENDESK_SUPPORT_OAUTH_TOKEN)",
        ),
        ({"ZENDESK_BUSINESS_HOURS_FROM_ZENDESK": "yes"}, "support_oauth_token"),
    ],
)
def test_hours_settings_in_the_wrong_form_stop_start_up(values: Dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError) as error:
        Connectors.read(Sources(None, {**BASE, **values}))
    assert says in str(error.value)


def test_hours_settings_per_connector() -> None:
    env = {
        **BASE,
        "ZENDESK_BUSINESS_HOURS": "Europe/Berlin; mon-fri 09:00-17:00",
        "ZENDESK_HOLIDAYS": "2026-12-24, 2026-12-25",
        "ZENDESK_CONNECTORS": "us",
        **named("us", BUSINESS_HOURS="America/New_York; mon-sun 08:00-20:00"),
        **named("us", CHECK_AGENT_AVAILABILITY="on", SUPPORT_OAUTH_TOKEN="tok-us-123"),
    }
    connectors = Connectors.read(Sources(None, env))
    default, us = connectors.default, connectors.get("us")
    assert default.business_hours.zone == "Europe/Berlin"
    assert len(default.business_hours.holidays) == 2 and not default.check_agent_availability
    assert us.business_hours.zone == "America/New_York" and not us.business_hours.holidays
    assert us.check_agent_availability and us.support_base_url == "https://acme-us.zendesk.com"
    assert "tok-us-123" not in repr(us)


def test_the_settings_file_of_the_bot_s_folder_fills_what_the_environment_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ENV_FILE).write_text(
        "# written by the emulator\n\nZENDESK_APP_ID=app_file\n"
        "export ZENDESK_KEY_ID='key file'\nZENDESK_AGENT_TIMEOUT=45\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZENDESK_AGENT_TIMEOUT", "90")
    monkeypatch.delenv("ZENDESK_APP_ID", raising=False)
    monkeypatch.delenv("ZENDESK_KEY_ID", raising=False)
    sources = Sources()  # as both servers read them: the current folder is the bot's
    assert (sources.text("app_id"), sources.text("key_id")) == ("app_file", "key file")
    assert HandoffSettings.read(sources).agent_timeout == 90  # a variable set wins
    assert environment(tmp_path / "elsewhere").get("ZENDESK_APP_ID") is None


def test_a_line_of_the_settings_file_in_the_wrong_form_names_the_file_and_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / ENV_FILE
    path.write_text("ZENDESK_APP_ID=a\nKEY_SECRET=hunter2-secret\n")
    with pytest.raises(SettingsError) as error:
        read_env_file(path)
    assert f"{path} line 2" in str(error.value) and "hunter2" not in str(error.value)
    assert read_env_file(tmp_path / "absent.env") == {}


def test_the_agent_name_prefix_keeps_its_spaces_and_must_name_the_agent() -> None:
    read = HandoffSettings.read(Sources({"agent_name_prefix": "{agent_name} says: "}, {}))
    assert read.agent_name_prefix == "{agent_name} says: "
    env = {"ZENDESK_AGENT_NAME_PREFIX": "{agent_name}: "}
    assert HandoffSettings.read(Sources(None, env)).agent_name_prefix == "{agent_name}: "
    assert HandoffSettings.read(Sources({}, {})).agent_name_prefix is None
    for wrong in ("Agent: ", "{name}: ", "{agent_name} {0}", "{agent_name"):
        with pytest.raises(SettingsError, match="ZENDESK_AGENT_NAME_PREFIX"):
            HandoffSettings.read(Sources({"agent_name_prefix": wrong}, {}))
    with pytest.raises(SettingsError, match="quote it"):  # YAML read `{agent_name}` unquoted
        HandoffSettings.read(Sources({"agent_name_prefix": {"agent_name": None}}, {}))


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"ZENDESK_SUPPORT_API_TOKEN": "tok-api-4711"}, "stops API tokens on 30 Apr 2027"),
        ({"ZENDESK_SUPPORT_OAUTH_TOKEN": "a@b.c/token:tok-api-4711"}, "holds an API token"),
        ({"ZENDESK_SUPPORT_OAUTH_CLIENT_ID": "rasa"}, "go together"),
        ({"ZENDESK_SUPPORT_OAUTH_CLIENT_SECRET": "tok-api-4711"}, "go together"),
        (
            {
                "ZENDESK_SUPPORT_OAUTH_TOKEN": "tok-api-4711",
                "ZENDESK_SUPPORT_OAUTH_CLIENT_ID": "rasa",
                "ZENDESK_SUPPORT_OAUTH_CLIENT_SECRET": "tok-api-4711",
            },
            "not with support_oauth_token",
        ),
        ({"ZENDESK_CSAT_FIELD_ID": "csat"}, "csat_field_id (ZENDESK_CSAT_FIELD_ID)"),
        ({"ZENDESK_CSAT_FIELD_ID": "0"}, "numeric id"),
    ],
)
def test_support_auth_in_the_wrong_form_stops_start_up(values: Dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError) as error:
        Connectors.read(Sources(None, {**BASE, **values}))
    assert says in str(error.value) and "tok-api-4711" not in str(error.value)


def test_support_client_credentials_and_the_csat_field() -> None:
    env = {
        **BASE,
        "ZENDESK_SUPPORT_OAUTH_CLIENT_ID": "rasa_bot",
        "ZENDESK_SUPPORT_OAUTH_CLIENT_SECRET": "cs-secret-0001",
        "ZENDESK_CHECK_AGENT_AVAILABILITY": "true",
        "ZENDESK_CSAT_FIELD_ID": "360009999999",
    }
    settings = Connectors.read(Sources(None, env)).default
    assert settings.support_auth_configured and settings.support_oauth_token is None
    assert settings.support_oauth_scope == "read tickets:write"
    assert settings.csat_field_id == 360009999999
    assert "cs-secret-0001" not in repr(settings)
