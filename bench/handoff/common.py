"""What every measurement uses: the running deployment, users in a handoff, Rasa's HTTP API and
webhook bodies shaped exactly as the emulator (SunCo) delivers them."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import os
import pstats
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional, Tuple, TypeVar

import aiohttp
import httpx

from rasa_zendesk import constants
from testkit.cluster import Cluster, open_handoff
from testkit.emulator_control import EmulatorControl, wait_for
from testkit.events_table import EventsTable
from testkit.socket_user import SocketUser

T = TypeVar("T")


@dataclass
class Bench:
    """The deployment under test, measured through its first Rasa instance."""

    cluster: Cluster
    tracker: EventsTable
    emulator: EmulatorControl
    http: httpx.AsyncClient
    api_token: str
    #: The timed requests' client: aiohttp, which costs the machine a fraction of what httpx
    #: does a request, so that the load generator takes less of the cores it shares with the
    #: deployment (`cpu` shows what it still takes).
    timed: Optional[aiohttp.ClientSession] = None
    #: Where the profiled Rasa instance writes a profile when told (None: not profiled).
    profile_file: Optional[Path] = None

    @property
    def rasa_url(self) -> str:
        return self.cluster.rasa_urls[0]

    @property
    def webhook_url(self) -> str:
        return self.cluster.webhook_urls[0]

    @property
    def webhook_headers(self) -> Dict[str, str]:
        return {"X-API-Key": self.cluster.config.credentials.webhook_secret}

    @contextlib.asynccontextmanager
    async def profiled(self, name: Optional[str]) -> AsyncIterator[None]:
        """Profile the Rasa instance during the block; keep it as `<name>.prof` and `.txt`."""
        if self.profile_file is None or name is None:
            yield
            return
        pid = self.cluster.rasa[0].pid
        assert pid is not None
        self.profile_file.unlink(missing_ok=True)
        os.kill(pid, signal.SIGUSR1)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGUSR2)
        for _ in range(600):  # the server writes it between two requests: within a minute
            if self.profile_file.exists():
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # let the write finish
        kept = self.profile_file.with_name(f"{name}.prof")
        self.profile_file.replace(kept)
        text = io.StringIO()
        stats = pstats.Stats(str(kept), stream=text).strip_dirs()
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        kept.with_suffix(".txt").write_text(text.getvalue())

    async def set_latency(self, ms: int) -> None:
        reply = await self.emulator.http.post("/_emulator/latency", json={"ms": ms})
        reply.raise_for_status()

    @property
    def push_params(self) -> Dict[str, str]:
        """Rasa's tracker/events parameters that push the events to the user's channel."""
        return {"token": self.api_token, "output_channel": "latest", "execute_side_effects": "true"}

    async def append_events(
        self, sender_id: str, events: List[Dict[str, Any]], push: bool
    ) -> httpx.Response:
        """Rasa's own `POST /conversations/{id}/tracker/events`, pushing to the user if asked."""
        params = self.push_params if push else {"token": self.api_token}
        return await self.http.post(
            f"{self.rasa_url}/conversations/{sender_id}/tracker/events", params=params, json=events
        )

    async def post_webhook(self, body: Dict[str, Any]) -> httpx.Response:
        return await self.http.post(self.webhook_url, json=body, headers=self.webhook_headers)

    async def timed_post(
        self,
        url: str,
        body: Any,
        params: Optional[Dict[str, str]] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> Tuple[int, Any]:
        """A measured request: its status and JSON answer (None when it is not JSON)."""
        assert self.timed is not None, "the bench opens its timed client first"
        async with self.timed.post(url, json=body, params=params, headers=headers) as reply:
            try:
                return reply.status, await reply.json(content_type=None)
            except ValueError:
                return reply.status, None


@dataclass
class HandoffUser:
    """A web chat user whose conversation is with a Zendesk agent."""

    user: SocketUser
    conversation_id: str
    #: A delivered `conversation:message` webhook of this conversation (a body to vary).
    template: Optional[Dict[str, Any]] = None

    @property
    def sender_id(self) -> str:
        assert self.user.session_id is not None
        return self.user.session_id


async def new_user(bench: Bench, tag: str) -> SocketUser:
    return await SocketUser(bench.rasa_url, f"{tag}-{uuid.uuid4().hex[:12]}").connect(timeout=60)


async def start_handoff(bench: Bench, tag: str, with_template: bool = False) -> HandoffUser:
    """A new user asks for a human; optionally the agent answers once (through the emulator),
    which leaves a real webhook body to copy."""
    user = await new_user(bench, tag)
    conversation_id = await open_handoff(user, bench.tracker, timeout=300)
    handoff = HandoffUser(user, conversation_id)
    if with_template:
        text = f"{handoff.sender_id} agent hello"
        posted = await bench.emulator.agent_message(conversation_id, text=text)
        await user.wait_for_text(text, timeout=120)
        # Stored right after the push (in one commit with the agent-joined record): the
        # conversation's length is read only once it is there.
        await wait_for(
            lambda: text in bench.tracker.agent_texts(handoff.sender_id),
            "the agent's message in the tracker store",
            timeout=120,
        )
        handoff.template = await delivered_body(bench, conversation_id, posted["message"]["id"])
    return handoff


async def delivered_body(bench: Bench, conversation_id: str, message_id: str) -> Dict[str, Any]:
    """The webhook body the emulator delivered for this message."""

    async def find() -> Optional[Dict[str, Any]]:
        deliveries = await bench.emulator.deliveries(
            type="conversation:message", conversationId=conversation_id
        )
        for delivery in deliveries:
            events = delivery["payload"]["events"]
            if any(event["payload"]["message"]["id"] == message_id for event in events):
                return delivery["payload"]
        return None

    return await wait_for(find, "the agent's webhook", timeout=120)


def agent_webhook(template: Dict[str, Any], text: str) -> Dict[str, Any]:
    """The template's agent message again, as a new SunCo event and message with `text`."""
    body = copy.deepcopy(template)
    event = body["events"][0]
    event["id"] = uuid.uuid4().hex[:24]
    message = event["payload"]["message"]
    message["id"] = uuid.uuid4().hex[:24]
    message["content"] = {"type": "text", "text": text}
    return body


def agent_bot_event(text: str) -> Dict[str, Any]:
    """What the webhook records, as an event for Rasa's own endpoint: the same job."""
    return {
        "event": "bot",
        "text": text,
        "metadata": {
            constants.EVENT_ZENDESK_MESSAGE_ID: uuid.uuid4().hex[:24],
            constants.EVENT_ZENDESK_EVENT_ID: uuid.uuid4().hex[:24],
            constants.EVENT_ZENDESK_AGENT_NAME: "Bench Agent",
        },
    }


async def bounded(limit: int, jobs: List[Callable[[], Awaitable[T]]]) -> List[T]:
    """Run the jobs with at most `limit` at a time; results in order."""
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(run(job) for job in jobs)))
