"""Run the emulator: in-process for tests (`run_emulator`), or as a process (`main`)."""

import asyncio
import logging
import signal
import socket
import sys
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any, AsyncIterator, List, Optional, Sequence

from aiohttp import web

from .app import create_app
from .config import (
    LOCAL_RASA_WEBHOOK,
    EmulatorConfig,
    environment_lines,
    parse_config,
    url_host,
    write_env_file,
)
from .engine import Emulator
from .registry import APPS, AppRegistry

logger = logging.getLogger("rasa_zendesk.emulator")


class EmulatorServer:
    """An emulator listening on a real port. `port=0` picks a free one."""

    def __init__(self, config: Optional[EmulatorConfig] = None) -> None:
        self.config = config or EmulatorConfig()
        self.app = create_app(self.config)
        self._runner: Optional[web.AppRunner] = None
        self.port: Optional[int] = None

    @property
    def emulator(self) -> Emulator:
        """The default app's in-memory state, for assertions in tests."""
        return self.apps.default

    @property
    def apps(self) -> AppRegistry:
        """Every app the emulator serves (`apps.get(app_id)`)."""
        return self.app[APPS]

    @property
    def base_url(self) -> str:
        return f"http://{url_host(self.config.host)}:{self.port}"

    @property
    def api_url(self) -> str:
        """What the SunCo client takes as its base (`.../sc`)."""
        return self.base_url + "/sc"

    @property
    def console_url(self) -> str:
        return self.base_url + "/console"

    async def start(self) -> str:
        """Start listening; returns the base URL."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock, shutdown_timeout=1.0).start()
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@asynccontextmanager
async def run_emulator(
    config: Optional[EmulatorConfig] = None, **overrides: Any
) -> AsyncIterator[EmulatorServer]:
    """Run an emulator for the duration of the block, on a free port unless told otherwise.

    `async with run_emulator(webhook_urls=[...]) as server: server.api_url ...`
    """
    base = config or EmulatorConfig(port=0)
    server = EmulatorServer(replace(base, **overrides))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def _targets(urls: Sequence[str], how: str) -> str:
    return ", ".join(urls) if urls else f"none yet ({how})"


def banner(server: EmulatorServer) -> List[str]:
    """What the CLI prints at start: never a secret of yours (the demo defaults are public)."""
    config = server.config
    emulator = server.emulator
    lines = [
        f"Zendesk Conversations emulator for app {config.app_id!r} (key id {config.key_id!r})",
        f"  API base URL:  {server.api_url}",
        f"  Agent console: {server.console_url}",
        f"  Control API:   {server.base_url}/_emulator/state",
        f"  Support API:   {server.base_url}/api/v2 (business hours, agents online; "
        "Bearer --support-oauth-token)",
        f"  Webhooks to:   {_targets(emulator.sender.urls, 'POST /_emulator/webhook-config')}",
        "  Ticket webhooks to: "
        + _targets(emulator.ticket_sender.urls, "POST /_emulator/ticket-webhook-config"),
    ]
    for app in list(server.apps)[1:]:
        lines.append(
            f"  Also app {app.app_id!r} (key id {app.config.key_id!r}): webhooks to "
            + _targets(app.sender.urls, f"POST /_emulator/webhook-config?app={app.app_id}")
        )
    if config.env_file is not None:
        lines.append(
            f"Wrote these settings to {config.env_file}: `rasa run`, `rasa run actions` and "
            "`rasa-zendesk doctor` read zendesk.env from the folder they start in"
        )
    else:
        lines.append("For `rasa run` and `rasa run actions`, paste into the shell of each:")
    lines += [f"  {line}" for line in environment_lines(config, server.api_url)]
    if emulator.sender.urls and not emulator.ticket_sender.urls:
        lines.append(
            "No ticket webhook, so Solve and Close in the console do not give the conversation "
            "back to the bot (only Release does): give --ticket-webhook-url .../ticket_status"
        )
    if not emulator.sender.urls:
        lines.append(
            "No webhook URL yet, so agent messages reach no bot: for `rasa run` on its "
            f"default port, start with --webhook-url {LOCAL_RASA_WEBHOOK}"
        )
    return lines


async def serve(config: EmulatorConfig) -> None:
    """Serve until SIGINT or SIGTERM."""
    server = EmulatorServer(config)
    await server.start()
    if config.env_file is not None:
        write_env_file(config.env_file, config, server.api_url)
    for line in banner(server):
        print(line, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not on this platform
            pass
    try:
        await stop.wait()
    finally:
        print("Stopping the emulator.", flush=True)
        await server.stop()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m rasa_zendesk.emulator [options]`."""
    config, quiet = parse_config(argv)
    return run(config, quiet)


def run(config: EmulatorConfig, quiet: bool = False) -> int:
    logging.basicConfig(
        stream=sys.stdout,
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(config))
    except OSError as exc:
        where = (
            f"write {exc.filename}"
            if exc.filename is not None
            else f"listen on {config.host}:{config.port}"
        )
        print(f"error: cannot {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
