"""The actions run by rasa-sdk's own ActionExecutor against the running emulator.

The emulator is a real process on a free port (`EmulatorProcess`); the actions find it through
the `ZENDESK_*` environment exactly as in an action server; the executor registers the example
bot's `actions` package, as `rasa run actions` does.
"""

from __future__ import annotations

import gc
from typing import Any, AsyncIterator, Callable, Iterator, List

import pytest
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk.actions import (
    ActionZendeskEndHandoff,
    ActionZendeskHandoff,
    ActionZendeskLeaveMessage,
    ActionZendeskRelay,
    sunco_session,
)
from rasa_zendesk.emulator.testing import EmulatorProcess
from testkit.action_calls import emulator_env
from testkit.action_emulator import Zendesk


@pytest.fixture(scope="session")
def emulator_process() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as process:
        yield process


@pytest.fixture
async def zendesk(
    emulator_process: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Zendesk]:
    """A clean emulator and the action server's environment pointing at it."""
    emulator_process.control("POST", "/reset")
    for name, value in emulator_env(emulator_process).items():
        monkeypatch.setenv(name, value)
    yield Zendesk(emulator_process)
    await sunco_session.close_client()


@pytest.fixture
def executor() -> ActionExecutor:
    """rasa-sdk's executor with the three actions (the `actions` package wiring is tested in
    test_registration.py; registering explicitly keeps other tests' subclasses out)."""
    executor = ActionExecutor()
    for action in (
        ActionZendeskHandoff,
        ActionZendeskRelay,
        ActionZendeskEndHandoff,
        ActionZendeskLeaveMessage,
    ):
        executor.register_action(action)
    return executor


@pytest.fixture
def configured() -> Iterator[Callable[..., type]]:
    """Make a configuring subclass of an action, as a bot author would (class attributes).

    rasa-sdk registers every imported Action subclass with `register_package`, so the
    subclasses are collected after the test: they must not leak into the registration tests.
    """
    made: List[type] = []

    def make(base: type, **attributes: Any) -> type:
        made.append(type(f"Configured{base.__name__}", (base,), attributes))
        return made[-1]

    yield make
    made.clear()
    gc.collect()
