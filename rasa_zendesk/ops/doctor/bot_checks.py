"""The bot's side: what the README's "Add it to your own bot" asks, checked in its files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Dict, Mapping, Optional

from rasa_zendesk.constants import INTENT_HUMAN_HANDOFF
from rasa_zendesk.handoff.endings import BUILT_IN_TEXTS
from rasa_zendesk.ops.doctor.project import CHANNEL_KEY, Project, plugin_domain
from rasa_zendesk.ops.doctor.result import Findings

AREA = "bot"
POLICY = "rasa_zendesk.HandoffPolicy"
ATOMIC_LOCK_STORE = "rasa_zendesk.scaleout.redis_lock_store.AtomicRedisLockStore"
#: Fewer NLU examples than this for one of the plugin's intents: the NLU will miss it.
FEW_EXAMPLES = 5
#: Tracker stores several Rasa instances can share.
SHARED_STORES = ("redis", "mongod", "dynamo")
ACTIONS_TIMEOUT = 120.0


def check_bot(project: Project, findings: Findings, actions: str, instances: Optional[int]) -> None:
    """Every check of the bot's files, in the README's order."""
    check_channel(project, findings)
    check_policy(project, findings)
    check_actions(project, findings, actions)
    check_domain(project, findings)
    check_nlu(project, findings)
    check_stores(project, findings, instances)


def _unreadable(project: Project, findings: Findings, name: str, what: str) -> bool:
    if name in project.unreadable:
        unset = project.unset_variables.get(name)
        fix = (
            f"set {', '.join(unset)} in the environment of `rasa run`, or take the line(s) out: "
            "the channel reads the ZENDESK_* variables and zendesk.env of the bot's folder itself"
            if unset
            else f"correct {name}"
        )
        findings.failed(AREA, what, f"{name} cannot be read: {project.unreadable[name]}", fix)
        return True
    return False


def check_channel(project: Project, findings: Findings) -> None:
    what = "channel in credentials.yml"
    block = project.channel_credentials()
    if _unreadable(project, findings, "credentials.yml", what):
        return
    if block is None:
        findings.failed(
            AREA,
            what,
            f"{CHANNEL_KEY} is not in {project.path('credentials.yml')}",
            f"add `{CHANNEL_KEY}:` with subdomain, app_id, key_id, key_secret and "
            "webhook_secret (or run `rasa-zendesk init`)",
        )
    else:
        findings.passed(AREA, what, CHANNEL_KEY)


def check_policy(project: Project, findings: Findings) -> None:
    what = "policy in config.yml"
    config = project.yaml("config.yml")
    if _unreadable(project, findings, "config.yml", what):
        return
    names = [p.get("name") for p in (config or {}).get("policies") or [] if isinstance(p, dict)]
    if POLICY in names:
        findings.passed(AREA, what, POLICY)
    else:
        findings.failed(
            AREA,
            what,
            f"{POLICY} is not among the policies ({', '.join(map(str, names)) or 'none'})",
            f"add `- name: {POLICY}` under `policies:` in config.yml (or run "
            "`rasa-zendesk init`), then train",
        )


def check_actions(project: Project, findings: Findings, package: str) -> None:
    """The plugin's actions as the action server registers them (rasa-sdk's own executor, in a
    separate process: the bot's package is imported as `rasa run actions` imports it)."""
    what = "actions in the action server"
    needed = [a for a in plugin_domain().user_actions if a.startswith("action_zendesk_")]
    registered = _registered_actions(project, package)
    if isinstance(registered, str):
        findings.failed(
            AREA,
            what,
            f"the package {package!r} cannot be loaded as the action server loads it: "
            f"{registered}",
            f"make `rasa run actions --actions {package}` start in {project.root}",
        )
        return
    missing = [name for name in needed if name not in registered]
    if missing:
        findings.failed(
            AREA,
            what,
            f"{package!r} does not register {', '.join(missing)}",
            f"in {package}/handoff.py: `from rasa_zendesk.actions import ...` the action "
            "classes (or run `rasa-zendesk init`)",
        )
    else:
        findings.passed(AREA, what, f"{package!r} registers {', '.join(needed)}")
    endpoints = project.yaml("endpoints.yml") or {}
    if not (endpoints.get("action_endpoint") or {}).get("url"):
        findings.failed(
            AREA,
            "action endpoint in endpoints.yml",
            "no action_endpoint url: the Rasa server cannot run the handoff actions",
            'add `action_endpoint: {url: "http://<action server>:5055/webhook"}`',
        )


_LIST_ACTIONS = (
    "import json, sys\n"
    "from rasa_sdk.executor import ActionExecutor\n"
    "executor = ActionExecutor()\n"
    "executor.register_package(sys.argv[1])\n"
    "print(json.dumps(sorted(executor.actions)))\n"
)


def _registered_actions(project: Project, package: str) -> Any:
    """The action names the package registers, or why it could not be loaded (a string)."""
    if not (project.path(package).is_dir() or project.path(f"{package}.py").is_file()):
        return f"there is no {package}/ in the project"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(project.root), *sys.path]))
    try:
        done = subprocess.run(
            [sys.executable, "-c", _LIST_ACTIONS, package],
            cwd=project.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=ACTIONS_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return f"importing it took over {ACTIONS_TIMEOUT:.0f} s"
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return lines[-1] if lines else f"exit status {done.returncode}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_domain(project: Project, findings: Findings) -> None:
    what = "domain entries"
    path, domain = project.domain_path(), project.domain()
    if path is not None and _unreadable(project, findings, path.name, what):
        return
    if domain is None:
        findings.failed(AREA, what, "no domain.yml or domain/ in the project", "add the domain")
        return
    needed = plugin_domain()
    slots = {slot.name for slot in domain.slots}
    gaps = {
        "intents": [i for i in needed.intents if i not in domain.intents],
        "slots": [s.name for s in needed.slots if s.name not in slots],
        "actions": [a for a in needed.user_actions if a not in domain.user_actions],
        "responses": [
            r for r in needed.responses if r not in domain.responses and r not in BUILT_IN_TEXTS
        ],
    }
    missing = {kind: names for kind, names in gaps.items() if names}
    fix = "run `rasa-zendesk init`, or copy them from rasa_zendesk/domain/zendesk.yml"
    if missing:
        listed = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in missing.items())
        findings.failed(AREA, what, f"missing {listed}", fix)
    else:
        findings.passed(AREA, what, "the plugin's intents, slots, actions and responses")
    worded = [r for r in BUILT_IN_TEXTS if r in needed.responses and r not in domain.responses]
    if worded:
        findings.warned(
            AREA,
            "responses with a built-in sentence",
            f"{', '.join(worded)} not in the domain: the user reads the built-in sentence",
            fix,
        )
    if domain.session_config.carry_over_slots:
        findings.passed(AREA, "session_config", "carry_over_slots_to_new_session: true")
    else:
        findings.failed(
            AREA,
            "session_config",
            "carry_over_slots_to_new_session is false: a session that expires during a "
            "handoff forgets it",
            "set `session_config: carry_over_slots_to_new_session: true` in the domain",
        )


def check_nlu(project: Project, findings: Findings) -> None:
    what = "NLU examples"
    data = project.nlu()
    if _unreadable(project, findings, "data", what):
        return
    counts: Mapping[str, int] = data.number_of_examples_per_intent if data else {}
    # `end_handoff` needs none: only the End chat button's `/end_handoff` and `/end` end a
    # handoff, never words the NLU reads.
    for intent in (INTENT_HUMAN_HANDOFF,):
        count = counts.get(intent, 0)
        name = f"{what} for {intent}"
        fix = f"add examples of {intent} to data/nlu.yml (see the example bot's)"
        if count == 0:
            findings.failed(AREA, name, f"none in {project.path('data')}", fix)
        elif count < FEW_EXAMPLES:
            findings.warned(AREA, name, f"only {count}: the NLU will often miss it", fix)
        else:
            findings.passed(AREA, name, f"{count} examples")


def check_stores(project: Project, findings: Findings, instances: Optional[int]) -> None:
    """A lock store safe for the instances: in memory for one, ours on Redis for several."""
    endpoints = project.yaml("endpoints.yml")
    if _unreadable(project, findings, "endpoints.yml", "lock store"):
        return
    endpoints = endpoints or {}
    tracker = _store_type(endpoints.get("tracker_store"))
    lock = _store_type(endpoints.get("lock_store"))
    shared = tracker in SHARED_STORES or (
        tracker == "sql" and (endpoints["tracker_store"].get("dialect") or "") != "sqlite"
    )
    several = (instances or 1) > 1
    told = f"tracker store {tracker or 'in memory'}, lock store {lock or 'in memory'}"
    fix = f"set `lock_store: {{type: {ATOMIC_LOCK_STORE}, url: ..., port: ...}}` in endpoints.yml"
    if lock == ATOMIC_LOCK_STORE.lower():
        findings.passed(AREA, "lock store", f"{told}: safe for several instances")
    elif several and lock == "redis":
        findings.failed(
            AREA,
            "lock store",
            f"{told}: Rasa 3.6's Redis lock store lets two instances hold one conversation",
            fix,
        )
    elif several:
        findings.failed(
            AREA, "lock store", f"{told}: each of {instances} instances would lock alone", fix
        )
    elif lock == "redis" or (shared and instances is None):
        findings.warned(
            AREA,
            "lock store",
            f"{told}: safe for one instance only",
            f"with several instances, {fix} (or pass --instances 1 if you run one)",
        )
    else:
        findings.passed(AREA, "lock store", f"{told}: safe for one instance")
    if several and not shared:
        findings.failed(
            AREA,
            "tracker store",
            f"{told}: {instances} instances cannot share it",
            "use a PostgreSQL (type: SQL, dialect: postgresql) or Redis tracker store",
        )


def _store_type(config: Optional[Dict[str, Any]]) -> Optional[str]:
    if not isinstance(config, dict):
        return None
    kind = str(config.get("type") or "").strip().lower()
    return None if kind in ("", "in_memory") else kind
