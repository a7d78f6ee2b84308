"""`rasa-zendesk init [--project DIR]`: add what a Rasa bot needs for the handoff.

It adds only what is missing and never rewrites what the author wrote (new entries go in as
lines, see `yaml_sections`): the plugin's domain entries (into a single domain.yml, or a file
of their own in a domain directory), NLU examples of its intents (`data/zendesk_nlu.yml`),
the actions module (`actions/zendesk.py`), the channel in credentials.yml, `action_endpoint`
in endpoints.yml and the policy in config.yml. Every file is read and every change decided
before the first is written: a file it cannot parse stops it with nothing changed. The files
are written all or none (`write_all`), byte for byte as they were but for the added lines (a
file's line endings, and a linked file's link, stay). A second run changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, TextIO

from rasa_zendesk.init.steps import STEPS, Plan
from rasa_zendesk.init.yaml_sections import Unparseable

#: Exit statuses: done (changed or not), a file could not be parsed, not a bot's folder, a
#: file could not be written (so none was).
OK, UNPARSEABLE, NOT_A_PROJECT, NOT_WRITTEN = 0, 1, 2, 3
NEXT_STEPS = (
    "rasa train   (warnings that human_handoff, end_handoff and zendesk_poll are in no story "
    "or rule, and that end_handoff and zendesk_poll have no NLU examples, are expected: the "
    "policy handles them)",
    "rasa-zendesk emulator --webhook-url http://localhost:5005/webhooks/zendesk/webhook "
    "--env-file zendesk.env   (writes the ZENDESK_* settings both servers read here)",
    "rasa run actions   and   rasa run   (in this folder)",
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
            problems.append(f"cannot read {error}")
    return Outcome(UNPARSEABLE if problems else OK, plan, problems)


def run(project: Path) -> Outcome:
    """Plan, then write every planned file, or none."""
    outcome = plan_for(project)
    if outcome.status == OK:
        try:
            write_all(outcome.plan.root, outcome.plan.writes)
        except NotWritten as error:
            return Outcome(NOT_WRITTEN, outcome.plan, [f"cannot write {error}"])
    return outcome


def report(outcome: Outcome, out: TextIO) -> None:
    """What changed, what was there already, and what is left for the author."""
    plan = outcome.plan
    print(f"rasa-zendesk init: {plan.root}", file=out)
    if outcome.problems:
        for problem in outcome.problems:
            print(f"  {problem}", file=out)
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


class NotWritten(Exception):
    """A planned file that could not be written (so none was), named with the reason."""


@dataclass
class _Staged:
    name: str  # as the report names it
    target: Path  # the file itself: a link's target
    temporary: Path  # its new text, beside it
    original: Optional[bytes]  # None: a new file
    mode: int


def write_all(root: Path, writes: Dict[Path, str]) -> None:
    """Every file or none: each new text is written to a temporary file beside its file (the
    file a link points to: the link stays a link), and only when all are there are they renamed
    over their files. A failure on the way removes the temporary files and the directories made
    for new files, and puts back the files already renamed."""
    staged: List[_Staged] = []
    made: List[Path] = []
    renamed: List[_Staged] = []
    try:
        for path, text in writes.items():
            staged.append(_stage(str(path.relative_to(root)), path, text, made))
        for item in staged:
            _replace(item, item.temporary)
            renamed.append(item)
    except BaseException:
        for item in reversed(renamed):
            _put_back(item)
        for directory in reversed(made):
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    finally:
        for item in staged:
            item.temporary.unlink(missing_ok=True)


def _stage(name: str, path: Path, text: str, made: List[Path]) -> _Staged:
    if path.is_symlink() and not path.exists():
        raise NotWritten(f"{name}: it links to {os.readlink(path)}, which does not exist")
    target = Path(os.path.realpath(path))
    try:
        if target.exists():
            if not os.access(target, os.W_OK):
                raise NotWritten(f"{name}: it is not writable")
            original: Optional[bytes] = target.read_bytes()
            mode = target.stat().st_mode & 0o777
        else:
            original, mode = None, 0o644
            missing = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
            for directory in reversed(missing):
                directory.mkdir()
                made.append(directory)
        temporary = _beside(target, text.encode("utf-8"), mode)
    except OSError as error:
        raise NotWritten(f"{name}: {error.strerror or error}") from error
    return _Staged(name, target, temporary, original, mode)


def _beside(target: Path, data: bytes, mode: int) -> Path:
    """A new file with `data` in `target`'s directory (so renaming it over `target` is
    atomic)."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, mode)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


def _replace(item: _Staged, source: Path) -> None:
    try:
        os.replace(source, item.target)
    except OSError as error:
        raise NotWritten(f"{item.name}: {error.strerror or error}") from error


def _put_back(item: _Staged) -> None:
    """The file as it was before `write_all` renamed its new text over it (best effort: this
    runs while another failure is being reported)."""
    with contextlib.suppress(OSError, NotWritten):
        if item.original is None:
            item.target.unlink(missing_ok=True)
        else:
            temporary = _beside(item.target, item.original, item.mode)
            try:
                _replace(item, temporary)
            finally:
                temporary.unlink(missing_ok=True)
