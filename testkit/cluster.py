"""Several `rasa run` instances of the example bot behind one Zendesk webhook, as separate
processes on loopback: the emulator (delivering webhooks round-robin to every instance), one
`rasa run actions`, and N Rasa instances configured by `endpoints.scaleout.yml` and
`credentials.scaleout.yml` (PostgreSQL tracker store, Redis lock store, socket.io over Redis).

The scale-out tests and the benchmarks run it; PostgreSQL and Redis come from `services`.
Logs stay under `artifacts/e2e/<name>/`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from demo.process import ManagedProcess, start_all, stop_all
from demo.stack import HOST, QUIET_PROCESS_ENV, REPO_ROOT, Credentials
from rasa_zendesk.emulator.config import EmulatorConfig
from rasa_zendesk.emulator.testing import EmulatorProcess
from testkit.events_table import EventsTable
from testkit.processes import STARTUP_TIMEOUT, free_ports
from testkit.services import Postgres, Redis
from testkit.socket_user import SocketUser
from testkit.stack_users import STARTED

ENDPOINTS = REPO_ROOT / "endpoints.scaleout.yml"
CREDENTIALS = REPO_ROOT / "credentials.scaleout.yml"
WEBHOOK_PATH = "/webhooks/zendesk/webhook"
HANDOFF_REQUEST = "I want to talk to a human"


@dataclass
class ClusterConfig:
    model: Path
    run_dir: Path
    postgres: Postgres
    redis: Redis
    instances: int = 2
    credentials: Credentials = field(default_factory=Credentials)
    #: Rasa's HTTP API (`--enable-api`), protected by this token when set.
    api_token: Optional[str] = None
    emulator_args: Sequence[str] = ()
    extra_env: Mapping[str, str] = field(default_factory=dict)
    python: str = sys.executable
    startup_timeout: float = STARTUP_TIMEOUT
    #: Runs Rasa instead of `python -m rasa` (e.g. a profiling wrapper); Rasa's args follow.
    rasa_command: Sequence[str] = ()


class Cluster:
    """The processes of a scale-out deployment; `with Cluster(config) as cluster:` runs them."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        emulator_port, actions_port, *rasa_ports = free_ports(2 + config.instances)
        self.rasa_urls = [f"http://{HOST}:{port}" for port in rasa_ports]
        self.webhook_urls = [url + WEBHOOK_PATH for url in self.rasa_urls]
        self.action_server_url = f"http://{HOST}:{actions_port}"
        emulator = EmulatorProcess(
            self.webhook_urls,
            port=emulator_port,
            config=EmulatorConfig(
                host=HOST,
                app_id=config.credentials.app_id,
                key_id=config.credentials.key_id,
                key_secret=config.credentials.key_secret,
                webhook_secret=config.credentials.webhook_secret,
            ),
            extra_args=config.emulator_args,
            python=config.python,
        )
        self.emulator_url = emulator.base_url
        self.env = self._environment()
        self.emulator = self._process(
            "emulator", emulator.command(), f"{self.emulator_url}/_emulator/health"
        )
        self.actions = self._process(
            "actions",
            [config.python, "-m", "rasa", "run", "actions", "--actions", "actions"]
            + ["--port", str(actions_port)],
            f"{self.action_server_url}/health",
        )
        self.rasa = [
            self._process(f"rasa-{index}", self._rasa_argv(port), f"http://{HOST}:{port}/")
            for index, port in enumerate(rasa_ports)
        ]

    @property
    def processes(self) -> List[ManagedProcess]:
        return [self.emulator, self.actions, *self.rasa]

    def start(self) -> None:
        """Create the tracker store's tables, start everything, wait until each answers."""
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        create_tracker_tables(self.config.postgres)
        start_all(self.processes)

    def stop(self) -> None:
        stop_all(self.processes)

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _environment(self) -> Dict[str, str]:
        credentials = self.config.credentials
        env = dict(os.environ)
        env.update(self.config.postgres.env())
        env.update(self.config.redis.env())
        env.update(credentials.environment(f"{self.emulator_url}/sc"))
        env.update(QUIET_PROCESS_ENV)
        env["ACTION_SERVER_URL"] = f"{self.action_server_url}/webhook"
        env.update(self.config.extra_env)
        return env

    def _rasa_argv(self, port: int) -> List[str]:
        command = list(self.config.rasa_command) or [self.config.python, "-m", "rasa"]
        argv = [*command, "run", "--model", str(self.config.model)]
        argv += ["--endpoints", str(ENDPOINTS), "--credentials", str(CREDENTIALS)]
        argv += ["--interface", HOST, "--port", str(port)]
        if self.config.api_token is not None:
            argv += ["--enable-api", "--auth-token", self.config.api_token]
        return argv

    def _process(self, name: str, argv: List[str], ready_url: str) -> ManagedProcess:
        return ManagedProcess(
            name,
            argv,
            env=self.env,
            cwd=REPO_ROOT,
            log_path=self.config.run_dir / f"{name}.log",
            ready_url=ready_url,
            startup_timeout=self.config.startup_timeout,
        )


def create_tracker_tables(postgres: Postgres) -> None:
    """Rasa's SQL tracker store creates its tables at start-up; instances starting together
    would race on that, so the tables are created once, by Rasa's own code, beforehand."""
    postgres_tracker_store(postgres).engine.dispose()


def postgres_tracker_store(postgres: Postgres, domain: Optional[Any] = None) -> Any:
    """Rasa's SQL tracker store on this PostgreSQL server (creating its tables if needed)."""
    from rasa.core.tracker_store import SQLTrackerStore

    return SQLTrackerStore(
        domain=domain,
        dialect="postgresql",
        host=postgres.host,
        port=postgres.port,
        db=postgres.database,
        username=postgres.user,
        password=postgres.password,
    )


async def open_handoff(user: SocketUser, tracker: EventsTable, timeout: float = 120) -> str:
    """Ask the bot for a human; return the SunCo conversation id once the handoff is stored."""
    assert user.session_id is not None
    await user.send(HANDOFF_REQUEST)
    await user.wait_until(lambda got: any(STARTED in (m.text or "") for m in got), timeout)
    deadline = time.monotonic() + timeout
    while True:
        handoff = tracker.handoff(user.session_id)
        if handoff is not None and handoff.active:
            return handoff.conversation_id
        if time.monotonic() > deadline:
            raise AssertionError(f"no handoff of {user.session_id} in the tracker store")
        await asyncio.sleep(0.3)
