"""Fixtures of the channel tests; the Rasa server, web chat and webhooks are in `harness`."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest

from tests.channel.harness import (
    Handoff,
    RasaServer,
    new_id,
    open_web_chat,
    start_handoff,
    start_rasa,
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tracker.db"


@pytest.fixture(params=[None, 0], ids=["cached", "uncached"])
async def rasa(db_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RasaServer]:
    """Every channel test runs with the SQL tracker cache (the default) and without it (the
    path of every other tracker store: Rasa's `retrieve` and `save`)."""
    server = await start_rasa(db_path, tracker_cache_size=request.param)
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
