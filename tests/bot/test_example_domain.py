"""The example bot's files, as a bot author writes them: domain, config, endpoints, credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.exceptions import RasaException
from rasa.shared.utils.io import read_config_file
from rasa.utils.endpoints import read_endpoint_config

from rasa_zendesk import constants

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "rasa_zendesk" / "domain" / "zendesk.yml"
ZENDESK_ENV = {
    "ZENDESK_SUBDOMAIN": "acme",
    "ZENDESK_APP_ID": "app_demo",
    "ZENDESK_KEY_ID": "key_demo",
    "ZENDESK_KEY_SECRET": "secret_demo",
    "ZENDESK_WEBHOOK_SECRET": "whsec_demo",
    "ZENDESK_API_URL": "http://127.0.0.1:8090/sc",
}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_shipped_domain_names_the_shared_constants() -> None:
    shipped = load(SHIPPED)
    assert shipped["intents"] == [
        constants.INTENT_HUMAN_HANDOFF,
        constants.INTENT_END_HANDOFF,
        constants.INTENT_POLL,
    ]
    assert set(shipped["slots"]) == {
        constants.SLOT_HANDOFF,
        constants.SLOT_HANDOFF_REASON,
        constants.SLOT_CONNECTOR,
        constants.SLOT_OFFER,
        constants.SLOT_HANDOFF_OUTCOME,
        constants.SLOT_EXTERNAL_ID,
    }
    assert shipped["slots"][constants.SLOT_HANDOFF]["type"] == "any"
    assert shipped["actions"] == [
        constants.ACTION_HANDOFF,
        constants.ACTION_RELAY,
        constants.ACTION_END_HANDOFF,
        constants.ACTION_LEAVE_MESSAGE,
        constants.ACTION_HAND_OUT,
    ]
    assert set(shipped["responses"]) == {
        constants.UTTER_HANDOFF_STARTED,
        constants.UTTER_HANDOFF_FAILED,
        constants.UTTER_RELAY_FAILED,
        constants.UTTER_MESSAGE_NOT_RELAYED,
        constants.UTTER_MESSAGE_CUT,
        constants.UTTER_HANDOFF_ENDED,
        constants.UTTER_AGENT_JOINED,
        constants.UTTER_AGENT_TIMEOUT,
        constants.UTTER_KEEP_WAITING,
        constants.UTTER_MESSAGE_LEFT,
        constants.UTTER_ATTACHMENT_REFUSED,
        constants.UTTER_FILE_REFUSED,
        constants.UTTER_TRANSFERRED_TO_EMAIL,
        constants.UTTER_CLOSED,
        constants.UTTER_AGENTS_OFFLINE,
        constants.UTTER_ASK_EMAIL,
        constants.UTTER_EMAIL_INVALID,
        constants.UTTER_MESSAGE_TAKEN,
        constants.UTTER_MESSAGE_NOT_TAKEN,
        constants.UTTER_OFFER_DECLINED,
    }
    for offered in (constants.UTTER_CLOSED, constants.UTTER_AGENTS_OFFLINE):
        payloads = [b["payload"] for b in shipped["responses"][offered][0]["buttons"]]
        assert payloads == ["/leave_message", "/bot"]
    # The user learns the gesture when the handoff starts: a button, and the words for a
    # channel without buttons.
    [started] = shipped["responses"][constants.UTTER_HANDOFF_STARTED]
    assert [(b["title"], b["payload"]) for b in started["buttons"]] == [
        ("End chat", "/end_handoff")
    ]
    assert "/end" in started["text"]
    for slot in shipped["slots"].values():
        assert slot["influence_conversation"] is False
        assert slot["mappings"] == [{"type": "custom"}]


def test_shipped_domain_is_a_valid_rasa_domain() -> None:
    domain = Domain.load(str(SHIPPED))
    assert constants.ACTION_RELAY in domain.action_names_or_texts
    assert "utter_zendesk_handoff_started" in domain.responses


def test_every_shipped_entry_is_in_the_example_domain() -> None:
    shipped, example = load(SHIPPED), load(REPO / "domain.yml")
    assert set(shipped["intents"]) <= set(example["intents"])
    assert set(shipped["actions"]) <= set(example["actions"])
    for name, slot in shipped["slots"].items():
        assert example["slots"].get(name) == slot, name
    for name, variants in shipped["responses"].items():
        assert example["responses"].get(name) == variants, name


def test_the_example_config_uses_the_fast_pipeline_and_the_policy() -> None:
    config = load(REPO / "config.yml")
    pipeline = [component["name"] for component in config["pipeline"]]
    assert pipeline[0] == "WhitespaceTokenizer"
    assert {"DIETClassifier", "FallbackClassifier", "EntitySynonymMapper"} <= set(pipeline)
    policies = [policy["name"] for policy in config["policies"]]
    assert policies == [
        "MemoizationPolicy",
        "RulePolicy",
        "TEDPolicy",
        "rasa_zendesk.HandoffPolicy",
    ]


def test_asking_for_a_human_has_many_examples_and_ending_none() -> None:
    """A handoff starts on words; it ends only by `/end` or the End chat button's payload, so
    no words may train the bot to read `end_handoff` (a guess must not matter)."""
    nlu = load(REPO / "data" / "nlu.yml")["nlu"]
    counts = {
        item["intent"]: len([line for line in item["examples"].splitlines() if line.strip()])
        for item in nlu
        if "intent" in item
    }
    assert counts[constants.INTENT_HUMAN_HANDOFF] >= 30
    assert constants.INTENT_END_HANDOFF not in counts
    plugin = load(REPO / "rasa_zendesk" / "domain" / "nlu.yml")["nlu"]
    assert [item["intent"] for item in plugin] == [constants.INTENT_HUMAN_HANDOFF]


def test_endpoints_work_without_any_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    action = read_endpoint_config(str(REPO / "endpoints.yml"), "action_endpoint")
    assert action is not None and action.url == "http://127.0.0.1:5055/webhook"
    monkeypatch.chdir(tmp_path)  # the SQLite file is relative to the working directory
    config = read_endpoint_config(str(REPO / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(config, domain=Domain.load(str(REPO / "domain.yml")))
    assert isinstance(store, SQLTrackerStore)
    assert (tmp_path / "rasa_zendesk_demo.db").is_file()


def test_credentials_take_the_zendesk_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in ZENDESK_ENV.items():
        monkeypatch.setenv(name, value)
    credentials = read_config_file(str(REPO / "credentials.yml"))
    assert credentials["socketio"] == {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": True,
        "metadata_key": "customData",  # rasa-webchat's customData: the message metadata
    }
    assert "rest" in credentials
    assert credentials["rasa_zendesk.ZendeskInput"] == {
        "subdomain": "acme",
        "app_id": "app_demo",
        "key_id": "key_demo",
        "key_secret": "secret_demo",
        "webhook_secret": "whsec_demo",
    }


def test_rasa_refuses_credentials_with_an_unset_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa 3.6 stops at start-up, naming the variable (never a value): documented in the file."""
    for name, value in ZENDESK_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ZENDESK_KEY_SECRET")
    with pytest.raises(RasaException, match=r"ZENDESK_KEY_SECRET"):
        read_config_file(str(REPO / "credentials.yml"))


def test_the_api_url_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset, the channel talks to the real Zendesk; set, to the emulator it names."""
    from rasa_zendesk.channel.config import ChannelConfig

    for name, value in ZENDESK_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ZENDESK_API_URL")
    credentials = read_config_file(str(REPO / "credentials.yml"))
    real = ChannelConfig.from_credentials(credentials["rasa_zendesk.ZendeskInput"])
    assert real.settings.base_url == "https://acme.zendesk.com/sc"

    monkeypatch.setenv("ZENDESK_API_URL", ZENDESK_ENV["ZENDESK_API_URL"])
    emulated = ChannelConfig.from_credentials(credentials["rasa_zendesk.ZendeskInput"])
    assert emulated.settings.base_url == "http://127.0.0.1:8090/sc"
