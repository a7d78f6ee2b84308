"""The `rasa-zendesk` command as a user runs it: what it prints is ours, not the noise of the
libraries it imports (SQLAlchemy's, pkg_resources' and Sanic's deprecation warnings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from testkit import rasa_init_bot
from testkit.doctor import SETTINGS

pytestmark = pytest.mark.timeout(300)
NOISE = ("Warning", "pkg_resources", "SQLAlchemy", "declare_namespace")


def rasa_zendesk(args: List[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "PYTHONWARN"))}
    env.update(SETTINGS, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    return subprocess.run(
        [sys.executable, "-m", "rasa_zendesk.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_help_and_doctor_print_no_library_noise(tmp_path: Path) -> None:
    for args in (["--help"], ["doctor", "--help"], ["emulator", "--help"]):
        done = rasa_zendesk(args, tmp_path)
        assert done.returncode == 0 and done.stderr == "", (args, done.stderr)
    bot = tmp_path / "bot"
    rasa_init_bot.build(bot)
    done = rasa_zendesk(["doctor", "--offline"], bot)
    assert "0 FAIL" in done.stdout, done.stdout
    assert not [word for word in NOISE if word in done.stderr], done.stderr
