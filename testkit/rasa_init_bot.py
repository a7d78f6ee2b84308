"""A plain `rasa init` bot with the plugin added as the README tells a bot author to add it.

The example bot's rules and NLU hide what other bots do (a fallback's rewind, intents misread
mid-handoff). This bot is Rasa's own starter project (`rasa/cli/initial_project`, what
`rasa init` copies) with only the README's steps applied: the channel in credentials.yml, the
action endpoint, the policy next to rasa init's default policies, the actions module, the
plugin's domain entries and NLU examples for its two intents. Its pipeline stays Rasa's default.

The project and its trained model are cached by content (`scripts/train_model.py`), so it is
built and trained once per machine.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any, Dict, List

import rasa.cli
import yaml

from scripts import train_model

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = Path(rasa.cli.__file__).parent / "initial_project"
PLUGIN_DOMAIN = REPO / "rasa_zendesk" / "domain" / "zendesk.yml"
PLUGIN_INTENTS = ("human_handoff", "end_handoff")

#: rasa init's default policies (what its config.yml lists in comments), and ours.
POLICIES: List[Dict[str, Any]] = [
    {"name": "MemoizationPolicy"},
    {"name": "TEDPolicy", "max_history": 5, "epochs": 100},
    {"name": "RulePolicy"},
    {"name": "rasa_zendesk.HandoffPolicy"},
]
CHANNEL = {
    "rasa_zendesk.ZendeskInput": {
        name: f"${{ZENDESK_{name.upper()}}}"
        for name in ("subdomain", "app_id", "key_id", "key_secret", "webhook_secret")
    }
}
ACTIONS_MODULE = (
    "from rasa_zendesk.actions import (  # noqa: F401\n"
    "    ActionZendeskEndHandoff,\n"
    "    ActionZendeskHandoff,\n"
    "    ActionZendeskLeaveMessage,\n"
    "    ActionZendeskRelay,\n"
    ")\n"
)


def ensure_rasa_init_bot() -> Path:
    """The wired rasa init bot's directory; its model is trained there if missing."""
    key = hashlib.sha256(
        Path(__file__).read_bytes()
        + PLUGIN_DOMAIN.read_bytes()
        + yaml.safe_dump(_plugin_nlu()).encode()
    ).hexdigest()[:16]
    bot = train_model.cache_dir() / "bots" / f"rasa-init-{key}"
    if not (bot / ".complete").is_file():
        shutil.rmtree(bot, ignore_errors=True)
        build(bot)
        (bot / ".complete").touch()
    train_model.ensure_model(bot)
    return bot


def build(bot: Path) -> None:
    """Copy rasa init's project to `bot` and apply the README's steps to it."""
    shutil.copytree(TEMPLATE, bot, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    config = _load(bot / "config.yml")
    config["policies"] = POLICIES
    _dump(bot / "config.yml", config)
    credentials = _load(bot / "credentials.yml")
    credentials.update(CHANNEL)
    _dump(bot / "credentials.yml", credentials)
    endpoints = _load(bot / "endpoints.yml")
    endpoints["action_endpoint"] = {"url": "http://localhost:5055/webhook"}
    _dump(bot / "endpoints.yml", endpoints)
    (bot / "actions" / "handoff.py").write_text(ACTIONS_MODULE)
    domain = _load(bot / "domain.yml")
    plugin = _load(PLUGIN_DOMAIN)
    domain["intents"] = [*domain["intents"], *plugin["intents"]]
    for section in ("slots", "responses"):
        domain[section] = {**(domain.get(section) or {}), **plugin[section]}
    domain["actions"] = [*(domain.get("actions") or []), *plugin["actions"]]
    _dump(bot / "domain.yml", domain)
    nlu = _load(bot / "data" / "nlu.yml")
    nlu["nlu"] = [*nlu["nlu"], *_plugin_nlu()]
    _dump(bot / "data" / "nlu.yml", nlu)


def _plugin_nlu() -> List[Dict[str, Any]]:
    """The example bot's NLU examples for the plugin's intents, as a bot author copies them."""
    items = _load(REPO / "data" / "nlu.yml")["nlu"]
    chosen = [item for item in items if item.get("intent") in PLUGIN_INTENTS]
    assert len(chosen) == len(PLUGIN_INTENTS), "the example bot lost its handoff NLU"
    return chosen


def _load(path: Path) -> Dict[str, Any]:
    return yaml.safe_load(path.read_text()) or {}


def _dump(path: Path, data: Dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
