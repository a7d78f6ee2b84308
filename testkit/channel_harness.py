"""A real Rasa server for the channel tests, built the way `rasa run` builds it.

`rasa.core.run.configure_app` registers the input channels (socket.io with session persistence
like rasa-webchat, REST, callback, and `ZendeskInput`); `app.ctx.agent` is an `Agent` with the
bot's domain, a SQLTrackerStore on a SQLite file and an InMemoryLockStore; Sanic serves it on a
free loopback port. A python-socketio client plays the user's web chat; webhooks are the
official SunCo examples with their ids, authors and contents changed, posted with httpx.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import httpx
import socketio
from rasa.core.agent import Agent
from rasa.core.channels.callback import CallbackInput
from rasa.core.channels.channel import InputChannel
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.run import configure_app
from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sanic import Sanic

from rasa_zendesk import constants
from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.handoff import state
from testkit.policy_trackers import session_start
from testkit.processes import free_ports

REPO = Path(__file__).resolve().parents[1]
SPEC_DIR = REPO / ".." / "shared" / "spec"
EXAMPLES: Dict[str, Any] = json.loads((SPEC_DIR / "sunco-v2-examples.json").read_text())

SECRET = "whsec_channel_tests_3f9a1c"
KEY_SECRET = "keysecret_channel_tests_77b2"
CREDENTIALS = {
    "subdomain": "acme",
    "app_id": "app_test",
    "key_id": "key_test",
    "key_secret": KEY_SECRET,
    "webhook_secret": SECRET,
    # The channel tests check what the agent's messages become; the notice that comes before
    # the first of them is checked in tests/channel/handlers/test_agent_message.py.
    "agent_joined_notice": "false",
}
WEBHOOK_PATH = "/webhooks/zendesk/webhook"
AGENT_WORKSPACE = {
    "id": "sbi_aw",
    "name": "zd-agentWorkspace",
    "integrationId": "int_aw",
    "integrationType": "zd:agentWorkspace",
}

# The example bot's domain: the handoff slots and `utter_zendesk_handoff_ended`, as a bot
# author gets them from rasa_zendesk/domain/zendesk.yml.
DOMAIN_FILE = REPO / "domain.yml"


@functools.lru_cache(maxsize=None)
def load_domain() -> Domain:
    return Domain.load(DOMAIN_FILE)


HANDOFF_ENDED_TEXT = load_domain().responses["utter_zendesk_handoff_ended"][0]["text"]

Sanic.test_mode = True  # configure_app names every app "rasa_server"


@dataclass
class RasaServer:
    """A running Rasa server and what the tests look at."""

    app: Sanic
    server: Any
    url: str
    agent: Agent
    store: TrackerStore
    zendesk: ZendeskInput

    async def post_webhook(
        self, payload: Any, key: Optional[str] = SECRET, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["X-API-Key"] = key
        async with httpx.AsyncClient(base_url=self.url, timeout=15) as http:
            if isinstance(payload, (bytes, str)):
                return await http.post(WEBHOOK_PATH, content=payload, headers=headers, **kwargs)
            return await http.post(WEBHOOK_PATH, json=payload, headers=headers, **kwargs)

    async def tracker(self, sender_id: str) -> DialogueStateTracker:
        tracker = await self.store.retrieve_full_tracker(sender_id)
        assert tracker is not None
        return tracker

    async def bot_events(self, sender_id: str) -> List[BotUttered]:
        tracker = await self.tracker(sender_id)
        return [e for e in tracker.events if isinstance(e, BotUttered)]

    async def stop(self) -> None:
        """Stop as Sanic does: listeners, then idle connections closed, the rest aborted."""
        # A web chat still connected holds a long-poll open (engine.io answers it only when it
        # has something to send): closing its sessions answers it, so nothing is waited for.
        for channel in self.app.ctx.input_channels:
            if isinstance(channel, SocketIOInput) and channel.sio is not None:
                for socket in list(channel.sio.eio.sockets.values()):
                    await socket.close(wait=False)
        await self.server.before_stop()
        self.server.close()
        await self.server.wait_closed()
        for connection in list(self.server.connections):
            connection.close_if_idle()
        for _ in range(20):
            if not self.server.connections:
                break
            await asyncio.sleep(0.05)
        for connection in list(self.server.connections):
            connection.abort()
        await self.server.after_stop()
        # engine.io leaves each closed socket's ping task asleep for its 25 s interval.
        for task in asyncio.all_tasks():
            if task.get_coro().__qualname__ == "AsyncSocket._send_ping":
                task.cancel()


async def start_rasa(
    db_path: Path,
    *,
    zendesk: Optional[ZendeskInput] = None,
    callback_url: str = "http://127.0.0.1:9/callback",
    domain: Optional[Domain] = None,
    tracker_cache_size: Optional[int] = None,
    tracker_store: Optional[TrackerStore] = None,
) -> RasaServer:
    """Rasa with the socket.io, REST, callback and Zendesk channels, serving on a free port."""
    domain = domain or load_domain()
    if zendesk is None:
        credentials = dict(CREDENTIALS)
        if tracker_cache_size is not None:
            credentials["tracker_cache_size"] = str(tracker_cache_size)
        zendesk = ZendeskInput.from_credentials(credentials)  # type: ignore[assignment]
    channels: Sequence[InputChannel] = [
        SocketIOInput(session_persistence=True),
        RestInput(),
        CallbackInput(EndpointConfig(url=callback_url)),
        zendesk,  # type: ignore[list-item]
    ]
    port = free_ports(1)[0]
    app = configure_app(input_channels=list(channels), enable_api=True, port=port)
    store = tracker_store or SQLTrackerStore(domain=domain, dialect="sqlite", db=str(db_path))
    agent = Agent(domain=domain, tracker_store=store, lock_store=InMemoryLockStore())
    app.ctx.agent = agent
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()  # create_server has already started listening
    await server.before_start()
    await server.after_start()
    return RasaServer(app, server, f"http://127.0.0.1:{port}", agent, store, zendesk)  # type: ignore[arg-type]


def redis_tracker_store(port: int, domain: Optional[Domain] = None) -> RedisTrackerStore:
    """Rasa's Redis tracker store, with a key prefix of its own (one store per test)."""
    return RedisTrackerStore(
        domain or load_domain(), host="127.0.0.1", port=port, key_prefix="t" + new_id()
    )


async def start_handoff(
    store: TrackerStore,
    sender_id: str,
    conversation_id: str,
    input_channel: str = "socketio",
    connector: Optional[str] = None,
    at: Optional[float] = None,
) -> None:
    """The user's conversation as the escalation action leaves it (through `connector`), its
    events stamped `at` when given (a user who last wrote then)."""
    events: List[Event] = [
        *session_start(),
        UserUttered("I want to talk to a human", input_channel=input_channel),
        ActionExecuted(constants.ACTION_HANDOFF),
        SlotSet(constants.SLOT_HANDOFF_REASON, "asked for a human"),
        SlotSet(
            constants.SLOT_HANDOFF, state.opened(conversation_id, connector=connector).as_slot()
        ),
        BotUttered("An agent will be with you shortly."),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]
    for event in events if at is not None else ():
        event.timestamp = at
    assert store.domain is not None
    tracker = DialogueStateTracker.from_events(sender_id, events, store.domain.slots)
    await store.save(tracker)


@dataclass
class WebChat:
    """The user's web chat: a socket.io client in a persistent session, like rasa-webchat."""

    client: socketio.AsyncClient
    session_id: str
    bot_messages: asyncio.Queue[Dict[str, Any]] = field(default_factory=asyncio.Queue)
    typing: asyncio.Queue[Dict[str, Any]] = field(default_factory=asyncio.Queue)

    async def next_message(self, timeout: float = 10.0) -> Dict[str, Any]:
        return await asyncio.wait_for(self.bot_messages.get(), timeout)

    async def next_typing(self, timeout: float = 10.0) -> Dict[str, Any]:
        return await asyncio.wait_for(self.typing.get(), timeout)

    def assert_no_more_messages(self) -> None:
        assert self.bot_messages.empty(), self.bot_messages.get_nowait()


async def open_web_chat(url: str, session_id: str) -> WebChat:
    client = socketio.AsyncClient(reconnection=False)
    chat = WebChat(client, session_id)
    confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    @client.on("bot_uttered")
    async def bot_uttered(data: Dict[str, Any]) -> None:
        await chat.bot_messages.put(data)

    @client.on("agent_typing")
    async def agent_typing(data: Dict[str, Any]) -> None:
        await chat.typing.put(data)

    @client.on("session_confirm")
    async def session_confirm(data: Any) -> None:
        if not confirmed.done():
            confirmed.set_result(data)

    # Long-polling: python-engineio 4.15 needs aiohttp>=3.10 for websockets, Rasa pins 3.9.
    await client.connect(url, socketio_path="/socket.io", transports=["polling"], wait_timeout=5)
    await client.emit("session_request", {"session_id": session_id})
    assert await asyncio.wait_for(confirmed, 5) == session_id
    return chat


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def new_id() -> str:
    return uuid.uuid4().hex[:24]


def _envelope(example: str) -> Dict[str, Any]:
    envelope = copy.deepcopy(EXAMPLES[example])
    envelope["app"] = {"id": CREDENTIALS["app_id"]}
    return envelope


def _conversation(conversation_id: str, sender_id: Optional[str]) -> Dict[str, Any]:
    conversation: Dict[str, Any] = {
        "id": conversation_id,
        "type": "personal",
        "activeSwitchboardIntegration": dict(AGENT_WORKSPACE),
    }
    if sender_id is not None:
        conversation["metadata"] = {
            constants.CONVERSATION_SENDER_ID: sender_id,
            constants.CONVERSATION_INPUT_CHANNEL: "socketio",
        }
    return conversation


def content(example: str) -> Dict[str, Any]:
    """The content of one of the spec's message examples (`text`, `image`, `file`, ...)."""
    return copy.deepcopy(EXAMPLES[example]["content"])


def message_webhook(
    conversation_id: str,
    sender_id: Optional[str],
    message_content: Dict[str, Any],
    *,
    author: str = "business",
    display_name: str = "Anna Agent",
    metadata: Optional[Dict[str, Any]] = None,
    event_id: Optional[str] = None,
    message_id: Optional[str] = None,
) -> Dict[str, Any]:
    """The spec's `conversation:message` example, for this conversation and message."""
    envelope = _envelope("conversationMessageEvent")
    event = envelope["events"][0]
    event["id"] = event_id or new_id()
    event["createdAt"] = now_iso()
    event["payload"]["conversation"] = _conversation(conversation_id, sender_id)
    message = event["payload"]["message"]
    message["received"] = event["createdAt"]
    message["id"] = message_id or new_id()
    message["content"] = message_content
    if author == "business":
        message["author"] = {
            "type": "business",
            "displayName": display_name,
            "avatarUrl": "https://example.org/anna.png",
        }
        message["source"] = {"type": "zd:agentWorkspace"}
    if metadata is not None:
        message["metadata"] = metadata
    return envelope


def typing_webhook(
    conversation_id: str, sender_id: Optional[str], activity: str = "typing:start"
) -> Dict[str, Any]:
    envelope = _envelope("conversationTypingEvent")
    event = envelope["events"][0]
    event["id"] = new_id()
    event["payload"]["conversation"] = _conversation(conversation_id, sender_id)
    event["payload"]["activity"]["type"] = activity
    event["payload"]["activity"]["author"] = {"type": "business", "displayName": "Anna Agent"}
    event["payload"]["activity"]["source"] = {"type": "zd:agentWorkspace"}
    return envelope


def release_webhook(
    conversation_id: str, sender_id: Optional[str], event_id: Optional[str] = None
) -> Dict[str, Any]:
    envelope = _envelope("switchboardReleaseControlEvent")
    event = envelope["events"][0]
    event["id"] = event_id or new_id()
    conversation = _conversation(conversation_id, sender_id)
    del conversation["activeSwitchboardIntegration"]
    event["payload"]["conversation"] = conversation
    event["payload"]["reason"] = constants.REASON_TICKET_CLOSED
    return envelope


def pass_control_webhook(
    conversation_id: str, sender_id: Optional[str], active: Dict[str, Any], reason: Optional[str]
) -> Dict[str, Any]:
    envelope = _envelope("switchboardPassControlEvent")
    event = envelope["events"][0]
    event["id"] = new_id()
    conversation = _conversation(conversation_id, sender_id)
    conversation["activeSwitchboardIntegration"] = active
    event["payload"]["conversation"] = conversation
    if reason:
        event["payload"]["reason"] = reason
    return envelope


@dataclass
class Handoff:
    """A user in a handoff: their sender id, SunCo conversation id and open web chat."""

    sender_id: str
    conversation_id: str
    chat: WebChat

    def message(self, message_content: Dict[str, Any], **fields: Any) -> Dict[str, Any]:
        """The message webhook of `message_content` in this conversation (`message_webhook`)."""
        return message_webhook(self.conversation_id, self.sender_id, message_content, **fields)
