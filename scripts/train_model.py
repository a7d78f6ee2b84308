#!/usr/bin/env python3
"""Train the example bot only when its model is missing or stale, and print the model's path.

The model is cached by content: the key is a sha256 of config.yml, domain.yml, everything under
data/, the plugin's shipped domain file and the Rasa version. The cache lives in
`${RASA_ZENDESK_CACHE:-${XDG_CACHE_HOME:-~/.cache}/rasa-zendesk}/models/<key>.tar.gz`, so a
fresh clone or a second checkout reuses it; `models/example-bot.tar.gz` links to it for `rasa run`.

Tests and the demo import it: `from scripts.train_model import ensure_model`.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Iterable, List, Optional

ROOT = Path(__file__).resolve().parents[1]
MODEL_LINK_NAME = "example-bot.tar.gz"
SHIPPED_DOMAIN = Path("rasa_zendesk") / "domain" / "zendesk.yml"
LOG_TAIL_LINES = 40


class TrainingError(RuntimeError):
    """`rasa train` failed; the message ends with the tail of its log."""


def cache_dir() -> Path:
    """Where trained models are kept across checkouts: `$RASA_ZENDESK_CACHE`, else
    `${XDG_CACHE_HOME:-~/.cache}/rasa-zendesk`, as scripts/venv has it."""
    base = os.environ.get("RASA_ZENDESK_CACHE")
    if base:
        return Path(base).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "rasa-zendesk"


def input_files(root: Path = ROOT) -> List[Path]:
    """The files a model is trained from, in a stable order (the plugin's domain file too:
    its policy checks the domain when the bot is trained)."""
    shipped = root / SHIPPED_DOMAIN
    files = [
        root / "config.yml",
        root / "domain.yml",
        shipped if shipped.is_file() else ROOT / SHIPPED_DOMAIN,
    ]
    files += sorted(path for path in (root / "data").rglob("*") if path.is_file())
    return files


def model_key(root: Path = ROOT, rasa_version: Optional[str] = None) -> str:
    """The content hash that names the model: any change to an input means a new model."""
    digest = hashlib.sha256()
    digest.update(f"rasa {rasa_version or metadata.version('rasa')}\n".encode())
    for path in input_files(root):
        name = path.relative_to(root) if path.is_relative_to(root) else path.relative_to(ROOT)
        digest.update(str(name).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _rasa_command() -> List[str]:
    script = Path(sys.executable).parent / "rasa"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "rasa"]


def _tail(lines: Iterable[str], count: int = LOG_TAIL_LINES) -> str:
    return "".join(list(lines)[-count:])


def train(root: Path, destination: Path, log_path: Path) -> None:
    """Run `rasa train` for the bot in `root`, writing the model to `destination`."""
    with tempfile.TemporaryDirectory(prefix="rasa-zendesk-train-") as out:
        name = destination.name[: -len(".tar.gz")]
        command = _rasa_command() + [
            "train",
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--out",
            out,
            "--fixed-model-name",
            name,
        ]
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        # Rasa's fingerprint cache: unchanged components are not retrained after a small edit.
        env.setdefault("RASA_CACHE_DIRECTORY", str(cache_dir() / "rasa-train-cache"))
        with log_path.open("w") as log:
            result = subprocess.run(
                command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
            )
        produced = Path(out) / f"{name}.tar.gz"
        if result.returncode != 0 or not produced.is_file():
            with log_path.open(errors="replace") as log:
                tail = _tail(log)
            raise TrainingError(
                f"rasa train failed (exit code {result.returncode}); full log: {log_path}\n"
                f"--- last lines ---\n{tail}"
            )
        partial = destination.with_suffix(".partial")
        shutil.copyfile(produced, partial)
        os.replace(partial, destination)


def link_model(model: Path, models_dir: Path) -> Path:
    """Point `models/example-bot.tar.gz` at the cached model (what `rasa run` loads)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    link = models_dir / MODEL_LINK_NAME
    temporary = models_dir / f".{MODEL_LINK_NAME}.{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(model)
    os.replace(temporary, link)
    return link


def ensure_model(root: Path = ROOT, force: bool = False, quiet: bool = True) -> Path:
    """The cached model of the bot in `root`, trained first if missing, stale or forced.

    Concurrent callers (the test suite and `make demo`) wait for one another on a file lock,
    so the bot is trained at most once.
    """
    models = cache_dir() / "models"
    models.mkdir(parents=True, exist_ok=True)
    key = model_key(root)
    model = models / f"{key}.tar.gz"
    with (models / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if force or not model.is_file():
            if not quiet:
                print(f"==> training the example bot into {model}", file=sys.stderr)
            train(root, model, models / f"{key}.log")
    link_model(model, root / "models")
    return model


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="train even if a model is cached")
    args = parser.parse_args(argv)
    try:
        print(ensure_model(force=args.force, quiet=False))
    except TrainingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
