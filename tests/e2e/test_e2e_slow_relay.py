"""No action outlives the conversation's lock (issue 21, item 10), with real processes.

A user sends a file from a host that trickles it (a byte every quarter second, so no single
read ever times out) while an agent answers. Rasa holds the conversation's lock while the relay
runs, for at most `TICKET_LOCK_LIFETIME` (12 s here); the relay's total deadline
(`ZENDESK_ACTION_DEADLINE`, 6 s here) gives the file up well before that ("it took too long"),
so the agent's webhook, which waited for the lock, writes after the relay, not beside it: the
agent's message is stored and shown once, and so is everything the relay stored. Without the
deadline the download would run 50 s, the lock would expire at 12 s, and the webhook's write
and the relay's save would race (SQL: Rasa's save skips the rows it thinks stored; Redis: its
SET overwrites). One stack per tracker store: SQLite, and Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
import redis as redis_client
import yaml

from demo.stack import DemoStack
from rasa_zendesk import constants
from rasa_zendesk.actions import user_files
from rasa_zendesk.handoff import state
from testkit.emulator_control import wait_for
from testkit.events_table import EventsTable
from testkit.processes import running, stack_config
from testkit.services import Redis, redis_server
from testkit.stack_users import STARTED, emulator_of, web_chat_user

pytestmark = pytest.mark.e2e

AGENT_TEXT = "Thanks, I am looking at your report now."
FILE_BYTES = 200
BYTE_EVERY = 0.25  # seconds: the whole file would take 50 s
ENV = {"ZENDESK_ACTION_DEADLINE": "6", "TICKET_LOCK_LIFETIME": "12"}


class TricklingHost(ThreadingHTTPServer):
    """A user's file host on loopback that sends a file one byte at a time; `asked` is set
    when the relay starts downloading."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Trickle)
        self.asked = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> TricklingHost:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class _Trickle(BaseHTTPRequestHandler):
    server: TricklingHost

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.asked.set()
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", str(FILE_BYTES))
        self.end_headers()
        try:
            for _ in range(FILE_BYTES):
                if self.server.stopping.wait(BYTE_EVERY):
                    return
                self.wfile.write(b"%")
                self.wfile.flush()
        except OSError:  # the relay gave up and hung up
            return


class RedisTrackerStack(DemoStack):
    """The stack with Rasa's Redis tracker store instead of SQLite."""

    def __init__(self, config: Any, redis: Redis) -> None:
        self.redis = redis
        super().__init__(config)

    def write_endpoints(self) -> None:
        super().write_endpoints()
        endpoints = yaml.safe_load(self.endpoints_path.read_text())
        endpoints["tracker_store"] = {
            "type": "redis",
            "url": self.redis.host,
            "port": self.redis.port,
            "db": 0,
        }
        self.endpoints_path.write_text(yaml.safe_dump(endpoints, sort_keys=False))


@pytest.fixture
def trickling_host() -> Iterator[TricklingHost]:
    with TricklingHost() as host:
        yield host


def _env(host: TricklingHost) -> Dict[str, str]:
    return {**ENV, "ZENDESK_USER_FILE_HOSTS": host.host}


async def slow_relay_while_the_agent_answers(
    stack: DemoStack, host: TricklingHost, events_of: Callable[[str], List[Dict[str, Any]]]
) -> None:
    async with emulator_of(stack) as emulator, web_chat_user(stack) as user:
        await user.next_text(await user.say("I want to talk to a human"), contains=STARTED)
        conversation = await wait_for(
            lambda: emulator.handed_off_conversation(user.session_id), "the agents have it"
        )
        mark = len(user.received)
        attachment = {"type": "file", "url": f"http://{host.host}/u/report.pdf"}
        await user.client.emit(
            "user_uttered",
            {
                "message": "here is my report",
                "session_id": user.session_id,
                "customData": {"attachments": [{**attachment, "name": "report.pdf"}]},
            },
        )
        await asyncio.to_thread(host.asked.wait, 30)
        assert host.asked.is_set(), "the relay never asked for the file"
        started = time.monotonic()
        await emulator.agent_message(conversation["id"], text=AGENT_TEXT, agentName="Alex")

        await user.next_text(mark, contains=AGENT_TEXT, timeout=30)
        refused = await user.next_text(mark, contains="report.pdf", timeout=30)
        assert user_files.TOO_SLOW in refused
        # Within the relay's deadline, far from the 50 s the file would take.
        assert time.monotonic() - started < 20

        def settled() -> bool:
            events = events_of(user.session_id)
            handoff = state.current(events)
            return (
                handoff is not None
                and handoff.handled_through is not None
                and any(e.get("text") == AGENT_TEXT for e in events)
            )

        await wait_for(settled, "the relay's record and the agent's message are stored")
        await emulator.wait_idle()

        events = events_of(user.session_id)
        agent = [e for e in events if e.get("event") == "bot" and e.get("text") == AGENT_TEXT]
        assert len(agent) == 1, "the agent's message is stored once"
        assert [m.text for m in user.received].count(AGENT_TEXT) == 1, "and shown once"
        users = [e for e in events if e.get("event") == "user"]
        assert [e["text"] for e in users].count("here is my report") == 1
        handoff = state.current(events)
        assert handoff is not None and handoff.state == state.AGENT_JOINED  # both writes kept
        assert handoff.handled_through == users[-1]["message_id"]
        relays = [e for e in events if e.get("name") == constants.ACTION_RELAY]
        assert len(relays) == 1
        bot_texts = [e.get("text") or "" for e in events if e.get("event") == "bot"]
        assert sum("report.pdf" in text for text in bot_texts) == 1
        at_sunco = await emulator.user_texts(user.session_id)
        assert at_sunco.count("here is my report") == 1


@pytest.mark.timeout(240)
async def test_a_slow_file_never_outlives_the_lock_on_sql(
    trained_model: Path, trickling_host: TricklingHost
) -> None:
    with running(
        stack_config(trained_model, "slow-relay-sql", extra_env=_env(trickling_host))
    ) as stack:
        assert stack.config.tracker_db is not None
        table = EventsTable.sqlite(stack.config.tracker_db)
        try:
            await slow_relay_while_the_agent_answers(stack, trickling_host, table.events)
        finally:
            table.close()


@pytest.mark.timeout(240)
async def test_a_slow_file_never_outlives_the_lock_on_redis(
    trained_model: Path, trickling_host: TricklingHost
) -> None:
    with redis_server() as redis:
        config = stack_config(trained_model, "slow-relay-redis", extra_env=_env(trickling_host))
        config.tracker_db = None
        probe = redis_client.Redis(host=redis.host, port=redis.port, db=0)

        def events_of(sender_id: str) -> List[Dict[str, Any]]:
            stored = probe.get(f"tracker:{sender_id}")
            return json.loads(stored)["events"] if stored else []

        with contextlib.closing(probe), _started(RedisTrackerStack(config, redis)) as stack:
            await slow_relay_while_the_agent_answers(stack, trickling_host, events_of)


@contextlib.contextmanager
def _started(stack: DemoStack) -> Iterator[DemoStack]:
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
