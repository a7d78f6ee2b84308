"""What the end-to-end tests drive and observe besides the web chat user
(`testkit.socket_user.SocketUser`): the emulator's control API (what the agent console
does) and the tracker store's SQLite file. All waiting is for a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, TypeVar, Union

import httpx

T = TypeVar("T")


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

    async def solve(self, conversation_id: str, reason: Optional[str] = None) -> None:
        """Agent Workspace hands the conversation back: the ticket closed, or (`reason`
        `transferToEmail`) the agent moved it to email."""
        body = {"reason": reason} if reason else None
        await self._post(f"/_emulator/conversations/{conversation_id}/solve", body)

    async def webhook_mode(self, **rule: Any) -> None:
        """Make deliveries unkind as SunCo's can be (`mode` duplicate, reorder, hold, drop)."""
        await self._post("/_emulator/webhook-mode", rule)

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
