"""What `rasa-zendesk init` adds to a bot, one step per file, each decided before anything is
written: a step either plans an edit, finds its part already there, or leaves a note for the
author (a file it will not edit as text, a setting that is the author's choice)."""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from rasa_zendesk.init.yaml_sections import (
    CannotInsert,
    Entry,
    entries,
    insert_entries,
    load,
    names,
    split_lines,
)

PACKAGE = Path(__file__).resolve().parents[1]
PLUGIN_DOMAIN = PACKAGE / "domain" / "zendesk.yml"
PLUGIN_NLU = PACKAGE / "domain" / "nlu.yml"
ACTIONS_INIT = PACKAGE / "actions" / "__init__.py"
#: The policies Rasa uses when config.yml names none (found without importing Rasa: slow).
RASA_DEFAULT_CONFIG = (
    Path(importlib.util.find_spec("rasa").origin).parent  # type: ignore[arg-type, union-attr]
    / "engine"
    / "recipes"
    / "config_files"
    / "default_config.yml"
)
DOMAIN_SECTIONS = ("intents", "slots", "actions", "responses")
CHANNEL = "rasa_zendesk.ZendeskInput"
POLICY = "rasa_zendesk.HandoffPolicy"
ACTION_SERVER_URL = "http://localhost:5055/webhook"
DOMAIN_FILE_OF_ITS_OWN = "zendesk.yml"
NLU_FILE = Path("data") / "zendesk_nlu.yml"
ACTIONS_FILE = Path("actions") / "zendesk.py"
ACTIONS_MARK = "# Added by `rasa-zendesk init`"
TEMPLATES = {
    "credentials.yml": (
        "# The Zendesk handoff. Its connection (subdomain, app_id, key_id, key_secret,\n"
        "# webhook_secret) comes from the ZENDESK_* variables, else from zendesk.env in the\n"
        "# bot's folder (`rasa-zendesk emulator --env-file zendesk.env` writes one); a key\n"
        "# set under it here wins. See the settings reference for the rest.\n"
        f"{CHANNEL}:\n"
    ),
    "endpoints.yml": f'action_endpoint:\n  url: "{ACTION_SERVER_URL}"\n',
}


@dataclass
class Plan:
    """Everything `init` would do, decided before anything is written."""

    root: Path
    writes: Dict[Path, str] = field(default_factory=dict)
    changed: List[str] = field(default_factory=list)
    unchanged: List[str] = field(default_factory=list)
    left: List[str] = field(default_factory=list)

    def write(self, relative: Path, text: str, what: str) -> None:
        path = self.root / relative
        verb = "changed" if path.exists() else "created"
        self.writes[path] = text
        self.changed.append(f"{verb} {relative}: {what}")

    def read(self, relative: Path) -> Optional[str]:
        """A file's text as planned so far (a step may add to what an earlier one wrote), its
        line endings as they are (`read_text` would make CRLF a LF)."""
        path = self.root / relative
        if path in self.writes:
            return self.writes[path]
        return path.read_bytes().decode("utf-8") if path.is_file() else None


def domain_step(plan: Plan) -> None:
    """The plugin's intents, slots, actions and responses: merged into a single domain.yml,
    or a file of its own in a domain directory; only those the bot lacks."""
    directory = plan.root / "domain"
    if directory.is_dir():
        files = sorted(directory.rglob("*.yml")) + sorted(directory.rglob("*.yaml"))
        target = Path("domain") / DOMAIN_FILE_OF_ITS_OWN
    else:
        single = next(
            (name for name in ("domain.yml", "domain.yaml") if (plan.root / name).is_file()), None
        )
        if single is None:
            plan.left.append("no domain.yml or domain/: run `rasa init` first, or pass --project")
            return
        files, target = [plan.root / single], Path(single)
    have: Dict[str, List[str]] = {section: [] for section in DOMAIN_SECTIONS}
    session = None
    for path in files:
        data = load(path.read_text(encoding="utf-8"), _relative(plan, path)) or {}
        for section in DOMAIN_SECTIONS:
            have[section] += names(data.get(section))
        session = data.get("session_config", session)
    source = PLUGIN_DOMAIN.read_text(encoding="utf-8")
    missing = {
        section: [entry for entry in entries(source, section) if entry.name not in have[section]]
        for section in DOMAIN_SECTIONS
    }
    if isinstance(session, dict) and session.get("carry_over_slots_to_new_session") is False:
        plan.left.append(
            "the domain's session_config sets carry_over_slots_to_new_session: false; the "
            "handoff is a slot, so set it to true (training stops until then)"
        )
    if not any(missing.values()):
        plan.unchanged.append(f"{target}: has the plugin's domain entries")
        return
    text = plan.read(target)
    if text is None:
        text = "# The domain entries of rasa-zendesk (added by `rasa-zendesk init`).\n"
        text += 'version: "3.1"\n'
    added = _insert_all(plan, target, text, missing)
    if added is not None:
        plan.write(target, added, _listed(missing))


def nlu_step(plan: Plan) -> None:
    """NLU examples of the plugin's intents, in a file of their own under data/."""
    have: List[str] = []
    data_dir = plan.root / "data"
    for path in sorted(data_dir.rglob("*.yml")) + sorted(data_dir.rglob("*.yaml")):
        parsed = load(path.read_text(encoding="utf-8"), _relative(plan, path)) or {}
        items = parsed.get("nlu") or []
        have += [
            str(item["intent"]) for item in items if isinstance(item, dict) and "intent" in item
        ]
    source = PLUGIN_NLU.read_text(encoding="utf-8")
    missing = [entry for entry in entries(source, "nlu") if entry.name not in have]
    if not missing:
        plan.unchanged.append("data/: has NLU examples of the plugin's intents")
        return
    text = plan.read(NLU_FILE) or 'version: "3.1"\n'
    added = _insert_all(plan, NLU_FILE, text, {"nlu": missing})
    if added is not None:
        plan.write(NLU_FILE, added, "NLU examples of " + ", ".join(e.name for e in missing))


def actions_step(plan: Plan) -> None:
    """The plugin's actions, imported by a module of the action server's `actions` package."""
    wanted = action_classes()
    module = _actions_module(wanted)
    ours = plan.root / ACTIONS_FILE
    if ours.is_file() and ours.read_text(encoding="utf-8").startswith(ACTIONS_MARK):
        if ours.read_text(encoding="utf-8") == module:
            plan.unchanged.append(f"{ACTIONS_FILE}: imports the plugin's actions")
        else:
            plan.write(ACTIONS_FILE, module, "the plugin's actions, brought up to date")
        return
    sources = sorted((plan.root / "actions").rglob("*.py")) + [plan.root / "actions.py"]
    importing = {
        path: path.read_text(encoding="utf-8")
        for path in sources
        if path.is_file() and "rasa_zendesk.actions" in path.read_text(encoding="utf-8")
    }
    if importing:
        text = "\n".join(importing.values())
        lacking = [name for name in wanted if not re.search(rf"\b{name}\b", text)]
        where = ", ".join(_relative(plan, path) for path in importing)
        if lacking:
            plan.left.append(f"{where}: also import {', '.join(lacking)} from rasa_zendesk.actions")
        else:
            plan.unchanged.append(f"{where}: imports the plugin's actions")
        return
    if (plan.root / "actions.py").is_file():
        plan.left.append(
            "actions.py: add `from rasa_zendesk.actions import "
            f"{', '.join(wanted)}  # noqa: F401`"
        )
        return
    if not (plan.root / "actions" / "__init__.py").is_file():
        plan.write(Path("actions") / "__init__.py", "", "the action server's package")
    plan.write(ACTIONS_FILE, module, "imports the plugin's actions for `rasa run actions`")


def credentials_step(plan: Plan) -> None:
    _top_level_step(plan, Path("credentials.yml"), CHANNEL, "the channel " + CHANNEL)


def endpoints_step(plan: Plan) -> None:
    _top_level_step(
        plan, Path("endpoints.yml"), "action_endpoint", f"action_endpoint {ACTION_SERVER_URL}"
    )


def config_step(plan: Plan) -> None:
    """The policy next to the bot's own; when the bot names none (Rasa then uses its default
    policies), Rasa's defaults are written out with it, so the bot keeps them."""
    relative = Path("config.yml")
    text = plan.read(relative)
    if text is None:
        plan.left.append(f"no config.yml: add `policies: [{{name: {POLICY}}}]` to yours")
        return
    data = load(text, str(relative)) or {}
    policies = data.get("policies")
    if POLICY in names(policies):
        plan.unchanged.append(f"config.yml: has {POLICY}")
        return
    ours = Entry(POLICY, [f"  - name: {POLICY}"])
    if policies:
        new, what = [ours], f"policy {POLICY}"
    else:
        first, *rest = entries(RASA_DEFAULT_CONFIG.read_text(encoding="utf-8"), "policies")
        note = "  # Now provided (by `rasa-zendesk init`): Rasa's defaults, then the handoff's."
        new = [Entry(first.name, [note, *first.lines]), *rest, ours]
        what = f"policy {POLICY}, after Rasa's default policies (used so far without being named)"
    added = _insert_all(plan, relative, text, {"policies": new})
    if added is not None:
        plan.write(relative, added, what)


STEPS: Sequence[Callable[[Plan], None]] = (
    domain_step,
    nlu_step,
    actions_step,
    credentials_step,
    endpoints_step,
    config_step,
)


def action_classes() -> List[str]:
    """The action classes the package exports (its `__all__`), read without importing it: the
    action package reads the settings when imported."""
    tree = ast.parse(ACTIONS_INIT.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return sorted(ast.literal_eval(node.value))
    raise RuntimeError("rasa_zendesk.actions has no __all__")


def _actions_module(classes: List[str]) -> str:
    imported = "".join(f"    {name},\n" for name in classes)
    return (
        f"{ACTIONS_MARK}: the action server registers the plugin's actions when it imports\n"
        "# them. Leave this file to the command (a later `rasa-zendesk init` updates it).\n"
        f"from rasa_zendesk.actions import (  # noqa: F401\n{imported})\n"
    )


def _top_level_step(plan: Plan, relative: Path, key: str, what: str) -> None:
    """A top-level entry the bot lacks (absent, or an empty `key:`), from `TEMPLATES`."""
    text = plan.read(relative) or ""
    template = TEMPLATES[str(relative)]
    new = entries(template, key)
    found = load(text, str(relative)) or {}
    # A key the template gives without entries (the channel's: its settings come from the
    # environment) is there once the key is, even with nothing under it.
    if found.get(key) is not None or (key in found and not new):
        plan.unchanged.append(f"{relative}: has {key}")
        return
    above = [line for line in split_lines(template) if line.startswith("#")]
    try:
        added = insert_entries(text, key, new, str(relative), [line.rstrip() for line in above])
    except CannotInsert as error:
        plan.left.append(f"{error}: add `{key}` yourself")
        return
    plan.write(relative, added, what)


def _insert_all(
    plan: Plan, relative: Path, text: str, new: Dict[str, List[Entry]]
) -> Optional[str]:
    """`text` with every section's new entries, or None (and a note) if it cannot be done."""
    try:
        for section, added in new.items():
            if added:
                text = insert_entries(text, section, added, str(relative))
    except CannotInsert as error:
        plan.left.append(f"{error}: add these yourself: {_listed(new)}")
        return None
    return text


def _listed(new: Dict[str, List[Entry]]) -> str:
    return "; ".join(
        f"{section} {', '.join(entry.name for entry in added)}"
        for section, added in new.items()
        if added
    )


def _relative(plan: Plan, path: Path) -> str:
    return str(path.relative_to(plan.root))
