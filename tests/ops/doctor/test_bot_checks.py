"""`rasa-zendesk doctor` on a bot's files and settings (--offline): a plain `rasa init` bot
wired per the README passes everything; each mistake made on purpose fails its own check,
says how to fix it, and exits 1. No secret is ever printed."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict

import pytest
import yaml

from rasa_zendesk.settings import ENV_FILE
from testkit import rasa_init_bot
from testkit.doctor import (
    KEY_SECRET,
    SETTINGS,
    WEBHOOK_SECRET,
    copy_bot,
    doctor,
    failed,
    statuses,
    use_settings,
)

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def wired_bot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rasa init's project with the README's steps applied (not trained: not needed)."""
    bot = tmp_path_factory.mktemp("wired") / "bot"
    rasa_init_bot.build(bot)
    return bot


@pytest.fixture
def bot(wired_bot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_settings(monkeypatch, SETTINGS)
    return copy_bot(wired_bot, tmp_path / "bot")


def edit_yaml(path: Path, change: Callable[[Dict], None]) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_bot_set_up_right_passes_everything(bot: Path, capsys: pytest.CaptureFixture) -> None:
    found = doctor(capsys, ["--project", str(bot), "--offline"])
    assert found["status"] == 0, failed(found)
    assert set(statuses(found, "bot")) == {"PASS"}, found["raw"]
    assert set(statuses(found, "settings")) == {"PASS"}, found["raw"]
    names = [c["name"] for c in found["checks"]]
    for expected in (
        "channel in credentials.yml",
        "policy in config.yml",
        "actions in the action server",
        "domain entries",
        "session_config",
        "NLU examples for human_handoff",
        "lock store",
        "connector default",
        "action server",
    ):
        assert expected in names
    assert "NLU examples for end_handoff" not in names  # only its command ends a handoff
    # Secrets: set, their length and last 4 characters, never the value.
    assert KEY_SECRET not in found["raw"] and WEBHOOK_SECRET not in found["raw"]
    assert f"key_secret set ({len(KEY_SECRET)} chars, ends ...9f1e)" in found["raw"]


def _drop_channel(bot: Path) -> None:
    edit_yaml(bot / "credentials.yml", lambda d: d.pop("rasa_zendesk.ZendeskInput"))


def _drop_policy(bot: Path) -> None:
    edit_yaml(
        bot / "config.yml",
        lambda d: d.update(policies=[p for p in d["policies"] if "Handoff" not in p["name"]]),
    )


def _drop_actions(bot: Path) -> None:
    (bot / "actions" / "zendesk.py").write_text("# the README's import was forgotten\n")


def _drop_domain_entries(bot: Path) -> None:
    def change(domain: Dict) -> None:
        domain["intents"].remove("end_handoff")
        domain["slots"].pop("zendesk_handoff")

    edit_yaml(bot / "domain.yml", change)


def _no_carry_over(bot: Path) -> None:
    edit_yaml(
        bot / "domain.yml",
        lambda d: d.update(session_config={"carry_over_slots_to_new_session": False}),
    )


def _drop_nlu(bot: Path) -> None:
    edit_yaml(
        bot / "data" / "zendesk_nlu.yml",
        lambda d: d.update(nlu=[i for i in d["nlu"] if i.get("intent") != "human_handoff"]),
    )


def _rasa_redis_lock_store(bot: Path) -> None:
    edit_yaml(
        bot / "endpoints.yml",
        lambda d: d.update(
            lock_store={"type": "redis", "url": "localhost"},
            tracker_store={"type": "redis", "url": "localhost"},
        ),
    )


MISTAKES = {
    "channel": (_drop_channel, "channel in credentials.yml", "rasa_zendesk.ZendeskInput"),
    "policy": (_drop_policy, "policy in config.yml", "name: rasa_zendesk.HandoffPolicy"),
    "actions": (_drop_actions, "actions in the action server", "from rasa_zendesk.actions"),
    "domain": (_drop_domain_entries, "domain entries", "rasa_zendesk/domain/zendesk.yml"),
    "session": (_no_carry_over, "session_config", "carry_over_slots_to_new_session: true"),
    "nlu": (_drop_nlu, "NLU examples for human_handoff", "add examples of human_handoff"),
    "lock store": (_rasa_redis_lock_store, "lock store", "AtomicRedisLockStore"),
}
#: The lock store's mistake shows with several instances (one may use any lock store).
EXTRA_ARGS = {"lock store": ["--instances", "2"]}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_mistake_fails_its_check_with_the_fix(
    bot: Path, capsys: pytest.CaptureFixture, mistake: str
) -> None:
    make, check, fix = MISTAKES[mistake]
    make(bot)
    found = doctor(capsys, ["--project", str(bot), "--offline", *EXTRA_ARGS.get(mistake, [])])
    assert found["status"] == 1
    fails = failed(found)
    assert [c["name"] for c in fails] == [check], found["raw"]
    assert fix in fails[0]["fix"]


def test_domain_gaps_are_named(bot: Path, capsys: pytest.CaptureFixture) -> None:
    _drop_domain_entries(bot)
    found = doctor(capsys, ["--project", str(bot), "--offline"])
    (domain,) = (c for c in failed(found) if c["name"] == "domain entries")
    assert "intents: end_handoff" in domain["detail"]
    assert "slots: zendesk_handoff" in domain["detail"]


def test_one_instance_on_a_shared_store_is_only_warned(
    bot: Path, capsys: pytest.CaptureFixture
) -> None:
    _rasa_redis_lock_store(bot)
    found = doctor(capsys, ["--project", str(bot), "--offline"])
    assert found["status"] == 0
    (lock,) = (c for c in found["checks"] if c["name"] == "lock store")
    assert lock["status"] == "WARN" and "AtomicRedisLockStore" in lock["fix"]


def test_a_missing_secret_is_named_and_no_value_is_printed(
    bot: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZENDESK_WEBHOOK_SECRET")
    found = doctor(capsys, ["--project", str(bot), "--offline"])
    assert found["status"] == 1
    details = {c["name"]: c["detail"] for c in failed(found)}
    assert list(details) == ["Rasa server"], found["raw"]
    assert "webhook_secret (ZENDESK_WEBHOOK_SECRET)" in details["Rasa server"]
    assert KEY_SECRET not in found["raw"]


def test_an_unset_variable_in_credentials_is_named_plainly(
    bot: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa refuses a `${VAR}` it cannot replace; the doctor says which, and how to fix it."""
    edit_yaml(
        bot / "credentials.yml",
        lambda d: d.update({"rasa_zendesk.ZendeskInput": {"subdomain": "${ZENDESK_SUBDOMAIN}"}}),
    )
    monkeypatch.delenv("ZENDESK_SUBDOMAIN")
    found = doctor(capsys, ["--project", str(bot), "--offline"])
    (channel,) = (c for c in failed(found) if c["name"] == "channel in credentials.yml")
    assert "uses ${ZENDESK_SUBDOMAIN}, not set in the environment" in channel["detail"]
    assert "['" not in channel["detail"]  # not Rasa's raw list
    assert "set ZENDESK_SUBDOMAIN in the environment of `rasa run`" in channel["fix"]


def test_the_settings_file_of_the_bot_s_folder_is_read(
    bot: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `rasa-zendesk emulator --env-file zendesk.env` writes: no exports needed."""
    use_settings(monkeypatch, {})
    (bot / ENV_FILE).write_text("".join(f"{k}={v}\n" for k, v in SETTINGS.items()))
    found = doctor(capsys, ["--project", str(bot), "--offline"])
    assert found["status"] == 0, failed(found)
    assert "app_id app_doctor" in found["raw"] and KEY_SECRET not in found["raw"]


def test_a_ticket_webhook_that_is_off_is_warned_with_what_the_user_sees(
    bot: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZENDESK_TICKET_WEBHOOK_SECRET")
    found = doctor(capsys, ["--project", str(bot), "--offline"])
    assert found["status"] == 0
    warned = [c for c in found["checks"] if c["status"] == "WARN"]
    assert [c["name"] for c in warned] == ["connector default ticket-status webhook"]
    assert "not given back to the bot" in warned[0]["detail"]
    assert "ZENDESK_TICKET_WEBHOOK_SECRET" in warned[0]["fix"]


def test_the_action_server_must_see_the_same_app(
    bot: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """credentials.yml names one app literally; the action server's environment another."""
    edit_yaml(
        bot / "credentials.yml",
        lambda d: d.update({"rasa_zendesk.ZendeskInput": {"app_id": "app_in_credentials"}}),
    )
    found = doctor(capsys, ["--project", str(bot), "--offline"])
    assert [c["name"] for c in failed(found)] == ["action server"]
    assert "ZENDESK_*" in failed(found)[0]["fix"]


def test_a_metrics_token_in_the_wrong_form_is_named(
    bot: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENDESK_METRICS", "true")
    monkeypatch.setenv("ZENDESK_METRICS_TOKEN", "tok3n")
    found = doctor(capsys, ["--project", str(bot), "--offline"])
    assert found["status"] == 1
    assert "metrics_token (ZENDESK_METRICS_TOKEN)" in failed(found)[0]["detail"]
    assert "tok3n" not in found["raw"]
