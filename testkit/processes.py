"""Real processes for end-to-end tests: the emulator, `rasa run actions` and `rasa run` with the
trained example bot, on free loopback ports, each test run with a SQLite tracker store of its own.

It is the demo's own orchestration (`demo.stack`) on free ports, so the tests run exactly what
`make demo` runs. Logs stay under `artifacts/e2e/<name>/` for debugging a failure.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Iterator, List, Mapping, Optional, Sequence

import pytest

from demo.stack import REPO_ROOT, DemoStack, Ports, StackConfig
from scripts import train_model

ARTIFACTS = REPO_ROOT / "artifacts"
E2E_ARTIFACTS = ARTIFACTS / "e2e"
STARTUP_TIMEOUT = 360.0


def free_ports(count: int) -> List[int]:
    """`count` distinct ports nothing listens on (held together, so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_stack_ports() -> Ports:
    """Free ports for the emulator, the action server, Rasa and the customer page."""
    emulator, actions, rasa, web = free_ports(4)
    return Ports(emulator=emulator, actions=actions, rasa=rasa, web=web)


def ensure_model() -> Path:
    """The trained example bot (trained by `scripts/train_model.py` only if missing or stale)."""
    return Path(train_model.ensure_model())


def run_dir(name: str) -> Path:
    """A fresh artifacts directory for one stack (logs, endpoints, tracker store)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "stack"
    path = E2E_ARTIFACTS / safe
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def stack_config(
    model: Path,
    name: str,
    *,
    web: bool = False,
    emulator_args: Sequence[str] = (),
    bot_dir: Path = REPO_ROOT,
    extra_env: Optional[Mapping[str, str]] = None,
    clock_file: Optional[Path] = None,
) -> StackConfig:
    """A test stack: free ports, its own SQLite tracker store and logs under artifacts/e2e;
    both servers read the plugin's clock from `clock_file` when given (ZENDESK_CLOCK_FILE)."""
    directory = run_dir(name)
    clock = {"ZENDESK_CLOCK_FILE": str(clock_file)} if clock_file is not None else {}
    return StackConfig(
        model=model,
        run_dir=directory,
        ports=free_stack_ports(),
        tracker_db=directory / "tracker.db",
        emulator_args=tuple(emulator_args),
        web=web,
        bot_dir=bot_dir,
        extra_env={**clock, **(extra_env or {})},
        # Loading the model takes ~30 s on two idle cores; far longer on a busy machine.
        startup_timeout=STARTUP_TIMEOUT,
    )


@contextlib.contextmanager
def running_stack(model: Path, name: str, **options: Any) -> Iterator[DemoStack]:
    """Start a whole stack (`options` as `stack_config` takes them), yield it, stop every
    process (also when the test fails)."""
    with running(stack_config(model, name, **options)) as stack:
        yield stack


@contextlib.contextmanager
def running(config: StackConfig) -> Iterator[DemoStack]:
    """Start the stack of `config` (e.g. a `stack_config` adjusted once its ports are known),
    yield it, stop every process (also when the test fails)."""
    name = config.run_dir.name
    stack = DemoStack(config)
    started = time.monotonic()
    stack.start()
    print(
        f"[e2e] stack {name!r} ready in {time.monotonic() - started:.1f}s: {stack.config.run_dir}"
    )
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The example bot's model, trained at most once per test run."""
    return ensure_model()


@pytest.fixture(scope="session")
def e2e_stack(trained_model: Path) -> Iterator[DemoStack]:
    """One full stack (with the customer page) shared by the scenario and browser tests.

    Each test uses a sender id and conversation of its own, so they do not interfere.
    """
    with running_stack(trained_model, "shared", web=True) as stack:
        yield stack
