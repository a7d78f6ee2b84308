"""Several `rasa run` instances of the example bot behind one Zendesk webhook, as separate
processes on loopback: the emulator (delivering webhooks round-robin to every instance), one
`rasa run actions`, and N Rasa instances configured by `endpoints.scaleout.yml` and
`credentials.scaleout.yml` (PostgreSQL tracker store, Redis lock store, socket.io over Redis).

The scale-out tests and the benchmarks run it; PostgreSQL and Redis come from `services`.
Logs stay under `artifacts/e2e/<name>/`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from demo.process import ManagedProcess
from demo.stack import HOST, REPO_ROOT, Credentials
from rasa_zendesk.emulator.config import EmulatorConfig
from rasa_zendesk.emulator.testing import EmulatorProcess
from tests.support.processes import STARTUP_TIMEOUT, free_ports
from tests.support.services import Postgres, Redis

ENDPOINTS = REPO_ROOT / "endpoints.scaleout.yml"
CREDENTIALS = REPO_ROOT / "credentials.scaleout.yml"
WEBHOOK_PATH = "/webhooks/zendesk/webhook"


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
        try:
            for process in self.processes:
                process.start()
            for process in self.processes:
                process.wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

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
        env.update(
            {
                "ACTION_SERVER_URL": f"{self.action_server_url}/webhook",
                "ZENDESK_SUBDOMAIN": credentials.subdomain,
                "ZENDESK_APP_ID": credentials.app_id,
                "ZENDESK_KEY_ID": credentials.key_id,
                "ZENDESK_KEY_SECRET": credentials.key_secret,
                "ZENDESK_WEBHOOK_SECRET": credentials.webhook_secret,
                "ZENDESK_API_URL": f"{self.emulator_url}/sc",
                "PYTHONUNBUFFERED": "1",
                "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "3",
            }
        )
        env.update(self.config.extra_env)
        return env

    def _rasa_argv(self, port: int) -> List[str]:
        argv = [self.config.python, "-m", "rasa", "run", "--model", str(self.config.model)]
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
    from rasa.core.tracker_store import SQLTrackerStore

    store = SQLTrackerStore(
        dialect="postgresql",
        host=postgres.host,
        port=postgres.port,
        db=postgres.database,
        username=postgres.user,
        password=postgres.password,
    )
    store.engine.dispose()
