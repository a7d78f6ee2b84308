"""The demo stack: the Zendesk emulator, `rasa run actions`, `rasa run` with the example bot and
the customer page, each a separate process on loopback, started and stopped together.

`scripts/demo.py` runs it on fixed ports; the end-to-end tests run the very same stack on free
ports with a tracker store of their own, so what the tests check is what the demo shows.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional, Sequence

import yaml

from demo.process import ManagedProcess, ProcessError, port_is_free, start_all, stop_all

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Ports:
    """Where each server listens (the demo's defaults; tests pass free ports)."""

    emulator: int = 8090
    actions: int = 5055
    rasa: int = 5005
    web: int = 8080

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Ports:
        """The defaults, overridden by DEMO_{EMULATOR,ACTIONS,RASA,WEB}_PORT."""
        env = os.environ if environ is None else environ
        values = {}
        for name in ("emulator", "actions", "rasa", "web"):
            variable = f"DEMO_{name.upper()}_PORT"
            raw = env.get(variable)
            if raw:
                if not raw.isdigit() or not 0 < int(raw) < 65536:
                    raise ValueError(f"{variable} must be a port number, not {raw!r}")
                values[name] = int(raw)
        return cls(**values)

    def as_dict(self) -> Dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Credentials:
    """The emulator's app and keys; the plugin gets the same values through ZENDESK_* vars."""

    subdomain: str = "demo"
    app_id: str = "app_demo"
    key_id: str = "key_demo"
    key_secret: str = field(default="secret_demo", repr=False)
    webhook_secret: str = field(default="whsec_demo", repr=False)
    #: Signs the ticket-status webhook (Zendesk's event webhook) the emulator sends.
    ticket_webhook_secret: str = field(default="tkwh_demo", repr=False)

    def environment(self, api_url: str) -> Dict[str, str]:
        """The ZENDESK_* variables the Rasa server and the action server read."""
        return {
            "ZENDESK_SUBDOMAIN": self.subdomain,
            "ZENDESK_APP_ID": self.app_id,
            "ZENDESK_KEY_ID": self.key_id,
            "ZENDESK_KEY_SECRET": self.key_secret,
            "ZENDESK_WEBHOOK_SECRET": self.webhook_secret,
            "ZENDESK_TICKET_WEBHOOK_SECRET": self.ticket_webhook_secret,
            "ZENDESK_API_URL": api_url,
        }


#: The example bot's own settings (a bot author sets them for both servers): after a handoff
#: the bot says what fits how it ended (`actions/after_handoff.py`); a billing question lands
#: with the billing team's group, the order number and customer id in two ticket fields.
BILLING_GROUP = "360000111"
ORDER_NUMBER_FIELD = "360001234567"
CUSTOMER_ID_FIELD = "360001234568"
EXAMPLE_BOT_ENV = {
    "ZENDESK_AFTER_HANDOFF_ACTION": "action_after_handoff",
    "ZENDESK_GROUP_BY_INTENT": f"billing_question={BILLING_GROUP}",
    "ZENDESK_TICKET_FIELDS": (
        f"order_number={ORDER_NUMBER_FIELD},zendesk_external_id={CUSTOMER_ID_FIELD}"
    ),
    # The demo's page and REST client stand in for a site that signed its user in and passes
    # their customer id in the message metadata; a real deployment lists only channels whose
    # metadata its own server sets (a browser's customData names whoever the page says).
    "ZENDESK_EXTERNAL_ID_CHANNELS": "socketio,rest",
}

#: For every process a stack starts: unbuffered logs, no telemetry, and no warnings that
#: Rasa 3.6's dependencies print on every start.
QUIET_PROCESS_ENV = {
    "PYTHONUNBUFFERED": "1",
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
}


@dataclass
class StackConfig:
    """Everything that differs between the demo and a test run."""

    model: Path
    run_dir: Path  # logs and the generated endpoints file
    ports: Ports = field(default_factory=Ports)
    credentials: Credentials = field(default_factory=Credentials)
    bot_dir: Path = REPO_ROOT
    tracker_db: Optional[Path] = None  # SQLite tracker store; None keeps the bot's own
    emulator_args: Sequence[str] = ()  # extra emulator CLI flags (e.g. webhook retry delays)
    web: bool = True
    extra_env: Mapping[str, str] = field(default_factory=dict)
    python: str = sys.executable
    startup_timeout: float = 180.0


class DemoStack:
    """The four processes, in start order; `with DemoStack(config) as stack:` runs them."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.host = HOST
        ports = config.ports
        self.emulator_url = f"http://{HOST}:{ports.emulator}"
        self.action_server_url = f"http://{HOST}:{ports.actions}"
        self.rasa_url = f"http://{HOST}:{ports.rasa}"
        self.web_url = f"http://{HOST}:{ports.web}"
        self.console_url = f"{self.emulator_url}/console"
        self.webhook_url = f"{self.rasa_url}/webhooks/zendesk/webhook"
        self.ticket_webhook_url = f"{self.rasa_url}/webhooks/zendesk/ticket_status"
        self.endpoints_path = config.run_dir / "endpoints.yml"
        self.env = self._environment()
        self.emulator = self._process("emulator", self._emulator_argv(), "/_emulator/health")
        self.actions = self._process("actions", self._actions_argv(), "/health", ports.actions)
        self.rasa = self._process("rasa", self._rasa_argv(), "/", ports.rasa)
        self.web: Optional[ManagedProcess] = (
            self._process("web", self._web_argv(), "/health", ports.web) if config.web else None
        )

    @property
    def processes(self) -> List[ManagedProcess]:
        """Start order: nothing needs another at start-up, so all start at once."""
        found = [self.emulator, self.actions, self.rasa, self.web]
        return [process for process in found if process is not None]

    def start(self) -> None:
        """Start every process and wait until each answers; on any failure stop them all."""
        busy = [
            f"{name} port {port}"
            for name, port in self.config.ports.as_dict().items()
            if (name != "web" or self.config.web) and not port_is_free(HOST, port)
        ]
        if busy:
            raise ProcessError(
                "already in use: " + ", ".join(busy) + " (stop what listens there, or choose "
                "other ports with DEMO_EMULATOR_PORT, DEMO_ACTIONS_PORT, DEMO_RASA_PORT, "
                "DEMO_WEB_PORT)"
            )
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        self.write_endpoints()
        start_all(self.processes)

    def stop(self) -> None:
        """Stop every process (reverse order), each with its whole process group."""
        stop_all(self.processes)

    def dead(self) -> Iterator[ManagedProcess]:
        """The processes that exited on their own."""
        return (process for process in self.processes if not process.running)

    def restart_rasa(self) -> None:
        """Start the Rasa server again (same port, same tracker store) and wait for it."""
        self.rasa.start()
        self.rasa.wait_ready()

    def write_endpoints(self) -> None:
        """The bot's endpoints.yml, pointed at this stack's action server and tracker store."""
        source = self.config.bot_dir / "endpoints.yml"
        endpoints = yaml.safe_load(source.read_text()) if source.is_file() else None
        endpoints = endpoints or {}
        endpoints["action_endpoint"] = {"url": f"{self.action_server_url}/webhook"}
        if self.config.tracker_db is not None:
            endpoints["tracker_store"] = {
                "type": "SQL",
                "dialect": "sqlite",
                "db": str(self.config.tracker_db.resolve()),
            }
        self.endpoints_path.parent.mkdir(parents=True, exist_ok=True)
        self.endpoints_path.write_text(yaml.safe_dump(endpoints, sort_keys=False))

    def _environment(self) -> Dict[str, str]:
        credentials = self.config.credentials
        env = dict(os.environ)
        env.update(credentials.environment(f"{self.emulator_url}/sc"))
        env.update(QUIET_PROCESS_ENV)
        if self.config.bot_dir == REPO_ROOT:
            env.update(EXAMPLE_BOT_ENV)
        if self.config.web:  # the action server fetches the files customers attach there
            env["ZENDESK_USER_FILE_HOSTS"] = f"{HOST}:{self.config.ports.web}"
        env.update(self.config.extra_env)
        return env

    def _process(
        self, name: str, argv: List[str], ready_path: str, port: Optional[int] = None
    ) -> ManagedProcess:
        port = self.config.ports.emulator if port is None else port
        return ManagedProcess(
            name,
            argv,
            env=self.env,
            cwd=self.config.bot_dir,
            log_path=self.config.run_dir / f"{name}.log",
            ready_url=f"http://{HOST}:{port}{ready_path}",
            startup_timeout=self.config.startup_timeout,
        )

    def _emulator_argv(self) -> List[str]:
        credentials = self.config.credentials
        return [
            self.config.python,
            "-m",
            "rasa_zendesk.emulator",
            "--host",
            HOST,
            "--port",
            str(self.config.ports.emulator),
            "--app-id",
            credentials.app_id,
            "--key-id",
            credentials.key_id,
            "--key-secret",
            credentials.key_secret,
            "--webhook-url",
            self.webhook_url,
            "--webhook-secret",
            credentials.webhook_secret,
            "--ticket-webhook-url",
            self.ticket_webhook_url,
            "--ticket-webhook-secret",
            credentials.ticket_webhook_secret,
            *self.config.emulator_args,
        ]

    def _actions_argv(self) -> List[str]:
        return [
            self.config.python,
            "-m",
            "rasa",
            "run",
            "actions",
            "--actions",
            "actions",
            "--port",
            str(self.config.ports.actions),
        ]

    def _rasa_argv(self) -> List[str]:
        web = self.config.ports.web
        return [
            self.config.python,
            "-m",
            "rasa",
            "run",
            "--model",
            str(self.config.model),
            "--endpoints",
            str(self.endpoints_path),
            "--credentials",
            str(self.config.bot_dir / "credentials.yml"),
            "--interface",
            HOST,
            "--port",
            str(self.config.ports.rasa),
            # The customer page's web chat connects from the page's origin.
            "--cors",
            f"http://{HOST}:{web}",
            f"http://localhost:{web}",
        ]

    def _web_argv(self) -> List[str]:
        return [
            self.config.python,
            "-m",
            "demo.web_server",
            "--host",
            HOST,
            "--port",
            str(self.config.ports.web),
            "--rasa-port",
            str(self.config.ports.rasa),
        ]

    def __enter__(self) -> DemoStack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
