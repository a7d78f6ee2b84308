"""What the tests of users' files share: sample files, and the relay of a user's files through
rasa-sdk's executor to the emulator process (what it posted and uploaded, the reasons a file
was refused)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest
from rasa.shared.core.events import SlotSet
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.emulator.samples import samples
from testkit import spec
from testkit.action_calls import responses, run_action, user
from testkit.action_emulator import Zendesk

_, PNG = samples()["receipt.png"]
_, PDF = samples()["invoice.pdf"]


SENDER = "user-files-1"
#: The action server's settings of users' files (`rasa_zendesk.settings.UserFileSettings`).
HOSTS_ENV = "ZENDESK_USER_FILE_HOSTS"
PUBLIC_URL_ENV = "ZENDESK_PUBLIC_URL"


async def handed_off(executor: ActionExecutor, channel: str = "socketio") -> List[Any]:
    turns = [*user("I need a human", "human_handoff", channel=channel)]
    result = await run_action(executor, constants.ACTION_HANDOFF, SENDER, turns)
    assert responses(result) == ["utter_zendesk_handoff_started"]
    return turns + [SlotSet(e["name"], e["value"]) for e in result["events"]]


def relayed_since(zendesk: Zendesk, turns: List[Any]) -> List[Dict[str, Any]]:
    """The messages the relay posted for these turns (our write ids are `rasa:<message
    id>:<part>`), each checked with the spec."""
    ids = {getattr(turn, "message_id", None) for turn in turns} - {None}
    (conversation,) = zendesk.conversations()
    found = [m for m in conversation["messages"] if _relayed_message_id(m) in ids]
    for message in found:
        assert message["author"]["type"] == "user"
        spec.validate_schema("message", message)
    return found


def _relayed_message_id(message: Dict[str, Any]) -> Optional[str]:
    parts = str((message.get("metadata") or {}).get(constants.WRITE_ID_KEY)).split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "rasa" else None


async def relay(executor: ActionExecutor, turns: List[Any]) -> Dict[str, Any]:
    result = await run_action(executor, constants.ACTION_RELAY, SENDER, turns)
    [record] = [e["value"] for e in result["events"] if e.get("name") == constants.SLOT_HANDOFF]
    assert record["handled_through"] == turns[-1].message_id  # dealt with, never left behind
    return result


def uploads(zendesk: Zendesk) -> List[Dict[str, Any]]:
    """The attachment uploads the emulator received: multipart, public, for the conversation."""
    found = [
        call
        for call in zendesk.control("GET", "/requests")["requests"]
        if call["path"].endswith("/attachments")
    ]
    for call in found:
        assert call["method"] == "POST" and call["body"].startswith("<multipart/form-data")
        assert call["query"]["access"] == "public" and call["query"]["for"] == "message"
        assert call["query"]["conversationId"] == zendesk.conversations()[0]["id"]
    return found


def stored(zendesk: Zendesk, media_url: str) -> bytes:
    """The bytes SunCo serves at an attachment's address."""
    response = httpx.get(media_url)
    assert response.status_code == 200
    return response.content


def sent_reasons(result: Dict[str, Any]) -> List[Tuple[str, str]]:
    return [
        (r["file"], r["reason"])
        for r in result["responses"]
        if r["response"] == constants.UTTER_FILE_REFUSED
    ]


class Platform(ThreadingHTTPServer):
    """The user's platform on loopback: serves files (path -> status, headers, bytes) and
    records every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: Dict[str, Tuple[int, Dict[str, str], bytes]] = {}
        self.requests: List[Tuple[str, str]] = []
        # `shutdown` waits for the next poll of the serving loop (0.5 s by default).
        self.thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def serve(self, path: str, data: bytes, media_type: str, **headers: str) -> str:
        self.files[path] = (200, {"Content-Type": media_type, **headers}, data)
        return self.url(path)

    def fetched(self, path: str) -> int:
        return sum(1 for method, seen in self.requests if method == "GET" and seen == path)


class _Handler(BaseHTTPRequestHandler):
    server: Platform

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.requests.append(("GET", self.path))
        status, headers, data = self.server.files.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if "Content-Length" not in headers or int(headers["Content-Length"]) == len(data):
            self.wfile.write(data)


@pytest.fixture(name="platform")
def platform_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    server = Platform()
    server.thread.start()
    monkeypatch.setenv(HOSTS_ENV, f"fbcdn.net,{server.host}")
    yield server
    server.shutdown()
    server.server_close()
