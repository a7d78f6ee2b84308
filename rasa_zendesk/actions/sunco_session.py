"""The action server's SunCo clients, one per Zendesk connector, built lazily from the environment.

An action server handles many conversations at once; those of a connector share one
`SunCoClient` (one httpx connection pool). A client is built on first use, inside the running
event loop, because an httpx pool belongs to the loop that opened its connections: if the loop
changes (a test suite runs one loop per test), or the environment names another Zendesk app, a
fresh client is built.

Settings come from the environment, read by `rasa_zendesk.settings` (`Connectors`: the same
`ZENDESK_*` variables the Rasa server reads). Two optional variables bound how long the user
waits for a failing SunCo: `ZENDESK_REQUEST_TIMEOUT` (seconds per HTTP attempt, default 10) and
`ZENDESK_REQUEST_DEADLINE` (seconds for one call including its retries, default 20).
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Mapping, Optional, Set, Tuple

from rasa_zendesk.settings import ClientSettings, Connectors, Sources, ZendeskSettings
from rasa_zendesk.sunco.client import SunCoClient

_Key = Tuple[ZendeskSettings, float, float]
#: The loop the clients belong to, and one client per connector's settings and options.
_loop: Optional[asyncio.AbstractEventLoop] = None
_clients: Dict[_Key, SunCoClient] = {}
_closing: Set[asyncio.Task[None]] = set()  # held until done, so they are not collected


def client_options(environ: Optional[Mapping[str, str]] = None) -> Dict[str, float]:
    """Timeout and deadline for the client, from the environment (clear error if malformed)."""
    client = ClientSettings.read(Sources(None, environ, where="the environment"))
    return {"timeout": client.request_timeout, "deadline": client.request_deadline}


def connectors() -> Connectors:
    """The bot's Zendesk connectors as the environment defines them now."""
    return Connectors.read(Sources(where="the environment"))


def get_client(connector: Optional[str] = None) -> SunCoClient:
    """The shared client of a connector (None: the default one), for the running loop.

    Raises `SettingsError` when a required `ZENDESK_*` variable is missing (it names the
    variable, never a value), `UnknownConnector` for a name the settings do not define, and
    `RuntimeError` when called outside an event loop.
    """
    return client_for(connectors().get(connector))


def client_for(settings: ZendeskSettings) -> SunCoClient:
    """The shared client for these connector settings and the running event loop."""
    global _loop
    loop = asyncio.get_running_loop()
    if _loop is not loop:
        _clients.clear()  # another loop's pools cannot be used (nor closed) from this one
        _loop = loop
    options = client_options()
    key: _Key = (settings, options["timeout"], options["deadline"])
    client = _clients.get(key)
    if client is not None:
        return client
    for stale in [old for old in _clients if old[0].name == settings.name]:
        # Same connector, other settings: close the old pool once its calls are done.
        task = loop.create_task(_clients.pop(stale).aclose())
        _closing.add(task)
        task.add_done_callback(_closing.discard)
    client = _clients[key] = SunCoClient.from_settings(settings, **options)
    return client


__all__: Tuple[Any, ...] = (
    "get_client",
    "client_for",
    "connectors",
    "client_options",
)
