"""The channel tests' fixtures: a Rasa server on each tracker store (`rasa`, parametrized by
`parametrize_rasa`), a user in a handoff with their web chat open, the tracker database's path.
A conftest.py imports them where a folder's tests use them."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from rasa_zendesk import clock
from testkit.channel_harness import (
    Handoff,
    RasaServer,
    new_id,
    open_web_chat,
    redis_tracker_store,
    start_handoff,
    start_rasa,
)
from testkit.clock_file import ClockFile
from testkit.services import Redis, redis_server


@pytest.fixture(name="db_path")
def db_path_fixture(tmp_path: Path) -> Path:
    return tmp_path / "tracker.db"


#: The tracker stores a test with a Rasa server runs on: SQLite with the channel's tracker cache
#: (the default) and without it (the path of stores without a cache: Rasa's `retrieve` and
#: `save`), and Redis with the cache. A test that needs SQL says which with
#: `@pytest.mark.tracker_stores("sql", ...)`.
TRACKER_STORES = ("sql", "sql-uncached", "redis")


def parametrize_rasa(metafunc: pytest.Metafunc) -> None:
    """`pytest_generate_tests` of a folder whose tests use the `rasa` fixture below."""
    if "rasa" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("tracker_stores")
        kinds = marker.args if marker else TRACKER_STORES
        metafunc.parametrize("rasa", kinds, indirect=True)


@pytest.fixture(scope="session", name="redis_service")
def redis_service_fixture() -> Iterator[Redis]:
    with redis_server() as server:
        yield server


@pytest.fixture(name="rasa")
async def rasa_fixture(db_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RasaServer]:
    kind = request.param
    store = None
    if kind == "redis":
        store = redis_tracker_store(request.getfixturevalue("redis_service").port)
    cache_size = 0 if kind == "sql-uncached" else None
    server = await start_rasa(db_path, tracker_cache_size=cache_size, tracker_store=store)
    yield server
    await server.stop()


@pytest.fixture(name="handoff")
async def handoff_fixture(rasa: RasaServer) -> AsyncIterator[Handoff]:
    sender_id = "webchat-" + new_id()
    conversation_id = "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id)
    chat = await open_web_chat(rasa.url, sender_id)
    yield Handoff(sender_id, conversation_id, chat)
    await chat.client.disconnect()


@pytest.fixture(name="moved_clock")
def moved_clock_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClockFile:
    """The plugin's clock, in a file of the test's own (`ZENDESK_CLOCK_FILE`)."""
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(path))
    return ClockFile(path)
