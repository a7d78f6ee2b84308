"""The import rules of pyproject.toml `[tool.importlinter]` hold, and they do fail the build:
`lint-imports` (run by `make lint`) rejects an upward import and a cycle put in on purpose."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` over the package under `root`, with the repo's contracts."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def copy_of_the_package(tmp_path: Path) -> Path:
    """The package's Python files and the contracts, in a directory of their own."""

    def not_python(directory: str, names: List[str]) -> List[str]:
        return [
            name
            for name in names
            if name == "__pycache__" or not (name.endswith(".py") or Path(directory, name).is_dir())
        ]

    shutil.copytree(
        REPO / "rasa_zendesk",
        tmp_path / "rasa_zendesk",
        ignore=not_python,
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_its_import_rules() -> None:
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "added", "reported"),
    [
        # The settings, at the bottom, reaching up to the handoff state.
        (
            "settings.py",
            "from rasa_zendesk.handoff import state",
            "rasa_zendesk.settings -> rasa_zendesk.handoff.state",
        ),
        # A cycle inside one package: the zone names (used by support_api) importing the gate.
        ("hours/zone_names.py", "from rasa_zendesk.hours import gate", "in rasa_zendesk.hours"),
    ],
)
def test_an_upward_import_or_a_cycle_fails(
    tmp_path: Path, module: str, added: str, reported: str
) -> None:
    root = copy_of_the_package(tmp_path)
    path = root / "rasa_zendesk" / module
    path.write_text(path.read_text() + f"\n{added}  # noqa\n")
    done = lint_imports(root)
    assert done.returncode != 0
    assert reported in done.stdout, done.stdout
