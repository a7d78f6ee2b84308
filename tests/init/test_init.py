"""`rasa-zendesk init` on bots of several shapes: it adds what is missing, keeps every line the
author wrote (comments, anchors, indentation), changes nothing on a second run, and changes
nothing at all when a file cannot be parsed. What it leaves is what Rasa and the doctor read."""

from __future__ import annotations

import os
import re
import textwrap
import warnings
from pathlib import Path
from typing import Dict

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.utils.io import read_config_file
from rasa.validator import Validator

import rasa_zendesk.init
from rasa_zendesk import cli, constants
from rasa_zendesk.init.steps import CHANNEL as CHANNEL_KEY
from rasa_zendesk.init.steps import PLUGIN_DOMAIN, PLUGIN_NLU, action_classes
from rasa_zendesk.policy.handoff_policy import check_domain
from testkit.doctor import SETTINGS, doctor, failed, use_settings
from testkit.rasa_init_bot import copy_template

pytestmark = pytest.mark.timeout(120)

PLUGIN = Domain.load(str(Path(rasa_zendesk.init.__file__).parents[1] / "domain" / "zendesk.yml"))


def snapshot(bot: Path) -> Dict[str, bytes]:
    return {
        str(path.relative_to(bot)): path.read_bytes()
        for path in sorted(bot.rglob("*"))
        if path.is_file()
    }


def assert_kept(before: Dict[str, bytes], bot: Path) -> None:
    """Every file the author had still has each of its lines, in order."""
    for name, old in before.items():
        new = (bot / name).read_text().splitlines()
        remaining = iter(new)
        lost = [line for line in old.decode().splitlines() if line not in remaining]
        assert not lost, (name, lost)


def assert_has_the_plugin(domain: Domain) -> None:
    check_domain(domain)  # what training checks
    assert set(PLUGIN.intents) <= set(domain.intents)
    assert set(PLUGIN.user_actions) <= set(domain.user_actions)
    assert set(PLUGIN.responses) <= set(domain.responses)


@pytest.fixture
def rasa_init(tmp_path: Path) -> Path:
    bot = tmp_path / "bot"
    copy_template(bot)
    return bot


def test_a_rasa_init_bot_gets_everything_and_a_second_run_changes_nothing(
    rasa_init: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(rasa_init)
    assert cli.main(["init", "--project", str(rasa_init)]) == 0
    out = capsys.readouterr().out
    for changed in ("domain.yml", "credentials.yml", "endpoints.yml", "config.yml"):
        assert f"changed {changed}" in out, out
    for created in ("data/zendesk_nlu.yml", "actions/zendesk.py"):
        assert f"created {created}" in out, out
    assert "Left for you" not in out
    assert_kept(before, rasa_init)

    assert_has_the_plugin(Domain.load(str(rasa_init / "domain.yml")))
    config = read_config_file(str(rasa_init / "config.yml"))
    assert [p["name"] for p in config["policies"]] == [
        "MemoizationPolicy",
        "RulePolicy",
        "UnexpecTEDIntentPolicy",
        "TEDPolicy",
        "rasa_zendesk.HandoffPolicy",
    ]
    # Rasa's note that no policies were given stays above them, and says so no more.
    config_text = (rasa_init / "config.yml").read_text()
    note = config_text.index("No configuration for policies was provided")
    assert (
        note
        < config_text.index("Now provided")
        < config_text.index("\n  - name: MemoizationPolicy")
    )
    # The channel's connection comes from the environment or zendesk.env: no ${VAR} for Rasa
    # to refuse when a shell lacks it.
    assert "${" not in (rasa_init / "credentials.yml").read_text().split(CHANNEL_KEY)[1]
    endpoints = read_config_file(str(rasa_init / "endpoints.yml"))
    assert endpoints["action_endpoint"] == {"url": "http://localhost:5055/webhook"}
    nlu = TrainingDataImporter.load_from_dict(
        domain_path=str(rasa_init / "domain.yml"), training_data_paths=[str(rasa_init / "data")]
    ).get_nlu_data()
    counts = nlu.number_of_examples_per_intent
    assert counts[constants.INTENT_HUMAN_HANDOFF] >= 30 and counts["greet"] > 0
    module = (rasa_init / "actions" / "zendesk.py").read_text()
    assert all(name in module for name in action_classes())
    assert "ActionZendeskHandOut" in action_classes()

    use_settings(monkeypatch, SETTINGS)
    findings = doctor(capsys, ["--offline", "--project", str(rasa_init)])
    assert findings["status"] == 0 and not failed(findings), failed(findings)

    wired = snapshot(rasa_init)
    assert cli.main(["init", "--project", str(rasa_init)]) == 0
    out = capsys.readouterr().out
    assert "Nothing to change" in out and "changed" not in out.replace("unchanged", "")
    assert snapshot(rasa_init) == wired


def test_a_domain_directory_gets_a_file_of_its_own_with_only_what_it_lacks(
    rasa_init: Path,
) -> None:
    (rasa_init / "domain.yml").unlink()
    (rasa_init / "domain").mkdir()
    (rasa_init / "domain" / "base.yml").write_text(
        textwrap.dedent(
            """\
            version: "3.1"
            intents:
              - greet
              - human_handoff   # the author's own
            responses:
              utter_greet:
                - text: "Hello!"
              # reworded by the author
              utter_zendesk_handoff_started:
                - text: "A colleague will take over."
            session_config:
              carry_over_slots_to_new_session: true
            """
        )
    )
    before = snapshot(rasa_init)
    outcome = rasa_zendesk.init.run(rasa_init)
    assert outcome.status == rasa_zendesk.init.OK and not outcome.plan.left
    assert_kept(before, rasa_init)
    own = rasa_init / "domain" / "zendesk.yml"
    assert own.is_file()
    assert "human_handoff" not in own.read_text().split("intents:")[1].split("slots:")[0]
    assert "utter_zendesk_handoff_started" not in own.read_text()

    domain = Domain.load(str(rasa_init / "domain"))
    assert_has_the_plugin(domain)
    assert domain.responses["utter_zendesk_handoff_started"][0]["text"] == (
        "A colleague will take over."
    )
    wired = snapshot(rasa_init)
    again = rasa_zendesk.init.run(rasa_init)
    assert again.plan.changed == [] and snapshot(rasa_init) == wired


def test_comments_anchors_and_indentation_are_kept(rasa_init: Path) -> None:
    (rasa_init / "domain.yml").write_text(
        textwrap.dedent(
            """\
            version: "3.1"
            # My bot's intents, zero-indented on purpose.
            intents:
            - greet   # hello
            - goodbye

            responses:
                utter_greet:
                -   text: "Hi there"
                    buttons: &choices
                    -   title: "Yes"
                        payload: "/affirm"
                utter_goodbye:
                -   text: "Bye"
                    buttons: *choices   # the same choices

            # The end.
            """
        )
    )
    before = snapshot(rasa_init)
    outcome = rasa_zendesk.init.run(rasa_init)
    assert outcome.status == rasa_zendesk.init.OK and not outcome.plan.left, outcome.plan.left
    assert_kept(before, rasa_init)
    text = (rasa_init / "domain.yml").read_text()
    assert "\n- human_handoff" in text  # indented like the author's list
    assert "\n    utter_zendesk_handoff_ended:" in text  # and the author's mapping
    domain = Domain.load(str(rasa_init / "domain.yml"))
    assert_has_the_plugin(domain)
    assert domain.responses["utter_goodbye"][0]["buttons"][0]["payload"] == "/affirm"
    assert "# The end." in text


def test_a_file_that_cannot_be_parsed_changes_nothing(
    rasa_init: Path, capsys: pytest.CaptureFixture
) -> None:
    (rasa_init / "config.yml").write_text("policies:\n  - name: RulePolicy\n  bad: [\n")
    before = snapshot(rasa_init)
    assert cli.main(["init", "--project", str(rasa_init)]) == rasa_zendesk.init.UNPARSEABLE
    err = capsys.readouterr().err
    assert "config.yml" in err and "Nothing was changed" in err, err
    assert snapshot(rasa_init) == before


def test_what_it_will_not_edit_is_left_for_the_author_by_name(rasa_init: Path) -> None:
    (rasa_init / "domain.yml").write_text(
        'version: "3.1"\nintents: [greet, goodbye]\nresponses:\n  utter_greet:\n' '  - text: "Hi"\n'
    )
    (rasa_init / "actions" / "handoff.py").write_text(
        "from rasa_zendesk.actions import ActionZendeskHandoff, ActionZendeskRelay  # noqa\n"
    )
    before = snapshot(rasa_init)
    outcome = rasa_zendesk.init.run(rasa_init)
    assert outcome.status == rasa_zendesk.init.OK
    left = "\n".join(outcome.plan.left)
    assert "domain.yml" in left and "intents human_handoff" in left, left
    assert "actions/handoff.py: also import" in left and "ActionZendeskHandOut" in left, left
    assert (rasa_init / "domain.yml").read_bytes() == before["domain.yml"]
    assert not (rasa_init / "actions" / "zendesk.py").exists()
    assert (rasa_init / "credentials.yml").read_bytes() != before["credentials.yml"]


def test_an_older_wiring_is_completed_and_a_channel_already_there_is_kept(
    rasa_init: Path,
) -> None:
    credentials = rasa_init / "credentials.yml"
    credentials.write_text(
        credentials.read_text() + "\nrasa_zendesk.ZendeskInput:\n  subdomain: acme\n"
    )
    assert rasa_zendesk.init.run(rasa_init).status == rasa_zendesk.init.OK
    ours = rasa_init / "actions" / "zendesk.py"
    ours.write_text(ours.read_text().replace("    ActionZendeskHandOut,\n", ""))
    outcome = rasa_zendesk.init.run(rasa_init)
    assert outcome.plan.changed == [
        "changed actions/zendesk.py: the plugin's actions, brought up to date"
    ]
    assert "ActionZendeskHandOut" in ours.read_text()
    assert read_config_file(str(credentials))["rasa_zendesk.ZendeskInput"] == {"subdomain": "acme"}


def test_a_folder_that_is_no_bot_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["init", "--project", str(tmp_path)]) == rasa_zendesk.init.NOT_A_PROJECT
    assert "not a Rasa bot's folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_packaged_nlu_examples_are_the_example_bots() -> None:
    """One set of examples: what `init` copies is what the example bot trains on."""
    example = yaml.safe_load((Path(__file__).parents[2] / "data" / "nlu.yml").read_text())
    ours = [item for item in example["nlu"] if item.get("intent") == constants.INTENT_HUMAN_HANDOFF]
    assert yaml.safe_load(PLUGIN_NLU.read_text())["nlu"] == ours


# Byte for byte: line endings, separators inside strings, links, and all or nothing.

#: Characters str.splitlines() would take for line ends, inside a response the author wrote.
SEPARATORS = "one\u2028two\x85three\u2029four"


def assert_bytes_kept(old: bytes, new: bytes) -> None:
    """Every line of `old`, with its own ending, is still in `new`, in order."""
    remaining = iter(new.splitlines(keepends=True))
    lost = [line for line in old.splitlines(keepends=True) if line not in remaining]
    assert not lost, lost


def to_crlf(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def test_crlf_files_stay_crlf_and_the_added_lines_too(rasa_init: Path) -> None:
    for name in ("domain.yml", "config.yml", "credentials.yml", "endpoints.yml"):
        to_crlf(rasa_init / name)
    before = snapshot(rasa_init)
    assert rasa_zendesk.init.run(rasa_init).status == rasa_zendesk.init.OK
    for name in ("domain.yml", "config.yml", "credentials.yml", "endpoints.yml"):
        after = (rasa_init / name).read_bytes()
        assert after != before[name], name
        assert re.search(rb"(?<!\r)\n", after) is None, f"{name} has a line ending in LF only"
        assert_bytes_kept(before[name], after)
    assert_has_the_plugin(Domain.load(str(rasa_init / "domain.yml")))
    wired = snapshot(rasa_init)
    assert rasa_zendesk.init.run(rasa_init).plan.changed == [] and snapshot(rasa_init) == wired


def test_separators_inside_strings_stay(rasa_init: Path) -> None:
    domain = rasa_init / "domain.yml"
    text = domain.read_text(encoding="utf-8")
    text = text.replace("responses:\n", f'responses:\n  utter_lines:\n  - text: "{SEPARATORS}"\n')
    domain.write_bytes(text.encode("utf-8"))
    before = domain.read_bytes()
    said = Domain.load(str(domain)).responses["utter_lines"]  # YAML folds NEL into a space
    assert rasa_zendesk.init.run(rasa_init).status == rasa_zendesk.init.OK
    after = domain.read_bytes()
    assert_bytes_kept(before, after)
    assert SEPARATORS.encode() in after
    assert Domain.load(str(domain)).responses["utter_lines"] == said
    assert_has_the_plugin(Domain.load(str(domain)))


def test_a_form_feed_no_yaml_reader_takes_stops_it_with_nothing_changed(
    rasa_init: Path, capsys: pytest.CaptureFixture
) -> None:
    domain = rasa_init / "domain.yml"
    domain.write_text(domain.read_text().replace("Hey! How are you?", "Hey!\fHow are you?"))
    before = snapshot(rasa_init)
    assert cli.main(["init", "--project", str(rasa_init)]) == rasa_zendesk.init.UNPARSEABLE
    err = capsys.readouterr().err
    assert "domain.yml" in err and "Nothing was changed" in err, err
    assert snapshot(rasa_init) == before


def test_a_linked_file_is_edited_through_its_link(rasa_init: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "domain.yml"
    shared.parent.mkdir()
    (rasa_init / "domain.yml").rename(shared)
    (rasa_init / "domain.yml").symlink_to(shared)
    before = shared.read_bytes()
    assert rasa_zendesk.init.run(rasa_init).status == rasa_zendesk.init.OK
    assert (rasa_init / "domain.yml").is_symlink()
    assert os.readlink(rasa_init / "domain.yml") == str(shared)
    assert shared.read_bytes() != before
    assert_bytes_kept(before, shared.read_bytes())
    assert_has_the_plugin(Domain.load(str(shared)))


def test_a_link_to_nothing_is_refused_with_nothing_changed(
    rasa_init: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (rasa_init / "endpoints.yml").unlink()
    (rasa_init / "endpoints.yml").symlink_to(tmp_path / "gone.yml")
    before = snapshot(rasa_init)
    assert cli.main(["init", "--project", str(rasa_init)]) == rasa_zendesk.init.NOT_WRITTEN
    err = capsys.readouterr().err
    assert "endpoints.yml" in err and "gone.yml" in err and "Nothing was changed" in err, err
    assert snapshot(rasa_init) == before
    assert (rasa_init / "endpoints.yml").is_symlink() and not (tmp_path / "gone.yml").exists()


def test_a_file_it_cannot_write_leaves_every_file_as_it_was(
    rasa_init: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    (rasa_init / "actions" / "__init__.py").unlink()  # so actions/ gets two new files
    locked = (rasa_init / "credentials.yml").resolve()
    real_access = os.access  # the tests run as root, whom no file mode stops
    monkeypatch.setattr(
        os, "access", lambda path, mode: Path(path).resolve() != locked and real_access(path, mode)
    )
    before = snapshot(rasa_init)
    assert cli.main(["init", "--project", str(rasa_init)]) == rasa_zendesk.init.NOT_WRITTEN
    err = capsys.readouterr().err
    assert "credentials.yml" in err and "Nothing was changed" in err, err
    assert snapshot(rasa_init) == before


def test_a_failure_while_renaming_puts_back_what_was_renamed(
    rasa_init: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    (rasa_init / "data").rename(rasa_init / "data-elsewhere")  # data/ is created, then removed
    real_replace = os.replace
    calls = []

    def replace(source: str, target: str) -> None:
        calls.append(target)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    before = snapshot(rasa_init)
    assert cli.main(["init", "--project", str(rasa_init)]) == rasa_zendesk.init.NOT_WRITTEN
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Nothing was changed" in err, err
    assert len(calls) >= 3
    assert snapshot(rasa_init) == before
    assert not (rasa_init / "data").exists()


def test_every_training_warning_about_the_plugin_is_one_the_readme_expects(
    rasa_init: Path,
) -> None:
    """What `rasa train` checks first (rasa.validator, as `rasa.cli.utils.validate_files`
    runs it) on a rasa init bot after `init`: every warning is about one of the plugin's
    intents or responses, and the README's step 3 says it is expected."""
    assert rasa_zendesk.init.run(rasa_init).status == rasa_zendesk.init.OK
    importer = TrainingDataImporter.load_from_config(
        str(rasa_init / "config.yml"), str(rasa_init / "domain.yml"), [str(rasa_init / "data")]
    )
    validator = Validator.from_importer(importer)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validator.verify_domain_validity()
        validator.verify_nlu(True)
        validator.verify_story_structure(True)
    said = [str(w.message).splitlines()[0] for w in caught if w.category is UserWarning]
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    expected = " ".join(readme[readme.index("### 3. Train") : readme.index("### 4.")].split())
    plugin = Domain.load(str(PLUGIN_DOMAIN))
    responses = [name for name in plugin.responses if name.startswith("utter_zendesk_")]
    for warning in said:
        name = re.search(r"'([^']+)'", warning).group(1)  # type: ignore[union-attr]
        what = warning.split(f"'{name}'")[1].strip(" .")
        if name in responses:
            assert f"The utterance 'utter_zendesk_...' {what}" in expected, warning
        else:
            assert name in plugin.intents and f"'{name}'" in expected, warning
            assert what in expected, warning
    assert sorted(w for w in said if "utter_zendesk_" in w) == sorted(
        f"The utterance '{name}' is not used in any story or rule." for name in responses
    )
