"""Two `rasa run` instances behind one Zendesk webhook: every message arrives exactly once and in
order, whichever instance a webhook, a user message or the user's socket lands on.

The deployment is the documented one (`endpoints.scaleout.yml`, `credentials.scaleout.yml`):
a PostgreSQL tracker store and a Redis lock store shared by both instances, socket.io rooms
shared through Redis, one action server, and the emulator delivering webhooks round-robin to
both instances. Each user's socket (which receives) is on one instance, and a second connection
on the other instance sends every other user message for the same session.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest

from rasa_zendesk import constants
from rasa_zendesk.settings import ZendeskSettings
from rasa_zendesk.sunco.client import SunCoClient
from testkit.cluster import Cluster, ClusterConfig, open_handoff
from testkit.emulator_control import EmulatorControl, wait_for
from testkit.events_table import EventsTable
from testkit.processes import ensure_model, run_dir
from testkit.services import Postgres, Redis, postgres_server
from testkit.socket_user import SocketUser
from testkit.stack_users import STARTED

pytestmark = pytest.mark.scaleout

USERS = 20
MESSAGES_EACH_WAY = 5


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clock") / "offset"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
def cluster(postgres: Postgres, redis: Redis, clock_file: Path) -> Iterator[Cluster]:
    config = ClusterConfig(
        model=ensure_model(),
        run_dir=run_dir("scaleout"),
        postgres=postgres,
        redis=redis,
        # One clock for every instance, which the timer test moves on.
        extra_env={"ZENDESK_CLOCK_FILE": str(clock_file), "ZENDESK_AGENT_TIMEOUT": "600"},
    )
    with Cluster(config) as running:
        yield running


@pytest.fixture(scope="module")
def tracker_store(postgres: Postgres) -> Iterator[EventsTable]:
    store = EventsTable(postgres.url)
    yield store
    store.close()


@pytest.fixture
async def emulator(cluster: Cluster) -> Any:
    control = EmulatorControl(cluster.emulator_url)
    yield control
    await control.close()


@pytest.fixture
async def sunco(cluster: Cluster) -> Any:
    credentials = cluster.config.credentials
    settings = ZendeskSettings(
        subdomain=credentials.subdomain,
        app_id=credentials.app_id,
        key_id=credentials.key_id,
        key_secret=credentials.key_secret,
        webhook_secret=credentials.webhook_secret,
        api_url=f"{cluster.emulator_url}/sc",
    )
    client = SunCoClient.from_settings(settings)
    yield client
    await client.aclose()


async def user_texts_at_sunco(sunco: SunCoClient, conversation_id: str, prefix: str) -> List[str]:
    """Texts of the user-authored messages in the SunCo conversation starting with `prefix`."""
    page = await sunco.list_messages(conversation_id)
    return [
        message.content.text or ""
        for message in page.messages
        if message.author.type == "user" and (message.content.text or "").startswith(prefix)
    ]


@dataclass
class Handoff:
    """A user in a handoff: `home` holds the socket that receives, `sender` only sends."""

    session: str
    home: SocketUser
    home_index: int
    sender: SocketUser
    conversation_id: str

    async def close(self) -> None:
        await self.home.close()
        await self.sender.close()


async def start_handoff(
    cluster: Cluster, tracker_store: EventsTable, index: int, tag: str
) -> Handoff:
    session = f"{tag}-{index}-{uuid.uuid4().hex[:8]}"
    home_index = index % len(cluster.rasa_urls)
    other_index = (index + 1) % len(cluster.rasa_urls)
    home = await SocketUser(cluster.rasa_urls[home_index], session).connect()
    sender = await SocketUser(cluster.rasa_urls[other_index], session).connect(join=False)
    conversation_id = await open_handoff(home, tracker_store)
    return Handoff(session, home, home_index, sender, conversation_id)


async def converse(
    handoff: Handoff, emulator: EmulatorControl, sunco: SunCoClient
) -> Tuple[List[str], List[str]]:
    """Interleave agent and user messages; return the texts sent each way."""
    session = handoff.session
    agent_texts, user_texts = [], []
    for k in range(MESSAGES_EACH_WAY):
        agent_text, user_text = f"{session} agent {k}", f"{session} user {k}"
        # The agent's message is delivered by webhook while the user's is being handled.
        await emulator.agent_message(handoff.conversation_id, text=agent_text)
        agent_texts.append(agent_text)
        via = handoff.home if k % 2 == 0 else handoff.sender
        await via.send(user_text)
        user_texts.append(user_text)
        # A person waits for their message to go out before typing the next one.
        await wait_for(
            lambda text=user_text: _arrived(sunco, handoff.conversation_id, text),
            f"{user_text!r} at the emulator",
            timeout=120,
            interval=0.2,
        )
    return agent_texts, user_texts


async def _arrived(sunco: SunCoClient, conversation_id: str, text: str) -> bool:
    return text in await user_texts_at_sunco(sunco, conversation_id, text)


@pytest.mark.timeout(600)
async def test_concurrent_handoffs_deliver_every_message_once_and_in_order(
    cluster: Cluster,
    tracker_store: EventsTable,
    emulator: EmulatorControl,
    sunco: SunCoClient,
) -> None:
    handoffs = await asyncio.gather(
        *(start_handoff(cluster, tracker_store, i, "many") for i in range(USERS))
    )
    try:
        sent = await asyncio.gather(*(converse(h, emulator, sunco) for h in handoffs))
        for handoff in handoffs:
            prefix = f"{handoff.session} agent"
            await handoff.home.wait_until(
                lambda got, p=prefix: sum((m.text or "").startswith(p) for m in got)
                >= MESSAGES_EACH_WAY,
                timeout=60,
            )
        wait = await emulator.http.post("/_emulator/webhooks/wait", json={"timeout": 60})
        assert wait.json()["idle"] is True
        await asyncio.sleep(1.0)  # a duplicate would arrive now

        for handoff, (agent_texts, user_texts) in zip(handoffs, sent):
            session = handoff.session
            # At the socket: after "connecting you ..." and who joined, exactly the agent's
            # messages, in order.
            texts = [m.text or "" for m in handoff.home.received]
            started = [i for i, text in enumerate(texts) if STARTED in text]
            assert len(started) == 1, texts
            joined, *relayed = texts[started[0] + 1 :]
            assert joined == "Alex (Zendesk agent) has joined the chat.", session
            assert relayed == agent_texts, session
            assert handoff.sender.received == [], "a connection that did not join got messages"
            # At the emulator (SunCo): the user's messages, once each, in order.
            assert await user_texts_at_sunco(sunco, handoff.conversation_id, session) == (
                user_texts
            )
            # In the shared tracker store: both directions, once each, in order.
            assert tracker_store.texts(session, "user", f"{session} user") == user_texts
            assert tracker_store.texts(session, "bot", f"{session} agent") == agent_texts

        # Webhooks went to both instances, and often to the one not holding the user's socket.
        deliveries = await emulator.deliveries(type="conversation:message")
        home_of = {h.conversation_id: h.home_index for h in handoffs}
        crossing, targets = 0, set()
        for delivery in deliveries:
            assert delivery["status"] == "delivered", delivery
            url = delivery["attempts"][-1]["url"]
            target = cluster.webhook_urls.index(url)
            targets.add(target)
            home = home_of.get(delivery["conversationId"])
            crossing += home is not None and home != target
        assert targets == {0, 1}
        assert crossing >= USERS
    finally:
        for handoff in handoffs:
            await handoff.close()


def _fresh_copy(event: Dict[str, Any], text: str) -> Tuple[Dict[str, Any], str]:
    """The same agent message event with new event and message ids and a new text."""
    fresh = copy.deepcopy(event)
    fresh["id"] = uuid.uuid4().hex[:24]
    message = fresh["payload"]["message"]
    message["id"] = uuid.uuid4().hex[:24]
    message["content"] = {"type": "text", "text": text}
    return fresh, message["id"]


async def post_to_every_instance(cluster: Cluster, body: Dict[str, Any]) -> List[Dict[str, Any]]:
    """POST one webhook body to every instance at the same moment, as duplicates would come."""
    headers = {"X-API-Key": cluster.config.credentials.webhook_secret}
    async with httpx.AsyncClient(timeout=30) as client:
        replies = await asyncio.gather(
            *(client.post(url, json=body, headers=headers) for url in cluster.webhook_urls)
        )
    assert [reply.status_code for reply in replies] == [200] * len(replies)
    return [reply.json() for reply in replies]


@pytest.mark.timeout(300)
async def test_a_webhook_posted_to_both_instances_at_once_is_delivered_once(
    cluster: Cluster,
    tracker_store: EventsTable,
    emulator: EmulatorControl,
) -> None:
    handoff = await start_handoff(cluster, tracker_store, 0, "twice")
    try:
        session = handoff.session
        first = await emulator.agent_message(handoff.conversation_id, text=f"{session} first")
        await handoff.home.wait_for_text(f"{session} first", timeout=60)
        delivery: Optional[Dict[str, Any]] = await wait_for(
            lambda: emulator.delivery_of_message(first["message"]["id"]),
            "the first agent message's webhook",
        )
        template = delivery["payload"]

        expected = []
        for n in range(10):
            text = f"{session} twice {n}"
            event, message_id = _fresh_copy(template["events"][0], text)
            answers = await post_to_every_instance(cluster, {**template, "events": [event]})
            # One instance applied it; the other found it already applied.
            assert sorted(answer["processed"] for answer in answers) == [0, 1], answers
            expected.append((text, message_id))

        # SunCo retrying the very first delivery on both instances changes nothing.
        answers = await post_to_every_instance(cluster, template)
        assert [answer["processed"] for answer in answers] == [0, 0]

        texts = [text for text, _ in expected]
        await handoff.home.wait_until(
            lambda got: sum((m.text or "").startswith(f"{session} twice") for m in got)
            >= len(texts),
            timeout=60,
        )
        await asyncio.sleep(1.0)
        assert [m.text for m in handoff.home.received][-len(texts) - 1 :] == [
            f"{session} first",
            *texts,
        ]
        bot_events = [e for e in tracker_store.events(session) if e.get("event") == "bot"]
        key = constants.EVENT_ZENDESK_MESSAGE_ID
        ids = [(event.get("metadata") or {}).get(key) for event in bot_events]
        for message_id in [first["message"]["id"], *(message_id for _, message_id in expected)]:
            assert ids.count(message_id) == 1
    finally:
        await handoff.close()


@pytest.mark.timeout(300)
async def test_two_instances_one_timer_one_firing(
    cluster: Cluster, tracker_store: EventsTable, clock_file: Path
) -> None:
    """Both instances find the handoff in PostgreSQL and see it due at the same moment; the
    lock store's lock lets one fire it, and the other finds it done."""
    handoff = await start_handoff(cluster, tracker_store, 0, "timer")
    try:
        mark = len(handoff.home.received)
        clock_file.write_text("601")
        await handoff.home.next_text(mark, contains="No agent is free yet", timeout=60)
        await wait_for(
            lambda: _offered(tracker_store, handoff.session), "the offer in the store", timeout=30
        )
        # Both instances' next rounds (once a second) find it done: nothing more arrives.
        await handoff.home.assert_silent(len(handoff.home.received), window=3.0)
        offers = [m for m in handoff.home.texts[mark:] if "No agent is free yet" in (m or "")]
        assert len(offers) == 1
        writes = [
            e
            for e in tracker_store.events(handoff.session)
            if e.get("event") == "slot" and e.get("name") == constants.SLOT_HANDOFF
        ]
        assert len(writes) == 2  # opened, offered: once
    finally:
        clock_file.write_text("0")
        await handoff.close()


def _offered(tracker_store: EventsTable, session: str) -> bool:
    handoff = tracker_store.handoff(session)
    return handoff is not None and handoff.agent_timeout_offered_at is not None
