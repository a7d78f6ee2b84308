"""A plain `rasa init` bot with the plugin added as the README tells a bot author to add it.

The example bot's rules and NLU hide what other bots do (a fallback's rewind, intents misread
mid-handoff). This bot is Rasa's own starter project (`rasa/cli/initial_project`, what
`rasa init` copies) with only the README's step applied: `rasa-zendesk init`, which adds the
channel in credentials.yml, the action endpoint, the policy next to Rasa's default policies,
the actions module, the plugin's domain entries and NLU examples for its intents. Its pipeline
stays Rasa's default.

The project and its trained model are cached by content (`scripts/train_model.py`), so it is
built and trained once per machine.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import rasa.cli

import rasa_zendesk.init
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


def ensure_rasa_init_bot() -> Path:
    """The wired rasa init bot's directory; its model is trained there if missing."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for source in INIT_SOURCES:
        digest.update(source.read_bytes())
    bot = train_model.cache_dir() / "bots" / f"rasa-init-{digest.hexdigest()[:16]}"
    if not (bot / ".complete").is_file():
        shutil.rmtree(bot, ignore_errors=True)
        build(bot)
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
