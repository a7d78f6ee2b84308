"""`RedisSocketIOInput` across processes: an emit on one server reaches a socket held by another.

Two channel servers (`socketio_app.py`, separate processes) share one Redis; the test's socket.io
clients connect to one or the other.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from dataclasses import dataclass
from typing import Dict, Iterator, List

import httpx
import pytest
from rasa.core.run import create_http_input_channels
from redis.exceptions import RedisError

import rasa_zendesk
from demo.process import ManagedProcess
from demo.stack import REPO_ROOT
from rasa_zendesk.scaleout.socketio_redis import RedisSocketIOInput
from testkit.processes import free_ports, run_dir
from testkit.services import Redis
from testkit.socket_user import SocketUser

pytestmark = pytest.mark.scaleout


@dataclass
class ChannelServer:
    """One `socketio_app.py` process and where it listens."""

    process: ManagedProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_servers(redis: Redis, name: str, persistence: bool) -> List[ChannelServer]:
    directory = run_dir(f"scaleout-socketio-{name}")
    servers = []
    for index, port in enumerate(free_ports(2)):
        argv = [sys.executable, "-m", "testkit.socketio_app", "--port", str(port)]
        argv += ["--redis-url", redis.url(0)]
        if persistence:
            argv.append("--session-persistence")
        process = ManagedProcess(
            f"socketio-{index}",
            argv,
            env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
            cwd=REPO_ROOT,
            log_path=directory / f"socketio-{index}.log",
            ready_url=f"http://127.0.0.1:{port}/",
            startup_timeout=60,
        )
        servers.append(ChannelServer(process, port))
    try:
        for server in servers:
            server.process.start()
        for server in servers:
            server.process.wait_ready()
    except BaseException:
        stop(servers)
        raise
    return servers


def stop(servers: List[ChannelServer]) -> None:
    for server in servers:
        server.process.stop()


@pytest.fixture(scope="module")
def persistent(redis: Redis) -> Iterator[List[ChannelServer]]:
    """Two servers with session persistence (the sender id is the session id)."""
    servers = start_servers(redis, "persistent", persistence=True)
    yield servers
    stop(servers)


@pytest.fixture(scope="module")
def per_socket(redis: Redis) -> Iterator[List[ChannelServer]]:
    """Two servers without session persistence (the sender id is the socket id)."""
    servers = start_servers(redis, "per-socket", persistence=False)
    yield servers
    stop(servers)


async def post_send(server: ChannelServer, recipient_id: str, texts: List[str]) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        reply = await client.post(
            f"{server.url}/send", json={"recipient_id": recipient_id, "texts": texts}
        )
        reply.raise_for_status()


async def received(server: ChannelServer) -> List[Dict]:
    async with httpx.AsyncClient(timeout=10) as client:
        reply = await client.get(f"{server.url}/received")
        reply.raise_for_status()
        return reply.json()


@pytest.mark.timeout(60)
async def test_emit_on_one_server_reaches_a_socket_on_the_other(
    persistent: List[ChannelServer],
) -> None:
    a, b = persistent
    session = uuid.uuid4().hex
    user = await SocketUser(a.url, session).connect()
    try:
        texts = [f"agent says {i}" for i in range(30)]
        await post_send(b, session, texts)
        await user.wait_for_count(len(texts), timeout=10)
        await asyncio.sleep(0.3)  # anything extra would arrive now
        assert user.texts == texts  # each once, in order
    finally:
        await user.close()


@pytest.mark.timeout(60)
async def test_emit_reaches_the_session_on_both_servers_and_nobody_else(
    persistent: List[ChannelServer],
) -> None:
    a, b = persistent
    session, other_session = uuid.uuid4().hex, uuid.uuid4().hex
    on_a = await SocketUser(a.url, session).connect()
    on_b = await SocketUser(b.url, session).connect()
    other = await SocketUser(b.url, other_session).connect()
    try:
        await post_send(a, session, ["one", "two"])
        await on_a.wait_for_count(2, timeout=10)
        await on_b.wait_for_count(2, timeout=10)
        await asyncio.sleep(0.3)
        assert on_a.texts == ["one", "two"]
        assert on_b.texts == ["one", "two"]
        assert other.texts == []
    finally:
        for user in (on_a, on_b, other):
            await user.close()


@pytest.mark.timeout(60)
async def test_user_message_keeps_rasa_semantics_and_the_reply_crosses_servers(
    persistent: List[ChannelServer],
) -> None:
    """A message sent on B for a session whose socket is on A: sender id is the session id,
    metadata passes through, and the reply emitted by B reaches the socket on A."""
    a, b = persistent
    session = uuid.uuid4().hex
    holder = await SocketUser(a.url, session).connect()
    # A second connection on B that sends for the session without joining it.
    sender = SocketUser(b.url, session)
    await sender.connect(join=False)
    try:
        await sender.send("hello", metadata={"page": "faq"})
        reply = await holder.wait_for_text("echo:hello", timeout=10)
        assert reply.data == {"text": "echo:hello"}
        assert sender.texts == []
        messages = [m for m in await received(b) if m["sender_id"] == session]
        assert messages == [
            {
                "sender_id": session,
                "text": "hello",
                "input_channel": "socketio",
                "metadata": {"page": "faq"},
            }
        ]
        assert not [m for m in await received(a) if m["sender_id"] == session]
    finally:
        await holder.close()
        await sender.close()


@pytest.mark.timeout(60)
async def test_message_without_session_id_is_ignored_with_persistence(
    persistent: List[ChannelServer],
) -> None:
    a, _ = persistent
    user = SocketUser(a.url)
    await user.connect()
    try:
        await user.client.emit("user_uttered", {"message": "no session"})
        await asyncio.sleep(0.5)
        assert user.texts == []
        assert not [m for m in await received(a) if m["text"] == "no session"]
    finally:
        await user.close()


@pytest.mark.timeout(60)
async def test_without_persistence_the_socket_id_is_the_sender_and_reachable_from_the_other(
    per_socket: List[ChannelServer],
) -> None:
    a, b = per_socket
    user = await SocketUser(a.url).connect()
    try:
        await user.send("hi")
        await user.wait_for_text("echo:hi", timeout=10)
        (message,) = (m for m in await received(a) if m["text"] == "hi")
        socket_id = message["sender_id"]
        assert socket_id == user.client.get_sid()
        await post_send(b, socket_id, ["from b"])
        await user.wait_for_text("from b", timeout=10)
        assert user.texts == ["echo:hi", "from b"]
    finally:
        await user.close()


def test_redis_url_is_required_and_named() -> None:
    with pytest.raises(ValueError, match="redis_url"):
        RedisSocketIOInput.from_credentials({"session_persistence": True})


def test_rasa_loads_it_from_credentials_under_the_socketio_name(tmp_path, redis: Redis) -> None:
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        "rasa_zendesk.RedisSocketIOInput:\n"
        "  session_persistence: true\n"
        f"  redis_url: {redis.url(0)}\n"
        "  redis_channel: bot_a\n"
    )
    (channel,) = create_http_input_channels(None, str(credentials))
    assert isinstance(channel, rasa_zendesk.RedisSocketIOInput)
    assert channel.name() == "socketio"  # output_channel=latest finds it like Rasa's own
    assert channel.session_persistence is True
    assert channel.redis_channel == "bot_a"


@pytest.mark.timeout(30)
async def test_an_emit_that_redis_cannot_take_raises_instead_of_vanishing() -> None:
    """A webhook must not be acknowledged for a message that reached nobody."""
    (closed_port,) = free_ports(1)  # nothing listens there
    channel = RedisSocketIOInput.from_credentials(
        {"session_persistence": True, "redis_url": f"redis://127.0.0.1:{closed_port}/0"}
    )

    async def on_new_message(_: object) -> None:
        return None

    channel.blueprint(on_new_message)
    output = channel.get_output_channel()
    assert output is not None
    with pytest.raises(RedisError):
        await output.send_text_message("someone", "hello")
