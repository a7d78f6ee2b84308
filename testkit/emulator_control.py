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

#: What every state-changing control call sends, even without a body: the emulator refuses
#: anything but JSON there, which no web page can send it without a CORS preflight.
CONTROL_HEADERS = {"Content-Type": "application/json"}


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

    async def delivery(self, event_id: str) -> Optional[Dict[str, Any]]:
        """The delivery of this webhook event, if the emulator made it."""
        found = [d for d in await self.deliveries() if d["eventId"] == event_id]
        return found[0] if found else None

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

    async def conversation_of_id(self, conversation_id: str) -> Dict[str, Any]:
        """The conversation view, whichever app it belongs to."""
        state = await self.state()
        found = [c for c in state["conversations"] if c["id"] == conversation_id]
        assert found, f"no conversation {conversation_id} in the emulator"
        return found[0]

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

    async def webhook_mode(self, kind: str = "sunco", **rule: Any) -> None:
        """Make deliveries unkind as SunCo's (or, `kind="ticket"`, Zendesk's ticket webhooks)
        can be (`mode` duplicate, reorder, hold, drop)."""
        await self._post(f"/_emulator/webhook-mode?kind={kind}", rule)

    async def wait_idle(self, timeout: float = 20.0) -> None:
        """Until every webhook, SunCo's and the ticket ones, is delivered or given up."""
        for kind in ("sunco", "ticket"):
            done = await self._post(f"/_emulator/webhooks/wait?kind={kind}", {"timeout": timeout})
            assert done["idle"], f"{kind} webhooks still pending after {timeout:.0f}s"

    async def release_together(self, event_ids: List[str]) -> List[Dict[str, Any]]:
        """Held events delivered in one post, as SunCo batches them, retried whole while
        any of them fails (in the emulator's background)."""
        body = {"eventIds": event_ids}
        return (await self._post("/_emulator/webhooks/release-together", body))["deliveries"]

    async def redeliver(self, event_id: str) -> Dict[str, Any]:
        return (await self._post(f"/_emulator/webhooks/{event_id}/redeliver"))["delivery"]

    async def set_webhook_url(self, url: str) -> None:
        """Where the emulator sends webhooks from now on (retries included)."""
        await self.configure_webhooks(url=url)

    async def configure_webhooks(
        self, url: str, secret: Optional[str] = None, app: Optional[str] = None
    ) -> None:
        """Where an app (default: the default app) sends its SunCo webhooks, with which
        `X-API-Key` secret, from now on."""
        body: Dict[str, Any] = {"url": url, "urls": []}
        if secret is not None:
            body["secret"] = secret
        await self._post(_with_app("/_emulator/webhook-config", app), body)

    # Zendesk tickets (one per handoff) and their ticket-status webhooks.
    async def ticket(self, conversation_id: str) -> Optional[Dict[str, Any]]:
        """The ticket of the conversation's latest handoff (None if never handed off)."""
        return (await self._get(f"/_emulator/conversations/{conversation_id}/ticket"))["ticket"]

    async def set_ticket_status(
        self, conversation_id: str, status: str, handback: Optional[str] = None
    ) -> Dict[str, Any]:
        """The agent sets the ticket to open, pending, hold, solved or closed (closed also
        hands the conversation back, by releaseControl or `handback="passControl"`); returns
        the ticket."""
        body: Dict[str, Any] = {"status": status}
        if handback:
            body["handback"] = handback
        path = f"/_emulator/conversations/{conversation_id}/ticket"
        return (await self._post(path, body))["ticket"]

    async def configure_ticket_webhooks(
        self,
        urls: Optional[List[str]] = None,
        secret: Optional[str] = None,
        api_key: Any = ...,
        api_key_header: Optional[str] = None,
        app: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Targets, signing secret and API key header of the ticket webhooks (`api_key` None
        turns the header off; left out, it stays); returns the settings, without secrets."""
        body: Dict[str, Any] = {}
        if urls is not None:
            body["urls"] = urls
        if secret is not None:
            body["secret"] = secret
        if api_key is not ...:
            body["apiKey"] = api_key
        if api_key_header is not None:
            body["apiKeyHeader"] = api_key_header
        return await self._post(_with_app("/_emulator/ticket-webhook-config", app), body)

    async def ticket_deliveries(self, **query: str) -> List[Dict[str, Any]]:
        """Ticket webhook deliveries, filtered like `deliveries` (and by `app`)."""
        return await self.deliveries(kind="ticket", **query)

    # Several apps (connectors) in one emulator.
    async def apps(self) -> List[Dict[str, Any]]:
        return (await self._get("/_emulator/apps"))["apps"]

    async def add_app(self, **body: Any) -> Dict[str, Any]:
        """Serve one more app: `appId`, `keyId`, `keySecret`, `webhookUrls`, `webhookSecret`,
        `ticketWebhookUrls`, `ticketWebhookSecret`, `ticketWebhookApiKey`, ..."""
        return (await self._post("/_emulator/apps", body))["app"]

    # The Zendesk Support API's answers: agents online, business hours.
    async def support(self) -> Dict[str, Any]:
        """`agentsOnline`, `schedule` (None: none), `holidays`, `tokenSet` (never the token)."""
        return await self._get("/_emulator/support")

    async def set_support(self, **body: Any) -> Dict[str, Any]:
        """Replace the parts named: `agentsOnline`, `schedule` (None: no schedule at all),
        `holidays`, `oauthToken`; returns the new `support()`."""
        return await self._post("/_emulator/support", body)

    def sample_url(self, name: str) -> str:
        """A sample the emulator serves itself (what the console's image and file buttons send)."""
        return f"{self.url}/_emulator/samples/{name}"


def _with_app(path: str, app: Optional[str]) -> str:
    return f"{path}?app={app}" if app else path


def user_texts(conversation: Dict[str, Any]) -> List[str]:
    """Texts of the user-authored messages of an emulator conversation view."""
    return [
        m["content"].get("text", "")
        for m in conversation["messages"]
        if m["author"]["type"] == "user"
    ]
