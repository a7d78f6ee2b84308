"""Run the emulator as a separate process, for end-to-end tests (and bot authors' own tests).

with EmulatorProcess(webhook_urls=["http://127.0.0.1:5005/webhooks/zendesk/webhook"]) as emu:
    settings = {"api_url": emu.api_url, "app_id": emu.app_id, ...}
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import replace
from typing import Any, Dict, List, Mapping, Optional, Sequence

from pydantic import SecretStr

from .apps import AppBody
from .config import EmulatorConfig, url_host


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def _apps_file(apps: Sequence[AppBody]) -> str:
    """The config's extra apps as an `--apps-file` (secrets included: it is the process's
    own, readable by this user only)."""
    data = [
        {
            key: value.get_secret_value() if isinstance(value, SecretStr) else value
            for key, value in app.dict(exclude_none=True).items()
        }
        for app in apps
    ]
    handle, path = tempfile.mkstemp(prefix="emulator-apps-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(data, file)
    return path


class EmulatorProcess:
    """`python -m rasa_zendesk.emulator` on a free port, ready when `start()` returns."""

    def __init__(
        self,
        webhook_urls: Sequence[str] = (),
        *,
        port: Optional[int] = None,
        config: Optional[EmulatorConfig] = None,
        extra_args: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        python: str = sys.executable,
    ) -> None:
        base = config or EmulatorConfig()
        self.config = replace(base, port=port or free_port(base.host))
        self.webhook_urls = list(webhook_urls) or list(self.config.webhook_urls)
        self.extra_args = list(extra_args)
        self.env = dict(env) if env is not None else None
        self.python = python
        self.process: Optional[subprocess.Popen] = None
        self._log = tempfile.NamedTemporaryFile(prefix="emulator-", suffix=".log", delete=False)
        self._final_output: Optional[str] = None
        self._apps_file = _apps_file(self.config.apps) if self.config.apps else None

    @property
    def base_url(self) -> str:
        return f"http://{url_host(self.config.host)}:{self.config.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/sc"

    @property
    def app_id(self) -> str:
        return self.config.app_id

    def command(self) -> List[str]:
        c = self.config
        args = [self.python, "-m", "rasa_zendesk.emulator", "--host", c.host]
        args += ["--port", str(c.port), "--app-id", c.app_id, "--key-id", c.key_id]
        args += ["--key-secret", c.key_secret, "--webhook-secret", c.webhook_secret]
        args += ["--webhook-retry-delays", ",".join(f"{d:g}" for d in c.webhook_retry_delays)]
        args += ["--webhook-timeout", f"{c.webhook_timeout:g}"]
        args += ["--bot-integration-name", c.bot_integration_name, "--agent-name", c.agent_name]
        for url in self.webhook_urls:
            args += ["--webhook-url", url]
        args += ["--account-id", str(c.account_id)]
        args += ["--ticket-webhook-secret", c.ticket_webhook_secret]
        args += ["--ticket-webhook-api-key-header", c.ticket_webhook_api_key_header]
        args += ["--ticket-webhook-timeout", f"{c.ticket_webhook_timeout:g}"]
        args += ["--support-oauth-token", c.support_oauth_token]
        if c.ticket_webhook_api_key:
            args += ["--ticket-webhook-api-key", c.ticket_webhook_api_key]
        for url in c.ticket_webhook_urls:
            args += ["--ticket-webhook-url", url]
        if not c.ticket_webhook_urls:  # as configured: none, not the route next to the webhook
            args.append("--no-ticket-webhook")
        if self._apps_file is not None:
            args += ["--apps-file", self._apps_file]
        return args + self.extra_args

    def start(self, timeout: float = 20.0) -> "EmulatorProcess":
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.process = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT, env=env
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited at start:\n{self.output()}")
            try:
                self.control("GET", "/health", timeout=1)
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the emulator did not answer within {timeout} s:\n{self.output()}")

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
        if self.process is not None:
            stop_process(self.process, timeout)
        if self._final_output is None:
            self._final_output = self.output()
            self._log.close()
            os.unlink(self._log.name)
            if self._apps_file is not None:
                os.unlink(self._apps_file)

    def output(self) -> str:
        """Everything the process printed (kept after `stop()`)."""
        if self._final_output is not None:
            return self._final_output
        self._log.flush()
        with open(self._log.name, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def control(
        self, method: str, path: str, body: Optional[Dict[str, Any]] = None, timeout: float = 10
    ) -> Any:
        """Call the control API (`/_emulator` + path) and return its JSON."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + "/_emulator" + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def __enter__(self) -> "EmulatorProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
