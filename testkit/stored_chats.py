"""Conversations in real tracker stores, for the benchmarks that measure a store
(`bench_open_index`, `bench_tracker_cache`): the servers, Rasa's stores on them, and chats made
of the turns Rasa records (`testkit.action_calls`)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator, List, Optional

from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event

from rasa_zendesk import constants
from testkit.action_calls import bot, handoff_opened, session_started, user
from testkit.cluster import postgres_tracker_store
from testkit.services import Postgres, Redis, postgres_server, redis_server


@dataclass(frozen=True)
class StoreServers:
    """A PostgreSQL and a Redis server; each call gives a new store client, as each Rasa
    instance has its own."""

    postgres: Postgres
    redis: Redis

    def sql(self, domain: Optional[Domain] = None) -> SQLTrackerStore:
        return postgres_tracker_store(self.postgres, domain)

    def redis_store(self, domain: Optional[Domain] = None) -> RedisTrackerStore:
        return RedisTrackerStore(domain, host=self.redis.host, port=self.redis.port)


@contextlib.contextmanager
def store_servers() -> Iterator[StoreServers]:
    """PostgreSQL with fsync on (production settings: a store costs what it costs) and Redis."""
    with postgres_server(durable=True) as postgres, redis_server() as redis:
        yield StoreServers(postgres, redis)


def greeted(handoff_conversation: Optional[str] = None) -> List[Event]:
    """A short chat (hello, the bot's greeting); with a SunCo conversation id, then a request
    for a human and the escalation's record, waiting for an agent."""
    events = [*session_started(), *user("hello", "greet", 0.99), *bot("Hi! How can I help?")]
    if handoff_conversation is not None:
        events += [
            *user("I want a human", "human_handoff", 0.99),
            ActionExecuted(constants.ACTION_HANDOFF),
            *handoff_opened(handoff_conversation),
        ]
    return events


def padded(length: int) -> List[Event]:
    """A session of `length` events, of ordinary turns during a handoff."""
    return [*session_started(), *padding(length - 2)][:length]


def padding(count: int, channel: str = "socketio") -> List[Event]:
    """`count` events of ordinary turns during a handoff (the user's message, the relay, the
    agent's answer), to make a conversation as long as a long chat."""
    events: List[Event] = []
    turn = 0
    while len(events) < count:
        events += [
            *user(f"padding message {turn}", "inform", 0.99, channel=channel),
            ActionExecuted(constants.ACTION_RELAY),
            BotUttered(f"padding reply {turn}"),
        ]
        turn += 1
    return events[:count]
