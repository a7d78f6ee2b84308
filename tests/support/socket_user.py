"""A chat user on Rasa's socket.io channel (what a web chat widget does), for tests and benchmarks.

It connects, asks for a session (`session_request` -> `session_confirm`), sends `user_uttered`
and keeps every `bot_uttered` it receives, with the time it arrived.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

import socketio


@dataclass(frozen=True)
class Received:
    data: Dict[str, Any]
    at: float  # time.perf_counter() on arrival
    wall: float  # time.time() on arrival (to compare with other processes' clocks)

    @property
    def text(self) -> Optional[str]:
        return self.data.get("text")


class SocketUser:
    """One socket.io connection; `session_id` is the Rasa sender id with session persistence."""

    def __init__(self, url: str, session_id: Optional[str] = None) -> None:
        self.url = url
        self.session_id = session_id
        self.received: List[Received] = []
        self._arrived = asyncio.Condition()
        self._confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.client = socketio.AsyncClient(reconnection=False)
        self.client.on("bot_uttered", self._on_bot_uttered)
        self.client.on("session_confirm", self._on_session_confirm)

    async def connect(self, timeout: float = 10.0, join: bool = True) -> SocketUser:
        """Connect over websocket and join the session (if any). With `join=False` the
        connection only sends for the session: bot messages go to the sockets that joined."""
        await self.client.connect(
            self.url, transports=["websocket"], socketio_path="/socket.io", wait_timeout=timeout
        )
        if join and self.session_id is not None:
            await self.client.emit("session_request", {"session_id": self.session_id})
            await asyncio.wait_for(self._confirmed, timeout)
        return self

    async def send(self, text: str, metadata: Optional[Dict[str, Any]] = None) -> float:
        """Send a user message (tagged with the session id); return when it was sent."""
        payload: Dict[str, Any] = {"message": text}
        if self.session_id is not None:
            payload["session_id"] = self.session_id
        if metadata is not None:
            payload["metadata"] = metadata
        sent_at = time.perf_counter()
        await self.client.emit("user_uttered", payload)
        return sent_at

    @property
    def texts(self) -> List[Optional[str]]:
        return [message.text for message in self.received]

    async def wait_for_count(self, count: int, timeout: float) -> List[Received]:
        """Wait until at least `count` bot messages arrived in total; return them all."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.received) >= count), timeout
            )
        return list(self.received)

    async def wait_until(self, condition: Callable[[List[Received]], bool], timeout: float) -> None:
        """Wait until `condition(received)` holds."""
        async with self._arrived:
            ready = self._arrived.wait_for(lambda: condition(self.received))
            await asyncio.wait_for(ready, timeout)

    async def wait_for_text(self, text: str, timeout: float) -> Received:
        """Wait until a bot message with exactly this text arrived; return the first one."""

        def found() -> Optional[Received]:
            return next((m for m in self.received if m.text == text), None)

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: found() is not None), timeout)
        result = found()
        assert result is not None
        return result

    async def close(self) -> None:
        await self.client.disconnect()

    async def _on_bot_uttered(self, data: Dict[str, Any]) -> None:
        async with self._arrived:
            self.received.append(Received(data=data, at=time.perf_counter(), wall=time.time()))
            self._arrived.notify_all()

    async def _on_session_confirm(self, session_id: Any) -> None:
        if not self._confirmed.done():
            self._confirmed.set_result(str(session_id))
