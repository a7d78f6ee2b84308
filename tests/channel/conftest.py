"""Fixtures of the channel tests; the Rasa server, web chat and webhooks are in `harness`."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from rasa_zendesk import clock
from testkit.clock_file import ClockFile
from testkit.services import Redis, redis_server
from tests.channel.harness import (
    Handoff,
    RasaServer,
    new_id,
    open_web_chat,
    redis_tracker_store,
    start_handoff,
    start_rasa,
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tracker.db"


@pytest.fixture
def moved_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClockFile:
    """The plugin's clock, in a file of the test's own (`ZENDESK_CLOCK_FILE`)."""
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(path))
    return ClockFile(path)


#: The tracker stores a test with a Rasa server runs on: SQLite with the channel's tracker cache
#: (the default) and without it (the path of stores without a cache: Rasa's `retrieve` and
#: `save`), and Redis with the cache. A module that needs SQL sets `TRACKER_STORES`.
TRACKER_STORES = ("sql", "sql-uncached", "redis")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "rasa" in metafunc.fixturenames:
        kinds = getattr(metafunc.module, "TRACKER_STORES", TRACKER_STORES)
        metafunc.parametrize("rasa", kinds, indirect=True)


@pytest.fixture(scope="session")
def redis_service() -> Iterator[Redis]:
    with redis_server() as server:
        yield server


@pytest.fixture
async def rasa(db_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RasaServer]:
    kind = request.param
    store = None
    if kind == "redis":
        store = redis_tracker_store(request.getfixturevalue("redis_service").port)
    cache_size = 0 if kind == "sql-uncached" else None
    server = await start_rasa(db_path, tracker_cache_size=cache_size, tracker_store=store)
    yield server
    await server.stop()


@pytest.fixture
async def handoff(rasa: RasaServer) -> AsyncIterator[Handoff]:
    sender_id = "webchat-" + new_id()
    conversation_id = "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id)
    chat = await open_web_chat(rasa.url, sender_id)
    yield Handoff(sender_id, conversation_id, chat)
    await chat.client.disconnect()
