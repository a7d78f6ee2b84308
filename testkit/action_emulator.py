"""The emulator as the action tests see it (a real process, `EmulatorProcess`): its control
API and readers of the SunCo calls the actions made, each checked against the official spec;
and rasa-sdk's executor set up as `rasa run actions` sets it up for the example bot."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa_sdk.executor import ActionExecutor

from rasa_zendesk.emulator.testing import EmulatorProcess
from testkit import spec

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


def bot_package_executor() -> ActionExecutor:
    """An executor set up as `rasa run actions` sets it up for the example bot."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor
