"""A web chat user on Rasa's socket.io channel (what rasa-webchat does), for tests and benchmarks.

It connects, asks for its session (`session_request` -> `session_confirm`) again after every
reconnect, sends `user_uttered` and keeps every `bot_uttered` it receives with the time it
arrived. Every wait is for a condition with a deadline; the only fixed wait is `assert_silent`,
which checks that nothing arrives during a window.
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
    """One socket.io connection that reconnects by itself; `session_id` is the Rasa sender id
    with session persistence (None: the server takes the socket id)."""

    def __init__(self, url: str, session_id: Optional[str] = None) -> None:
        self.url = url
        self.session_id = session_id
        self.received: List[Received] = []
        self.confirmed_sessions = 0  # one per (re)connect that joined the session
        self._join = True
        self._changed = asyncio.Condition()
        self.client = socketio.AsyncClient(
            reconnection=True,
            reconnection_delay=0.2,
            reconnection_delay_max=0.5,
            randomization_factor=0.1,
        )
        self.client.on("connect", self._on_connect)
        self.client.on("session_confirm", self._on_session_confirm)
        self.client.on("bot_uttered", self._on_bot_uttered)

    async def connect(self, timeout: float = 20.0, join: bool = True) -> SocketUser:
        """Connect over websocket and wait until the session (if any) is confirmed. With
        `join=False` the connection only sends for the session: bot messages go to the sockets
        that joined."""
        self._join = join
        confirmed = self.confirmed_sessions
        await self.client.connect(
            self.url, transports=["websocket"], socketio_path="/socket.io", wait_timeout=timeout
        )
        if join and self.session_id is not None:
            await self.wait_session_confirmed(confirmed + 1, timeout)
        return self

    async def close(self) -> None:
        await self.client.disconnect()

    async def send(self, text: str, metadata: Optional[Dict[str, Any]] = None) -> float:
        """Send a user message (tagged with the session id); return when (perf_counter) it
        was sent."""
        payload: Dict[str, Any] = {"message": text}
        if self.session_id is not None:
            payload["session_id"] = self.session_id
        if metadata is not None:
            payload["metadata"] = metadata
        sent_at = time.perf_counter()
        await self.client.emit("user_uttered", payload)
        return sent_at

    async def say(self, text: str) -> int:
        """Send a user message; return how many bot messages had arrived before it (the index
        to pass to `next_message`/`next_text`)."""
        mark = len(self.received)
        await self.send(text)
        return mark

    @property
    def texts(self) -> List[Optional[str]]:
        return [message.text for message in self.received]

    async def wait_until(
        self,
        condition: Callable[[List[Received]], bool],
        timeout: float = 20.0,
        what: str = "the expected bot messages",
    ) -> None:
        """Wait until `condition(received)` holds; fail naming `what` after `timeout`."""
        async with self._changed:
            ready = self._changed.wait_for(lambda: condition(self.received))
            try:
                await asyncio.wait_for(ready, timeout)
            except asyncio.TimeoutError:
                raise AssertionError(
                    f"timed out after {timeout:g}s waiting for {what}; "
                    f"last texts received: {self.texts[-20:]}"
                ) from None

    async def wait_session_confirmed(self, count: int, timeout: float = 30.0) -> None:
        """Wait until the server confirmed the session `count` times (once per (re)connect)."""
        await self.wait_until(
            lambda _: self.confirmed_sessions >= count, timeout, f"session {count}"
        )

    async def wait_for_count(self, count: int, timeout: float = 20.0) -> List[Received]:
        """Wait until at least `count` bot messages arrived in total; return them all."""
        await self.wait_until(lambda got: len(got) >= count, timeout, f"{count} bot messages")
        return list(self.received)

    async def next_message(
        self,
        since: int,
        matches: Callable[[Received], bool] = lambda _: True,
        what: str = "a bot message",
        timeout: float = 20.0,
    ) -> Received:
        """The first bot message received after index `since` that `matches`."""

        def found() -> Optional[Received]:
            return next((m for m in self.received[since:] if matches(m)), None)

        await self.wait_until(lambda _: found() is not None, timeout, what)
        result = found()
        assert result is not None
        return result

    async def wait_for_text(self, text: str, timeout: float = 20.0) -> Received:
        """The first bot message with exactly this text."""
        return await self.next_message(0, lambda m: m.text == text, f"{text!r}", timeout)

    async def next_text(self, since: int, contains: str = "", timeout: float = 20.0) -> str:
        """The text of the first text message after `since` containing `contains` (any case)."""
        message = await self.next_message(
            since,
            lambda m: isinstance(m.text, str) and contains.lower() in m.text.lower(),
            f"a bot text containing {contains!r}" if contains else "a bot text",
            timeout,
        )
        assert message.text is not None
        return message.text

    async def assert_silent(self, since: int, window: float = 3.0) -> None:
        """Nothing arrives from the bot during `window` seconds (the bot keeps quiet)."""
        await asyncio.sleep(window)
        extra = [m.data for m in self.received[since:]]
        assert not extra, f"the bot spoke during a handoff: {extra}"

    async def _on_connect(self) -> None:
        if self._join and self.session_id is not None:
            await self.client.emit("session_request", {"session_id": self.session_id})

    async def _on_session_confirm(self, _data: Any) -> None:
        async with self._changed:
            self.confirmed_sessions += 1
            self._changed.notify_all()

    async def _on_bot_uttered(self, data: Dict[str, Any]) -> None:
        async with self._changed:
            self.received.append(Received(data=data, at=time.perf_counter(), wall=time.time()))
            self._changed.notify_all()
