"""`scripts/find-python`: the interpreter `make` uses, or a clear message (never a traceback)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "find-python"


def run(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
    )


def test_finds_a_working_python_310() -> None:
    result = run({"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")})
    assert result.returncode == 0, result.stderr
    found = result.stdout.strip()
    version = subprocess.run(
        [found, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    )
    assert version.stdout.strip() == "(3, 10)"


def test_python_env_override_is_checked() -> None:
    result = run({"PATH": os.environ["PATH"], "PYTHON": sys.executable + "-nope"})
    assert result.returncode == 1
    assert "is not a working Python 3.10 interpreter" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_python_310_anywhere_says_how_to_get_one(tmp_path: Path) -> None:
    # A PATH with only the shell tools the script needs: no python3.10, no pyenv.
    for tool in ("cat",):
        (tmp_path / tool).symlink_to(shutil.which(tool))
    result = run({"PATH": str(tmp_path), "HOME": str(tmp_path)})
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Python 3.10 was not found" in result.stderr
    assert "pyenv install 3.10" in result.stderr
    assert "Traceback" not in result.stderr
