"""What the end-to-end tests drive and observe: a web chat user on socket.io, the emulator's
control API (what the agent console does), and the tracker store's SQLite file.

All waiting is for a condition with a deadline; the only fixed wait is `ChatUser.assert_silent`,
which checks that nothing arrives during a window.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sqlite3
import time
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, TypeVar, Union

import httpx
import socketio

T = TypeVar("T")
Message = Dict[str, Any]


async def wait_for(
    probe: Callable[[], Union[Optional[T], Awaitable[Optional[T]]]],
    what: str,
    timeout: float = 20.0,
    interval: float = 0.2,
) -> T:
    """Call `probe` (plain or async) until it returns something truthy; fail naming `what`
    after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(interval)


class ChatUser:
    """A web chat user as rasa-webchat is one: socket.io, `session_request` with a session id
    kept across reconnects, `user_uttered` out, `bot_uttered` in."""

    def __init__(self, rasa_url: str, session_id: Optional[str] = None) -> None:
        self.rasa_url = rasa_url
        self.session_id = session_id or uuid.uuid4().hex
        self.received: List[Message] = []
        self.confirmed_sessions = 0
        self._changed = asyncio.Event()
        self.sio = socketio.AsyncClient(
            reconnection=True,
            reconnection_delay=0.2,
            reconnection_delay_max=0.5,
            randomization_factor=0.1,
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("session_confirm", self._on_session_confirm)
        self.sio.on("bot_uttered", self._on_bot_uttered)

    async def connect(self, timeout: float = 20.0) -> None:
        """Connect and wait for the session to be confirmed (rasa-webchat does the same)."""
        await self.sio.connect(self.rasa_url, socketio_path="socket.io", wait_timeout=timeout)
        await self.wait_session_confirmed(1, timeout)

    async def close(self) -> None:
        await self.sio.disconnect()

    async def say(self, text: str) -> int:
        """Send a message; returns how many bot messages had arrived before it."""
        mark = len(self.received)
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
        return mark

    async def wait_session_confirmed(self, count: int, timeout: float = 30.0) -> None:
        """Wait until the server confirmed the session `count` times (once per (re)connect)."""
        await self._wait(lambda: self.confirmed_sessions >= count, f"session {count}", timeout)

    async def next_message(
        self,
        since: int,
        matches: Callable[[Message], bool] = lambda _: True,
        what: str = "a bot message",
        timeout: float = 20.0,
    ) -> Message:
        """The first bot message received after index `since` that `matches`."""
        found: List[Message] = []

        def check() -> bool:
            found[:] = [m for m in self.received[since:] if matches(m)]
            return bool(found)

        await self._wait(check, what, timeout)
        return found[0]

    async def next_text(self, since: int, contains: str = "", timeout: float = 20.0) -> str:
        """The text of the first text message after `since` containing `contains`."""
        message = await self.next_message(
            since,
            lambda m: isinstance(m.get("text"), str) and contains.lower() in m["text"].lower(),
            f"a bot text containing {contains!r}" if contains else "a bot text",
            timeout,
        )
        return message["text"]

    async def assert_silent(self, since: int, window: float = 3.0) -> None:
        """Nothing arrives from the bot during `window` seconds (the bot keeps quiet)."""
        await asyncio.sleep(window)
        extra = self.received[since:]
        assert not extra, f"the bot spoke during a handoff: {extra}"

    def texts(self) -> List[str]:
        return [m["text"] for m in self.received if isinstance(m.get("text"), str)]

    async def _wait(self, condition: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout:.0f}s waiting for {what}; "
                    f"received so far: {self.received}"
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
            except asyncio.TimeoutError:
                pass

    async def _on_connect(self) -> None:
        await self.sio.emit("session_request", {"session_id": self.session_id})

    async def _on_session_confirm(self, _data: Any) -> None:
        self.confirmed_sessions += 1
        self._changed.set()

    async def _on_bot_uttered(self, data: Message) -> None:
        self.received.append(data)
        self._changed.set()


class EmulatorControl:
    """The emulator's JSON control API (`/_emulator/...`): what the agent console calls."""

    def __init__(self, emulator_url: str) -> None:
        self.url = emulator_url
        self.http = httpx.AsyncClient(base_url=emulator_url, timeout=20.0)

    async def close(self) -> None:
        await self.http.aclose()

    async def _get(self, path: str) -> Any:
        response = await self.http.get(path)
        response.raise_for_status()
        return response.json()

    async def _post(self, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        response = await self.http.post(path, json=body or {})
        assert response.status_code < 300, f"POST {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    async def state(self) -> Dict[str, Any]:
        return await self._get("/_emulator/state")

    async def requests(self, path_contains: str = "") -> List[Dict[str, Any]]:
        """SunCo API calls the emulator received (oldest first)."""
        response = await self.http.get(
            "/_emulator/requests", params={"pathContains": path_contains} if path_contains else {}
        )
        response.raise_for_status()
        return response.json()["requests"]

    async def deliveries(self, **query: str) -> List[Dict[str, Any]]:
        """Webhook deliveries, filtered by `type`, `conversationId` or `status`."""
        response = await self.http.get("/_emulator/webhooks", params=query)
        response.raise_for_status()
        return response.json()["deliveries"]

    async def delivery_of_message(self, message_id: str) -> Optional[Dict[str, Any]]:
        """The `conversation:message` delivery carrying this message id."""
        for delivery in await self.deliveries(type="conversation:message"):
            for event in delivery["payload"]["events"]:
                if event["payload"]["message"]["id"] == message_id:
                    return delivery
        return None

    async def conversation_of(self, sender_id: str) -> Optional[Dict[str, Any]]:
        """The conversation whose metadata carries this Rasa sender id, if any."""
        state = await self.state()
        for conversation in state["conversations"]:
            metadata = conversation.get("metadata") or {}
            if metadata.get("rasa_sender_id") == sender_id:
                return conversation
        return None

    async def handed_off_conversation(self, sender_id: str) -> Optional[Dict[str, Any]]:
        """The sender's conversation once Agent Workspace has it (open in the console)."""
        conversation = await self.conversation_of(sender_id)
        if conversation and conversation.get("agentStatus") == "open":
            return conversation
        return None

    async def user_texts(self, sender_id: str) -> List[str]:
        """Texts of the user-authored messages in the sender's conversation."""
        conversation = await self.conversation_of(sender_id)
        return user_texts(conversation) if conversation else []

    async def has_user_message(self, sender_id: str, text: str) -> bool:
        return text in await self.user_texts(sender_id)

    async def agent_message(self, conversation_id: str, **body: Any) -> Dict[str, Any]:
        return await self._post(f"/_emulator/conversations/{conversation_id}/agent-message", body)

    async def solve(self, conversation_id: str) -> None:
        await self._post(f"/_emulator/conversations/{conversation_id}/solve")

    async def redeliver(self, event_id: str) -> Dict[str, Any]:
        return (await self._post(f"/_emulator/webhooks/{event_id}/redeliver"))["delivery"]

    async def set_webhook_url(self, url: str) -> None:
        """Where the emulator sends webhooks from now on (retries included)."""
        await self._post("/_emulator/webhook-config", {"url": url, "urls": []})

    def sample_url(self, name: str) -> str:
        """A sample the emulator serves itself (what the console's image and file buttons send)."""
        return f"{self.url}/_emulator/samples/{name}"


def user_texts(conversation: Dict[str, Any]) -> List[str]:
    """Texts of the user-authored messages of an emulator conversation view."""
    return [
        m["content"].get("text", "")
        for m in conversation["messages"]
        if m["author"]["type"] == "user"
    ]


class TrackerStore:
    """Reads a conversation's events straight from Rasa's SQLite tracker store file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def events(self, sender_id: str) -> List[Dict[str, Any]]:
        if not self.path.exists():
            return []
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,)
            ).fetchall()
        return [json.loads(data) for (data,) in rows]

    def bot_events(self, sender_id: str) -> List[Dict[str, Any]]:
        return [e for e in self.events(sender_id) if e.get("event") == "bot"]

    def slot(self, sender_id: str, name: str) -> Any:
        """The slot's latest value (as the tracker replays it; restarts reset nothing)."""
        value = None
        for event in self.events(sender_id):
            if event.get("event") == "slot" and event.get("name") == name:
                value = event.get("value")
            elif event.get("event") == "restart":
                value = None
        return value
