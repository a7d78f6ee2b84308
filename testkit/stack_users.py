"""What a test uses of a running stack (`demo.stack.DemoStack`): the emulator's control API,
a web chat user on socket.io, and the SQLite tracker store's events."""

from __future__ import annotations

import contextlib
import uuid
from typing import AsyncIterator

from demo.stack import DemoStack
from testkit.emulator_control import EmulatorControl
from testkit.events_table import EventsTable
from testkit.socket_user import SocketUser


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
