"""A plain `rasa init` bot with the plugin added as the README tells a bot author to add it.

The example bot's rules and NLU hide what other bots do (a fallback's rewind, intents misread
mid-handoff). This bot is Rasa's own starter project (`rasa/cli/initial_project`, what
`rasa init` copies) with only the README's step applied: `rasa-zendesk init`, which adds the
channel in credentials.yml, the action endpoint, the policy next to Rasa's default policies,
the actions module, the plugin's domain entries and NLU examples for its intents. Its pipeline
and policies stay Rasa's defaults.

Two additions make its behaviour the same in every training, so that no test passes or fails by
the luck of one: the pipeline and policies are written out with a fixed `random_seed` for each
trained component (`seed`), and the bot gets the rule Rasa's docs give every bot for what its
NLU does not understand (`add_fallback_rule`): `nlu_fallback` runs Rasa's default fallback,
whose rewind (`UserUtteranceReverted`) a test then causes on purpose with `/nlu_fallback`.
Without the rule, rasa init's TEDPolicy answers `nlu_fallback` with whatever it guesses.

The project and its trained model are cached by content (`scripts/train_model.py`), so it is
built and trained once per machine.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import rasa.cli
import yaml

import rasa_zendesk.init
from rasa_zendesk.init.steps import RASA_DEFAULT_CONFIG
from scripts import train_model

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = Path(rasa.cli.__file__).parent / "initial_project"
#: What `rasa-zendesk init` writes into the bot comes from these.
INIT_SOURCES = (
    REPO / "rasa_zendesk" / "domain" / "zendesk.yml",
    REPO / "rasa_zendesk" / "domain" / "nlu.yml",
    REPO / "rasa_zendesk" / "actions" / "__init__.py",
    *sorted((REPO / "rasa_zendesk" / "init").glob("*.py")),
)
#: Any fixed number: the same training data then gives the same model.
RANDOM_SEED = 20
#: The components of Rasa's default pipeline and policies that draw random numbers.
SEEDED = ("DIETClassifier", "ResponseSelector", "UnexpecTEDIntentPolicy", "TEDPolicy")
#: As in Rasa's docs ("Handling NLU fallback").
FALLBACK_RULE = {
    "rule": "Ask the user to rephrase whenever they send a message with low NLU confidence",
    "steps": [{"intent": "nlu_fallback"}, {"action": "action_default_fallback"}],
}


def ensure_rasa_init_bot() -> Path:
    """The wired rasa init bot's directory; its model is trained there if missing."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for source in INIT_SOURCES:
        digest.update(source.read_bytes())
    bot = train_model.cache_dir() / "bots" / f"rasa-init-{digest.hexdigest()[:16]}"
    if not (bot / ".complete").is_file():
        shutil.rmtree(bot, ignore_errors=True)
        build(bot)
        seed(bot)
        add_fallback_rule(bot)
        (bot / ".complete").touch()
    train_model.ensure_model(bot)
    return bot


def copy_template(bot: Path) -> None:
    """What `rasa init --no-prompt` writes, without training."""
    shutil.copytree(TEMPLATE, bot, ignore=shutil.ignore_patterns("__pycache__", "tests"))


def build(bot: Path) -> None:
    """Copy rasa init's project to `bot` and wire it with `rasa-zendesk init`."""
    copy_template(bot)
    outcome = rasa_zendesk.init.run(bot)
    assert outcome.status == rasa_zendesk.init.OK, outcome.problems
    assert not outcome.plan.left, outcome.plan.left


def seed(bot: Path) -> None:
    """Name Rasa's default pipeline in the bot's config.yml (rasa init leaves it out) and give
    every component that trains with random numbers the same seed."""
    path = bot / "config.yml"
    config = yaml.safe_load(path.read_text())
    if not config.get("pipeline"):
        config["pipeline"] = yaml.safe_load(RASA_DEFAULT_CONFIG.read_text())["pipeline"]
    for component in (*config["pipeline"], *config["policies"]):
        if component["name"] in SEEDED:
            component["random_seed"] = RANDOM_SEED
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def add_fallback_rule(bot: Path) -> None:
    """Rasa's default fallback for what the NLU did not understand (`FALLBACK_RULE`)."""
    path = bot / "data" / "rules.yml"
    rules = yaml.safe_load(path.read_text())
    rules["rules"].append(FALLBACK_RULE)
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
