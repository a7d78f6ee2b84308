"""Build the sdist and the wheel (`make dist`) from a clean copy of the sources.

setuptools builds inside the source tree (build/, *.egg-info), where a file deleted since an
earlier build lingers and would be shipped. So the files the sdist is made of are copied to a
temporary folder, the sdist is built there, and the wheel is built from the unpacked sdist, as
`python -m build` does: a file the sdist lacks is missing from the wheel too, and the tests
see it. Offline: setuptools' own build hooks, with the setuptools and wheel installed here.

Tests import it: `from scripts.dist import cached_build`.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import List, Optional, Tuple

from scripts.train_model import cache_dir

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL = ("pyproject.toml", "README.md", "MANIFEST.in")
PACKAGE = "rasa_zendesk"
SKIPPED = ("__pycache__",)
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def sources(root: Path = ROOT) -> List[Path]:
    """The files an sdist can be made of (relative to `root`), in a stable order."""
    found = [Path(name) for name in TOP_LEVEL]
    for path in sorted((root / PACKAGE).rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not (
            set(relative.parts) & set(SKIPPED) or path.suffix in SKIPPED_SUFFIXES
        ):
            found.append(relative)
    return found


def build(out: Path, root: Path = ROOT) -> Tuple[Path, Path]:
    """Build the sdist and the wheel into `out`; their paths."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rasa-zendesk-dist-") as work:
        copy = Path(work) / "src"
        for relative in sources(root):
            (copy / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / relative, copy / relative)
        sdist = out / _hook("build_sdist", copy, out)
        with tarfile.open(sdist) as archive:
            archive.extractall(Path(work) / "unpacked")
        (unpacked,) = (Path(work) / "unpacked").iterdir()
        wheel = out / _hook("build_wheel", unpacked, out)
    return sdist, wheel


def cached_build() -> Tuple[Path, Path]:
    """The sdist and wheel of the current sources, built once per content (for the tests)."""
    digest = hashlib.sha256()
    for relative in sources():
        digest.update(str(relative).encode() + b"\0" + (ROOT / relative).read_bytes() + b"\0")
    folder = cache_dir() / "dist" / digest.hexdigest()[:16]
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".complete").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            build(folder)
            (folder / ".complete").touch()
    (sdist,) = folder.glob("*.tar.gz")
    (wheel,) = folder.glob("*.whl")
    return sdist, wheel


def _hook(name: str, source: Path, out: Path) -> str:
    """Run one of setuptools' PEP 517 hooks in `source` (it builds in the working folder)."""
    code = f"import sys; from setuptools import build_meta; print(build_meta.{name}(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="default: dist/")
    args = parser.parse_args(argv)
    try:
        for path in build(args.out):
            print(path)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
