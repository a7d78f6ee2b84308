"""Test helpers of the emulator tests: a real webhook receiver and a spec-checking client.

Every API response goes through `testkit.spec.validate_response`, and every webhook the
receiver gets through `validate_webhook`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

import aiohttp
from aiohttp import web

from rasa_zendesk.emulator import EmulatorServer
from testkit import spec
from testkit.emulator_control import CONTROL_HEADERS

FAST_RETRIES = (0.05, 0.1, 0.1, 0.1)
STATUSES = {"NEW", "OPEN", "PENDING", "HOLD", "SOLVED", "CLOSED"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
DEFAULT = object()


@dataclass
class Received:
    headers: Dict[str, str]
    body: Dict[str, Any]
    status: int
    raw: bytes = b""


@dataclass
class WebhookReceiver:
    """A real HTTP server standing in for Rasa's webhook route; `check` validates each body
    (by default against the SunCo spec)."""

    url: str = ""
    received: List[Received] = field(default_factory=list)
    invalid: List[str] = field(default_factory=list)
    # Statuses to answer next (then 200); a float answers after sleeping that long.
    plan: Deque[Any] = field(default_factory=deque)
    check: Callable[[Dict[str, Any]], None] = spec.validate_webhook

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
            self.check(body)
        except (ValueError, AssertionError) as exc:
            self.invalid.append(str(exc))
            body = {"unparsed": raw.decode("utf-8", "replace")}
        answer = self.plan.popleft() if self.plan else 200
        if isinstance(answer, float):
            await asyncio.sleep(answer)
            answer = 200
        self.received.append(Received(dict(request.headers), body, answer, raw))
        return web.json_response({}, status=answer)

    def events(self, event_type: Optional[str] = None, delivered_only: bool = True) -> List[Dict]:
        """Events received (answered 2xx unless told otherwise), in arrival order."""
        return [
            event
            for item in self.received
            if not delivered_only or 200 <= item.status < 300
            for event in item.body.get("events", [])
            if event_type is None or event.get("type") == event_type
        ]

    async def wait_for(
        self, predicate: Callable[[WebhookReceiver], bool], timeout: float = 5.0
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                types = [e.get("type") for e in self.events(delivered_only=False)]
                raise AssertionError(f"webhooks did not arrive in time; got {types}")
            await asyncio.sleep(0.02)


async def start_receiver(
    check: Callable[[Dict[str, Any]], None] = spec.validate_webhook,
) -> Tuple[WebhookReceiver, web.AppRunner]:
    receiver = WebhookReceiver(check=check)
    app = web.Application()
    app.router.add_post("/webhooks/zendesk/webhook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}/webhooks/zendesk/webhook"
    return receiver, runner


class SunCoApi:
    """HTTP client of the emulator that checks every response against the spec."""

    def __init__(self, session: aiohttp.ClientSession, server: EmulatorServer) -> None:
        self.session = session
        self.server = server
        config = server.config
        self.auth = aiohttp.BasicAuth(config.key_id, config.key_secret)
        self.app_url = f"{server.api_url}/v2/apps/{config.app_id}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = DEFAULT,
        data: Any = None,
        auth: Any = DEFAULT,
        headers: Optional[Dict[str, str]] = None,
        expect: Optional[int] = None,
        check_request: bool = False,
        timeout: float = 10.0,
    ) -> Tuple[int, Any]:
        """One call; `path` is relative to the app (`/users`) unless it starts with http."""
        url = path if path.startswith("http") else self.app_url + path
        kwargs: Dict[str, Any] = {"headers": headers or {}}
        if json_body is not DEFAULT:
            if check_request:
                spec.validate_request(method, url, json_body)
            kwargs["json"] = json_body
        if data is not None:
            kwargs["data"] = data
        if auth is DEFAULT:
            kwargs["auth"] = self.auth
        elif auth is not None:
            kwargs["auth"] = auth
        async with self.session.request(
            method, url, timeout=aiohttp.ClientTimeout(total=timeout), **kwargs
        ) as response:
            raw = await response.read()
            body = json.loads(raw) if raw else None
            status = response.status
        spec.validate_response(method, url, status, body)
        if expect is not None:
            assert status == expect, f"{method} {path}: {status} {body}"
        return status, body

    # The happy paths, with the request checked against the spec too.
    async def ok(self, method: str, path: str, body: Any = DEFAULT, expect: int = 200) -> Any:
        return (await self.call(method, path, json_body=body, expect=expect, check_request=True))[1]

    async def create_user(self, external_id: str, **profile: Any) -> Dict[str, Any]:
        body: Dict[str, Any] = {"externalId": external_id}
        if profile:
            body["profile"] = profile
        return (await self.ok("POST", "/users", body, expect=201))["user"]

    async def create_conversation(
        self, external_id: str, metadata: Optional[Dict[str, Any]] = None
    ) -> Dict[str, Any]:
        body: Dict[str, Any] = {
            "type": "personal",
            "participants": [{"userExternalId": external_id}],
        }
        if metadata is not None:
            body["metadata"] = metadata
        return (await self.ok("POST", "/conversations", body, expect=201))["conversation"]

    async def post_message(self, conversation_id: str, body: Dict[str, Any]) -> Dict[str, Any]:
        path = f"/conversations/{conversation_id}/messages"
        messages = (await self.ok("POST", path, body, expect=201))["messages"]
        assert len(messages) == 1
        return messages[0]

    async def post_text(self, conversation_id: str, text: str, **author: Any) -> Dict[str, Any]:
        author = {"type": "business", **author}
        body = {"author": author, "content": {"type": "text", "text": text}}
        return await self.post_message(conversation_id, body)

    async def pass_control(
        self, conversation_id: str, target: str, metadata: Optional[Dict[str, Any]] = None
    ) -> None:
        body: Dict[str, Any] = {"switchboardIntegration": target}
        if metadata is not None:
            body["metadata"] = metadata
        assert await self.ok("POST", f"/conversations/{conversation_id}/passControl", body) == {}

    async def user_conversation(self, external_id: str, **profile: Any) -> Dict[str, Any]:
        """A new user and their conversation, whose metadata names them as Rasa's sender."""
        await self.create_user(external_id, **profile)
        return await self.create_conversation(external_id, {"rasa_sender_id": external_id})

    async def handed_off(self, external_id: str = "rasa-1") -> Dict[str, Any]:
        """A user and conversation already passed to Agent Workspace."""
        conversation = await self.user_conversation(external_id, givenName="Jane", surname="Doe")
        await self.pass_control(conversation["id"], "zd-agentWorkspace")
        return conversation

    # The control API (the emulator's own, not SunCo's: no spec check).
    async def solve(self, conversation_id: str, body: Any = None) -> Any:
        """The agent solves the conversation's ticket (the console's Solve / Close)."""
        return await self.control("POST", f"/conversations/{conversation_id}/solve", body)

    async def control(
        self, method: str, path: str, body: Any = None, expect: Optional[int] = 200
    ) -> Any:
        url = f"{self.server.base_url}/_emulator{path}"
        request = self.session.request(method, url, json=body, headers=CONTROL_HEADERS)
        async with request as response:
            data = await response.json()
            if expect is not None:
                assert response.status == expect, f"{method} {path}: {response.status} {data}"
            return data

    async def deliveries(self, **query: str) -> List[Dict[str, Any]]:
        result = await self.control("POST", "/webhooks/wait", {"timeout": 10})
        assert result["idle"], "webhook deliveries did not settle"
        return [d for d in result["deliveries"] if all(d.get(k) == v for k, v in query.items())]


def check_ticket_event(body: Dict[str, Any]) -> None:
    """The shape of Zendesk's ticket.status_changed event (what a receiver may rely on)."""
    assert set(body) == {
        "account_id",
        "id",
        "time",
        "type",
        "subject",
        "zendesk_event_version",
        "event",
        "detail",
    }, sorted(body)
    assert isinstance(body["account_id"], int) and UUID.match(body["id"]), body
    assert body["type"] == "zen:event-type:ticket.status_changed"
    assert body["zendesk_event_version"] == "2022-11-06" and TIMESTAMP.match(body["time"])
    detail = body["detail"]
    assert body["subject"] == f"zen:ticket:{detail['id']}"
    assert set(body["event"]) == {"previous", "current"}
    assert {body["event"]["previous"], body["event"]["current"]} <= STATUSES
    assert detail["status"] == body["event"]["current"]
    for key in ("id", "requester_id", "submitter_id", "actor_id"):
        assert isinstance(detail[key], str) and detail[key].isdigit(), (key, detail)
    assert isinstance(detail["tags"], list) and detail["via"] == {"channel": "native_messaging"}
    assert TIMESTAMP.match(detail["created_at"]) and TIMESTAMP.match(detail["updated_at"])


def ticket_event(
    conversation_id: Optional[str],
    current: str,
    previous: str = "OPEN",
    ticket_id: int = 4711,
    event_type: str = "zen:event-type:ticket.status_changed",
    event_id: Optional[str] = None,
) -> Dict[str, Any]:
    """A Zendesk ticket event, shaped as Zendesk's event webhooks send it."""
    tags = ["rasa_handoff", "explicit_request"]
    if conversation_id is not None:
        tags.insert(0, f"rasa_zendesk_conversation_{conversation_id}")
    return {
        "account_id": 9_000_001,
        "id": event_id or str(uuid.uuid4()),
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "type": event_type,
        "subject": f"zen:ticket:{ticket_id}",
        "zendesk_event_version": "2022-11-06",
        "event": {"previous": previous, "current": current},
        "detail": {
            "id": str(ticket_id),
            "status": current,
            "tags": tags,
            "subject": "Chat handoff: the user asked for a person",
            "via": {"channel": "native_messaging"},
        },
    }
