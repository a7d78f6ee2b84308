"""A virtualenv with Rasa and the built wheel of rasa-zendesk, and nothing of this checkout.

Installing Rasa into a fresh venv costs minutes and GBs, so the new venv borrows the project's
cached one (`scripts/venv`) for Rasa and the other dependencies: a `.pth` line puts that venv's
site-packages at the end of `sys.path`. A path line in a `.pth` file adds the folder only, not
the `.pth` files inside it, so the checkout's editable install (a finder hook in a `.pth` file
there) stays off: `rasa_zendesk` can only come from the wheel, installed into the new venv's
own site-packages. The wheel is installed without its dependencies (pip cannot download them
here); `missing_requirements` then checks each of them against what the venv sees.

Cached per wheel (`~/.cache/rasa-zendesk/venvs/wheel-<hash>`), so a test run builds it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Dict, List, Optional

from demo.stack import QUIET_PROCESS_ENV
from scripts.train_model import cache_dir

CHECK_REQUIREMENTS = """
import importlib.metadata as metadata
from packaging.requirements import Requirement
missing = []
for line in metadata.requires("rasa-zendesk") or []:
    requirement = Requirement(line)
    if requirement.marker is not None:
        continue  # an extra's (emulator, test)
    try:
        version = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        missing.append(f"{requirement}: not installed")
        continue
    if not requirement.specifier.contains(version, prereleases=True):
        missing.append(f"{requirement}: {version} installed")
print("\\n".join(missing))
"""


def wheel_venv(wheel: Path) -> Path:
    """The venv's folder (its interpreter is `bin/python`), made once per wheel."""
    borrowed = str(Path(sysconfig.get_paths()["purelib"]).resolve())  # the cached venv's
    key = hashlib.sha256(wheel.read_bytes() + borrowed.encode()).hexdigest()[:16]
    venv = cache_dir() / "venvs" / f"wheel-{key}"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"wheel-{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").is_file():
            shutil.rmtree(venv, ignore_errors=True)
            _create(venv, wheel, borrowed)
            (venv / ".complete").touch()
    return venv


def clean_env() -> Dict[str, str]:
    """This process's environment without anything that would put the checkout on a path
    (and without the noise Rasa's dependencies print)."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return {**env, **QUIET_PROCESS_ENV}


def missing_requirements(venv: Path) -> List[str]:
    """The wheel's own requirements the venv does not satisfy (empty: all met)."""
    done = run([str(venv / "bin" / "python"), "-c", CHECK_REQUIREMENTS])
    return [line for line in done.splitlines() if line.strip()]


def _create(venv: Path, wheel: Path, borrowed: str) -> None:
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    run([str(base), "-m", "venv", str(venv)])
    own = Path(
        run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ]
        ).strip()
    )
    (own / "_rasa_from_the_cached_venv.pth").write_text(borrowed + "\n")
    run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--no-deps",
            "--ignore-installed",
            str(wheel),
        ]
    )


def run(argv: List[str], cwd: Optional[Path] = None, timeout: float = 1200) -> str:
    """Run a command (e.g. one of the venv's) with `clean_env`; its output. A failure raises
    with the end of its output."""
    done = subprocess.run(
        argv, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout
