"""`rasa-zendesk init [--project DIR]`: add what a Rasa bot needs for the handoff.

It adds only what is missing and never rewrites what the author wrote (new entries go in as
lines, see `yaml_sections`): the plugin's domain entries (into a single domain.yml, or a file
of their own in a domain directory), NLU examples of its intents (`data/zendesk_nlu.yml`),
the actions module (`actions/zendesk.py`), the channel in credentials.yml, `action_endpoint`
in endpoints.yml and the policy in config.yml. Every file is read and every change decided
before the first is written: a file it cannot parse stops it with nothing changed. A second
run changes nothing.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, TextIO

from rasa_zendesk.init.steps import STEPS, Plan
from rasa_zendesk.init.yaml_sections import Unparseable

#: Exit statuses: done (changed or not), a file could not be parsed, not a bot's folder.
OK, UNPARSEABLE, NOT_A_PROJECT = 0, 1, 2
NEXT_STEPS = (
    "rasa train   (warnings that human_handoff, end_handoff and zendesk_poll are in no story "
    "or rule, and that zendesk_poll has no NLU examples, are expected: the policy handles them)",
    "rasa-zendesk emulator --webhook-url http://localhost:5005/webhooks/zendesk/webhook   "
    "(prints the ZENDESK_* lines for both servers)",
    "rasa run actions   and   rasa run   (each with those ZENDESK_* variables)",
    "rasa-zendesk doctor --rasa-url http://localhost:5005",
)


@dataclass
class Outcome:
    status: int
    plan: Plan
    problems: List[str]


def plan_for(project: Path) -> Outcome:
    """What `init` would change in `project`, without writing anything."""
    plan = Plan(project.resolve())
    if not any((plan.root / name).exists() for name in ("config.yml", "domain.yml", "domain")):
        problem = f"{project}: not a Rasa bot's folder (no config.yml, domain.yml or domain/)"
        return Outcome(NOT_A_PROJECT, plan, [problem])
    problems = []
    for step in STEPS:
        try:
            step(plan)
        except Unparseable as error:
            problems.append(str(error))
    return Outcome(UNPARSEABLE if problems else OK, plan, problems)


def run(project: Path) -> Outcome:
    """Plan, then write every planned file (each replaced whole, never half-written)."""
    outcome = plan_for(project)
    if outcome.status == OK:
        for path, text in outcome.plan.writes.items():
            _write(path, text)
    return outcome


def report(outcome: Outcome, out: TextIO) -> None:
    """What changed, what was there already, and what is left for the author."""
    plan = outcome.plan
    print(f"rasa-zendesk init: {plan.root}", file=out)
    if outcome.problems:
        for problem in outcome.problems:
            print(f"  cannot read {problem}", file=out)
        print("Nothing was changed.", file=out)
        return
    for line in plan.changed:
        print(f"  {line}", file=out)
    for line in plan.unchanged:
        print(f"  unchanged {line}", file=out)
    if not plan.changed:
        print("Nothing to change: the bot has everything init adds.", file=out)
    if plan.left:
        print("Left for you:", file=out)
        for line in plan.left:
            print(f"  - {line}", file=out)
    print("Next:", file=out)
    for line in NEXT_STEPS:
        print(f"  {line}", file=out)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
