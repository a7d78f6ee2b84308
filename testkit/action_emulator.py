"""The emulator as the action tests see it (a real process, `EmulatorProcess`): its control
API and readers of the SunCo calls the actions made, each checked against the official spec;
and rasa-sdk's executor set up as `rasa run actions` sets it up for the example bot."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Tuple

import pytest
from rasa.shared.core.events import SlotSet
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.actions import (
    ActionZendeskEndHandoff,
    ActionZendeskHandoff,
    ActionZendeskLeaveMessage,
    ActionZendeskRelay,
    sunco_session,
)
from rasa_zendesk.constants import WRITE_ID_KEY
from rasa_zendesk.emulator.testing import EmulatorProcess
from rasa_zendesk.handoff import state
from rasa_zendesk.settings import SettingsError
from testkit import spec
from testkit.action_calls import emulator_env, responses, run_action, user

REPO = Path(__file__).resolve().parents[1]
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


def bot_package_executor() -> ActionExecutor:
    """An executor set up as `rasa run actions` sets it up for the example bot."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


@pytest.fixture(scope="session", name="emulator_process")
def emulator_process_fixture() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as process:
        yield process


@pytest.fixture(name="zendesk")
async def zendesk_fixture(
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


@pytest.fixture(name="executor")
def executor_fixture() -> ActionExecutor:
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


SENDER = "telegram-4242"


async def run(executor: ActionExecutor, action: str, turns: List[Any]) -> Dict[str, Any]:
    return await run_action(executor, action, SENDER, turns)


async def handed_off(zendesk: Zendesk, executor: ActionExecutor) -> Tuple[List[Any], str, int]:
    """A history after a successful escalation, the conversation id, the API calls so far."""
    turns = [*user("I need a human", "human_handoff", channel="telegram")]
    result = await run(executor, constants.ACTION_HANDOFF, turns)
    assert responses(result) == ["utter_zendesk_handoff_started"]
    turns += [SlotSet(e["name"], e["value"]) for e in result["events"]]
    handoff = state.active(turns)
    assert handoff is not None
    return turns, handoff.conversation_id, len(zendesk.api_calls())


def ended_with(result: Dict[str, Any]) -> Optional[str]:
    """The reason the action ended the handoff with, if it ended it."""
    records = _records(result)
    handoff = state.Handoff.from_slot(records[0]) if records else None
    if handoff is None or handoff.active:
        return None
    assert handoff.state == state.ENDED and handoff.ended_at is not None
    return handoff.end_reason


def _records(result: Dict[str, Any]) -> List[Any]:
    """The one record the action wrote: once, or also carried over into the fresh session
    that follows an end (the same record again)."""
    records = [e["value"] for e in result["events"] if e.get("name") == constants.SLOT_HANDOFF]
    assert all(record == records[0] for record in records), result["events"]
    return records


def followups(result: Dict[str, Any]) -> List[str]:
    return [e["name"] for e in result["events"] if e["event"] == "followup"]


def end_record(result: Dict[str, Any]) -> state.Handoff:
    [value, *_] = _records(result)
    handoff = state.Handoff.from_slot(value)
    assert handoff is not None
    return handoff


def applied_then_500(zendesk: Zendesk, path_contains: str, count: int = 1000) -> None:
    zendesk.fault(path_contains, status=500, count=count, method="POST", after=True)


def failed_posts(zendesk: Zendesk, path_end: str, since: int = 0) -> List[Dict[str, Any]]:
    """The POSTs (from API call `since` on) that were all applied and then answered 500."""
    calls = zendesk.api_calls()[since:]
    posts = [c for c in calls if c["method"] == "POST" and c["path"].endswith(path_end)]
    assert posts and all((c["status"], c["faultAfter"]) == (500, True) for c in posts), posts
    return posts


def assert_each_once(messages: List[Dict[str, Any]]) -> None:
    """No message of the plugin is in the ticket twice (each carries its own write id)."""
    write_ids = Counter(m["metadata"][WRITE_ID_KEY] for m in messages)
    assert all(count == 1 for count in write_ids.values()), write_ids
    contents = Counter(repr(m["content"]) for m in messages)
    assert all(count == 1 for count in contents.values()), contents


def handled_through(result: Dict[str, Any]) -> Optional[str]:
    """The last user message the relay dealt with, by the record it stored (it always does)."""
    [value] = [e["value"] for e in result["events"] if e.get("name") == constants.SLOT_HANDOFF]
    return value["handled_through"]


def answered(result: Dict[str, Any]) -> List[Any]:
    return [SlotSet(e["name"], e["value"]) for e in result["events"] if e["event"] == "slot"]
