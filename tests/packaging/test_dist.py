"""`make dist`: an sdist and a wheel that hold everything the plugin needs at run time (its
modules, the domain and NLU files `init` copies, the emulator's console) and nothing else
(no example bot, tests, testkit, demo, caches); and the wheel works in a venv that has Rasa
but not this checkout."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path
from typing import Set

import pytest
import tomli
from packaging.requirements import Requirement

from scripts import dist
from testkit.wheel_venv import missing_requirements, run, wheel_venv

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]


def package_files() -> Set[str]:
    """What the wheel must hold: every file of the package but caches."""
    return {str(path) for path in dist.sources() if path.parts[0] == dist.PACKAGE}


@pytest.fixture(scope="module")
def built() -> tuple:
    return dist.cached_build()


def test_the_wheel_holds_the_package_and_nothing_else(built: tuple) -> None:
    _, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = {
            name.split("/", 1)[1]: archive.read(name).decode()
            for name in names
            if ".dist-info/" in name
        }
    shipped = {name for name in names if ".dist-info/" not in name}
    assert shipped == package_files()
    for needed in (
        "rasa_zendesk/domain/zendesk.yml",
        "rasa_zendesk/domain/nlu.yml",
        "rasa_zendesk/emulator/static/console.html",
        "rasa_zendesk/init/yaml_sections.py",
    ):
        assert needed in shipped
    assert "rasa-zendesk = rasa_zendesk.cli:main" in info["entry_points.txt"]
    declared = tomli.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    required = [
        line.split(":", 1)[1].strip()
        for line in info["METADATA"].splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert {str(Requirement(r)) for r in required} == {str(Requirement(d)) for d in declared}


def test_the_sdist_builds_the_same_package(built: tuple) -> None:
    sdist, _ = built
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    files = {
        name for name in names if name.startswith("rasa_zendesk/") and "." in name.split("/")[-1]
    }
    assert {f for f in files if not f.startswith("rasa_zendesk.egg-info")} >= package_files()
    assert {"pyproject.toml", "README.md", "MANIFEST.in"} <= names
    assert not [
        n for n in names if n.split("/")[0] in ("tests", "testkit", "demo", "data", "actions")
    ]


def test_make_dist_writes_both_into_dist(tmp_path: Path) -> None:
    assert dist.main(["--out", str(tmp_path)]) == 0
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".gz", ".whl"]


def test_the_wheel_works_where_only_rasa_is_installed(built: tuple, tmp_path: Path) -> None:
    _, wheel = built
    venv = wheel_venv(wheel)
    assert missing_requirements(venv) == []
    python = str(venv / "bin" / "python")
    where = run([python, "-c", "import rasa_zendesk.init; print(rasa_zendesk.__file__)"], tmp_path)
    assert where.strip().startswith(str(venv)), where  # the wheel's copy, not this checkout
    help_text = run([str(venv / "bin" / "rasa-zendesk"), "emulator", "--help"], tmp_path)
    assert "export ZENDESK_API_URL=http://127.0.0.1:8090/sc" in help_text


def test_make_dist_builds_without_the_rasa_venv() -> None:
    """The `dist` target asks only for scripts/build-venv (setuptools and wheel, as
    pyproject's [build-system] requires), never for `venv` (Rasa's 2.7 GB)."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = lines.index(next(line for line in lines if line.startswith("dist:")))
    prerequisites = lines[start].split(":", 1)[1].split()
    recipe = [line for line in lines[start + 1 :] if line.startswith("\t")]
    assert "venv" not in prerequisites and recipe, lines[start]
    assert "scripts/build-venv" in recipe[0] and "-m scripts.dist" in recipe[0], recipe
    script = (ROOT / "scripts" / "build-venv").read_text()
    requires = tomli.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    assert requires == ["setuptools>=64", "wheel"] and "[build-system] requires" in script
