"""`AtomicRedisLockStore`: one holder per conversation even when several instances contend.

Each "instance" is a lock store object of its own running its own event loop in a thread, so
their Redis round trips interleave as two Rasa processes' would.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from typing import Dict, List

import pytest
import redis as redis_client
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from rasa_zendesk.scaleout.redis_lock_store import AtomicRedisLockStore
from testkit.services import Redis

pytestmark = pytest.mark.scaleout


def store(redis: Redis, **options: object) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(host=redis.host, port=redis.port, db=1, **options)


def contend(redis: Redis, instances: int, tasks: int, conversations: List[str]) -> Dict:
    """Run `tasks` critical sections per instance; count overlaps, errors and completions."""
    probe = redis_client.Redis(host=redis.host, port=redis.port, db=2)
    prefix = uuid.uuid4().hex
    errors: List[BaseException] = []

    async def instance() -> None:
        lock_store = store(redis, poll_interval=0.005)

        async def one(index: int) -> None:
            conversation = conversations[index % len(conversations)]
            async with lock_store.lock(conversation, wait_time_in_seconds=1):
                holder = f"{prefix}:holder:{conversation}"
                if not probe.set(holder, "x", nx=True):
                    probe.incr(f"{prefix}:overlaps")
                await asyncio.sleep(0.001)
                probe.delete(holder)
                probe.incr(f"{prefix}:done")

        results = await asyncio.gather(*(one(i) for i in range(tasks)), return_exceptions=True)
        errors.extend(r for r in results if isinstance(r, BaseException))

    threads = [threading.Thread(target=asyncio.run, args=(instance(),)) for _ in range(instances)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return {
        "overlaps": int(probe.get(f"{prefix}:overlaps") or 0),
        "done": int(probe.get(f"{prefix}:done") or 0),
        "errors": errors,
        "alive": [thread for thread in threads if thread.is_alive()],
    }


@pytest.mark.timeout(150)
def test_instances_never_hold_one_conversation_at_once(redis: Redis) -> None:
    conversations = [f"conversation-{uuid.uuid4().hex}" for _ in range(3)]
    outcome = contend(redis, instances=3, tasks=40, conversations=conversations)
    assert outcome["alive"] == []
    assert outcome["errors"] == []
    assert outcome["overlaps"] == 0
    assert outcome["done"] == 3 * 40
    # Every lock was retired: nothing is left behind in Redis.
    leftover = store(redis)
    assert all(leftover.get_lock(c) is None for c in conversations)


@pytest.mark.timeout(30)
async def test_a_waiter_gets_the_lock_soon_after_release_not_a_second_later(redis: Redis) -> None:
    lock_store = store(redis)  # default poll interval 0.05 s
    conversation = uuid.uuid4().hex
    released_at: List[float] = []

    async def holder() -> None:
        async with lock_store.lock(conversation):
            await asyncio.sleep(0.2)
            released_at.append(time.perf_counter())

    first = asyncio.create_task(holder())
    await asyncio.sleep(0.05)
    async with lock_store.lock(conversation):  # Rasa's default wait is 1 s per attempt
        waited = time.perf_counter() - released_at[0]
    await first
    assert waited < 0.3


def test_tickets_are_served_in_order(redis: Redis) -> None:
    lock_store = store(redis)
    conversation = uuid.uuid4().hex
    first = lock_store.issue_ticket(conversation)
    second = lock_store.issue_ticket(conversation)
    assert second == first + 1
    lock = lock_store.get_lock(conversation)
    assert lock is not None and not lock.is_locked(first) and lock.is_locked(second)
    lock_store.cleanup(conversation, first)
    lock = lock_store.get_lock(conversation)
    assert lock is not None and not lock.is_locked(second)
    lock_store.cleanup(conversation, second)
    assert lock_store.get_lock(conversation) is None


def test_rasa_builds_it_from_endpoints(redis: Redis) -> None:
    config = EndpointConfig(
        url=redis.host,
        type="rasa_zendesk.scaleout.redis_lock_store.AtomicRedisLockStore",
        port=str(redis.port),
        db=1,
        key_prefix="bot",
        poll_interval="0.02",
    )
    lock_store = LockStore.create(config)
    assert isinstance(lock_store, AtomicRedisLockStore)
    assert isinstance(lock_store, RedisLockStore)  # Rasa's multi-worker checks accept it
    assert lock_store.poll_interval == 0.02
    assert lock_store.key_prefix == "bot:lock:"
    ticket = lock_store.issue_ticket("someone")
    assert lock_store.red.exists("bot:lock:someone")
    lock_store.cleanup("someone", ticket)


def test_poll_interval_must_be_positive(redis: Redis) -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        store(redis, poll_interval=0)


def test_the_stored_lock_is_rasa_s_own_shape(redis: Redis) -> None:
    """Rasa's own `RedisLockStore` (another instance, `rasa shell`) reads and writes the same
    value: the tickets it draws follow ours, and ours follow its."""
    ours, rasas = store(redis), RedisLockStore(host=redis.host, port=redis.port, db=1)
    conversation = 'a/b "quoted" ' + uuid.uuid4().hex
    first = ours.issue_ticket(conversation, lock_lifetime=60)
    lock = rasas.get_lock(conversation)
    assert lock is not None and lock.conversation_id == conversation
    assert [t.number for t in lock.tickets] == [first]
    assert lock.tickets[0].expires == pytest.approx(time.time() + 60, abs=2)
    second = rasas.issue_ticket(conversation)
    third = ours.issue_ticket(conversation)
    assert (second, third) == (first + 1, first + 2)
    ours.finish_serving(conversation, second)
    lock = rasas.get_lock(conversation)
    assert lock is not None and [t.number for t in lock.tickets] == [first, third]
    ours.cleanup(conversation, first)
    ours.cleanup(conversation, third)
    assert rasas.get_lock(conversation) is None


def test_an_expired_ticket_no_longer_holds_the_lock(redis: Redis) -> None:
    """A holder that died (its ticket's lifetime passed) does not block the next one."""
    lock_store = store(redis)
    conversation = uuid.uuid4().hex
    dead = lock_store.issue_ticket(conversation, lock_lifetime=0.05)
    waiting = lock_store.issue_ticket(conversation)
    lock = lock_store.get_lock(conversation)
    assert lock is not None and lock.is_locked(waiting)
    deadline = time.monotonic() + 5
    while (
        time.monotonic() < deadline and lock_store.get_lock(conversation).tickets[0].number == dead
    ):
        lock_store.update_lock(conversation)
    lock = lock_store.get_lock(conversation)
    assert lock is not None and [t.number for t in lock.tickets] == [waiting]
    assert not lock.is_locked(waiting)
    lock_store.cleanup(conversation, waiting)
    assert lock_store.get_lock(conversation) is None


def count_traffic(lock_store: AtomicRedisLockStore) -> Dict[str, List[str]]:
    """What the store's script connection sends and reads from now on."""
    traffic: Dict[str, List[str]] = {"sent": [], "read": []}
    connection = lock_store.scripts._line()
    send, read = connection.send_command, connection.read_response

    def sent(*args: object, **options: object) -> object:
        traffic["sent"].append(str(args[0]))
        return send(*args, **options)

    def answered(*args: object, **options: object) -> object:
        traffic["read"].append("answer")
        return read(*args, **options)

    connection.send_command = sent  # type: ignore[method-assign]
    connection.read_response = answered  # type: ignore[method-assign]
    return traffic


def gone(probe: redis_client.Redis, key: str) -> bool:
    """Whether `key` leaves Redis within 5 s (a command sent on another connection is
    applied a moment later)."""
    deadline = time.monotonic() + 5
    while probe.exists(key):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


async def test_an_uncontended_lock_waits_for_one_round_trip(redis: Redis) -> None:
    """Draw-and-check is answered before the holder goes on; the retirement is sent and its
    answer read at the store's next call: what a webhook or a bot turn waits for when nobody
    queues is one round trip."""
    lock_store = store(redis)
    conversation = uuid.uuid4().hex
    key = lock_store.key_prefix + conversation
    async with lock_store.lock(conversation):  # loads the scripts once
        pass
    traffic = count_traffic(lock_store)
    probe = redis_client.Redis(host=redis.host, port=redis.port, db=1)
    async with lock_store.lock(conversation):
        held = {name: list(calls) for name, calls in traffic.items()}
        assert probe.exists(key)
    # The first cycle's retirement answer, then the draw's.
    assert held == {"sent": ["EVALSHA"], "read": ["answer", "answer"]}
    assert traffic == {"sent": ["EVALSHA", "EVALSHA"], "read": ["answer", "answer"]}
    assert gone(probe, key)  # retired without waiting for the answer
    assert lock_store.get_lock(conversation) is None  # reads the answer first
    assert traffic["read"] == ["answer", "answer", "answer"]


async def test_a_retirement_redis_lost_the_script_of_is_run_again(redis: Redis) -> None:
    """Redis restarted or flushed its scripts between the draw and the retirement: the unread
    answer says so, and the retirement runs again with the script's text."""
    lock_store = store(redis)
    conversation = uuid.uuid4().hex
    probe = redis_client.Redis(host=redis.host, port=redis.port, db=1)
    async with lock_store.lock(conversation):
        probe.script_flush()
    assert lock_store.get_lock(conversation) is None
    assert not probe.exists(lock_store.key_prefix + conversation)
    async with lock_store.lock(conversation):  # EVALSHA works again
        pass
    assert lock_store.get_lock(conversation) is None


async def test_a_retirement_redis_refused_is_logged(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    lock_store = store(redis)
    conversation = uuid.uuid4().hex
    probe = redis_client.Redis(host=redis.host, port=redis.port, db=1)
    async with lock_store.lock(conversation):
        probe.set(lock_store.key_prefix + conversation, "not json")  # the script cannot read it
    async with lock_store.lock(uuid.uuid4().hex):  # the next call reads the refusal
        pass
    assert "did not retire a ticket of the lock" in caplog.text
    probe.delete(lock_store.key_prefix + conversation)


async def test_a_connection_redis_closed_while_idle_is_made_again(redis: Redis) -> None:
    """Redis closed the store's idle connection (its `timeout`, a restart): the next lock is
    drawn on a new connection, as redis-py's pool would lend a checked one."""
    lock_store = store(redis)
    conversation = uuid.uuid4().hex
    probe = redis_client.Redis(host=redis.host, port=redis.port, db=1)
    async with lock_store.lock(conversation):
        pass
    lock_store.scripts.settle()  # the retirement's answer is read: the connection is idle
    probe.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
    async with lock_store.lock(conversation):
        assert lock_store.get_lock(conversation) is not None
    assert lock_store.get_lock(conversation) is None


async def test_a_connection_lost_before_a_retirement_s_answer_is_logged_and_made_again(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """The connection broke with a retirement's answer unread: whether Redis applied it is
    unknown, so it is logged (if not, the lock frees itself when the ticket expires; retiring
    it again could retire a newer lock's ticket of the same number), and the store goes on
    with a new connection."""
    lock_store = store(redis)
    conversation = uuid.uuid4().hex
    async with lock_store.lock(conversation):
        pass
    connection = lock_store.scripts._line()
    assert lock_store.scripts._unread is not None
    connection._sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
    async with lock_store.lock(uuid.uuid4().hex):  # served on a new connection
        pass
    assert "The connection to Redis failed after a ticket of the lock" in caplog.text
    assert lock_store.get_lock(conversation) is None  # here Redis had applied it
