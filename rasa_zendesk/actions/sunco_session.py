"""The action server's one SunCo client, built lazily from the environment.

An action server handles many conversations at once; they share one `SunCoClient` (one httpx
connection pool). The client is built on first use, inside the running event loop, because an
httpx pool belongs to the loop that opened its connections: if the loop changes (a test suite
runs one loop per test), or the environment names another Zendesk app, a fresh client is built.

Settings come from `ZendeskSettings.from_env()` (the same `ZENDESK_*` variables the Rasa server
reads). Two optional variables bound how long the user waits for a failing SunCo:
`ZENDESK_REQUEST_TIMEOUT` (seconds per HTTP attempt, default 10) and `ZENDESK_REQUEST_DEADLINE`
(seconds for one call including its retries, default 20).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Dict, Mapping, Optional, Set, Tuple

from rasa_zendesk.settings import SettingsError, ZendeskSettings
from rasa_zendesk.sunco.client import SunCoClient

TIMEOUT_ENV = "ZENDESK_REQUEST_TIMEOUT"
DEADLINE_ENV = "ZENDESK_REQUEST_DEADLINE"
DEFAULT_TIMEOUT = 10.0
DEFAULT_DEADLINE = 20.0

_Key = Tuple[int, ZendeskSettings, float, float]
_current: Optional[Tuple[_Key, asyncio.AbstractEventLoop, SunCoClient]] = None
_closing: Set[asyncio.Task[None]] = set()  # held until done, so they are not collected


def client_options(environ: Optional[Mapping[str, str]] = None) -> Dict[str, float]:
    """Timeout and deadline for the client, from the environment (clear error if malformed)."""
    env = os.environ if environ is None else environ
    return {
        "timeout": _seconds(env, TIMEOUT_ENV, DEFAULT_TIMEOUT),
        "deadline": _seconds(env, DEADLINE_ENV, DEFAULT_DEADLINE),
    }


def get_client() -> SunCoClient:
    """The shared client for the running event loop and the current environment.

    Raises `SettingsError` when a required `ZENDESK_*` variable is missing (it names the
    variable, never a value) and `RuntimeError` when called outside an event loop.
    """
    global _current
    loop = asyncio.get_running_loop()
    settings = ZendeskSettings.from_env()
    options = client_options()
    key: _Key = (id(loop), settings, options["timeout"], options["deadline"])
    if _current is not None and _current[0] == key and _current[1] is loop:
        return _current[2]
    previous = _current
    client = SunCoClient.from_settings(settings, **options)
    _current = (key, loop, client)
    if previous is not None and previous[1] is loop:
        # Same loop, other settings: close the old pool once its calls are done.
        task = loop.create_task(previous[2].aclose())
        _closing.add(task)
        task.add_done_callback(_closing.discard)
    return client


async def close_client() -> None:
    """Close the shared client (action server shutdown, end of a test)."""
    global _current
    current, _current = _current, None
    if current is not None and current[1] is asyncio.get_running_loop():
        await current[2].aclose()


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise SettingsError(f"{name} must be a positive number of seconds")
    return value


__all__: Tuple[Any, ...] = ("get_client", "close_client", "client_options")
