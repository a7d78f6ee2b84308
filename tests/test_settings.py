"""One parser for the settings both servers read: credentials.yml keys, else ZENDESK_*."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rasa_zendesk.settings import HandoffSettings, SettingsError, Sources

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


@pytest.mark.timeout(120)
def test_the_action_server_stops_at_start_on_a_setting_in_the_wrong_form() -> None:
    """`rasa run actions` imports the actions: a wrong value stops it there, named."""
    env = {**os.environ, "ZENDESK_AGENT_TIMEOUT": "ten minutes"}
    started = subprocess.run(
        [sys.executable, "-c", "import rasa_zendesk.actions"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode != 0
    assert "agent_timeout (ZENDESK_AGENT_TIMEOUT) must be a whole number" in started.stderr
    assert "ten minutes" not in started.stderr
