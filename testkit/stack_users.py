"""What a test uses of a running stack (`demo.stack.DemoStack`): the emulator's control API,
a web chat user on socket.io, and the SQLite tracker store's events; as context managers and
as the fixtures of `tests/e2e/` (a module that starts its own stack names it `stack`)."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import AsyncIterator

import pytest

from demo.stack import DemoStack
from testkit.clock_file import ClockFile
from testkit.emulator_control import EmulatorControl
from testkit.events_table import EventsTable
from testkit.socket_user import SocketUser

#: What the example bot says (utter_greet, utter_zendesk_handoff_started, ..._ended).
GREETING = "Acme support bot"
STARTED = "connecting you with a human agent"
ENDED = "back with the bot"
#: The example bot's CSAT form asks this after an agent solved the ticket.
RATE = "from 1 (poor) to 5 (excellent)"
COMMENT = "Anything you'd like to tell us"
THANKS = "Thank you for your feedback"


@contextlib.asynccontextmanager
async def emulator_of(stack: DemoStack) -> AsyncIterator[EmulatorControl]:
    control = EmulatorControl(stack.emulator_url)
    try:
        yield control
    finally:
        await control.close()


@contextlib.asynccontextmanager
async def web_chat_user(stack: DemoStack) -> AsyncIterator[SocketUser]:
    """A new web chat user with a session of their own, connected."""
    chat = SocketUser(stack.rasa_url, uuid.uuid4().hex)
    await chat.connect()
    try:
        yield chat
    finally:
        await chat.close()


def tracker_of(stack: DemoStack) -> EventsTable:
    assert stack.config.tracker_db is not None, "the stack keeps the bot's own tracker store"
    return EventsTable.sqlite(stack.config.tracker_db)


@pytest.fixture
def stack(e2e_stack: DemoStack) -> DemoStack:
    """The stack a module's tests use: the session's shared one unless the module starts its
    own (a module-scoped fixture of the same name)."""
    return e2e_stack


@pytest.fixture
async def user(stack: DemoStack) -> AsyncIterator[SocketUser]:
    async with web_chat_user(stack) as chat:
        yield chat


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin's clock (`ZENDESK_CLOCK_FILE`) for a module's own stack to read."""
    return tmp_path_factory.mktemp("clock") / "offset"


@pytest.fixture
def clock(clock_file: Path) -> ClockFile:
    return ClockFile(clock_file)


@pytest.fixture
def tracker(stack: DemoStack) -> EventsTable:
    return tracker_of(stack)


@pytest.fixture
async def emulator(stack: DemoStack) -> AsyncIterator[EmulatorControl]:
    async with emulator_of(stack) as control:
        yield control
