"""The actions run by rasa-sdk's own ActionExecutor against the running emulator.

The emulator is a real process on a free port (`EmulatorProcess`); the actions find it through
the `ZENDESK_*` environment exactly as in an action server; the executor registers the example
bot's `actions` package, as `rasa run actions` does.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional

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
from rasa_zendesk.settings import SettingsError
from testkit import spec
from testkit.action_calls import emulator_env

REPO = Path(__file__).resolve().parents[2]
API_PREFIX = "/sc/v2/apps/"


class Zendesk:
    """The emulator as the tests see it: control API plus readers of what the actions did."""

    def __init__(self, process: EmulatorProcess) -> None:
        self.process = process

    def control(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        return self.process.control(method, path, body)

    def fault(self, path_contains: str, status: int = 500, count: int = 1000, **extra: Any) -> None:
        body = {"pathContains": path_contains, "count": count, **extra}
        if not extra.get("hang"):
            body["status"] = status
        self.control("POST", "/faults", body)

    def api_calls(self) -> List[Dict[str, Any]]:
        """SunCo API calls received, oldest first, each checked against the official spec."""
        calls = [
            entry
            for entry in self.control("GET", "/requests")["requests"]
            if entry["path"].startswith(API_PREFIX)
        ]
        for call in calls:
            spec.validate_request(call["method"], call["path"], call["body"])
        return calls

    def operations(self) -> List[str]:
        """The calls as `METHOD /last/path/parts` (app id and conversation id left out)."""
        return [_operation(call) for call in self.api_calls()]

    def conversations(self) -> List[Dict[str, Any]]:
        return self.control("GET", "/state")["conversations"]

    def conversation(self, conversation_id: str) -> Dict[str, Any]:
        found = [c for c in self.conversations() if c["id"] == conversation_id]
        assert found, f"no conversation {conversation_id} in the emulator"
        return found[0]


def _operation(call: Dict[str, Any]) -> str:
    parts = call["path"][len(API_PREFIX) :].split("/")[1:]  # drop the app id
    if len(parts) >= 3 and parts[0] == "conversations":
        parts[1] = "{id}"
    return f"{call['method']} /" + "/".join(parts)


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
    # The action's client, closed; a test that took a setting away has none.
    with contextlib.suppress(SettingsError):
        await sunco_session.get_client().aclose()


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


def bot_package_executor() -> ActionExecutor:
    """An executor set up as `rasa run actions` sets it up for the example bot."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor
