"""A Redis lock store that stays a lock when several Rasa instances share it, in few round trips.

Rasa 3.6's `RedisLockStore` updates a conversation's ticket lock with a plain GET, change in
Python, SET. Within one process that is safe (the calls block the event loop), but two instances
can both read the same lock and both write it back: both draw the same ticket and process the
conversation at the same time (two webhooks for one conversation are then both applied, or one
is lost), or one deletes the lock while the other queues on it (`LockError`, message dropped).
Here every read-change-write of a lock is one Lua script, which Redis runs atomically: tickets
are issued and retired atomically across instances, each in one round trip (a WATCH/GET/MULTI
transaction took three, and Rasa's own lock cycle about eight). Drawing a ticket also answers
whether it is served now, so an uncontended `lock()` waits for one round trip: the draw. The
retirement at its end is sent without waiting for Redis's answer (the event loop would stand
still meanwhile: the calls are synchronous, as Rasa's are); the answer is read before anything
else this store asks Redis, so nothing the process reads can predate it, and a failure is
logged then (the lock frees itself when the ticket's lifetime ends).
Waiting for a ticket polls every `poll_interval` seconds (default 0.05) instead of Rasa's 1 s,
so a queued message does not wait a second longer than it must.

The stored value stays Rasa's own (`TicketLock.dumps`), and the times are the process's
`time.time()` as in Rasa's `TicketLock`, so Rasa's readers and this store agree on it.

endpoints.yml:

    lock_store:
      type: rasa_zendesk.scaleout.redis_lock_store.AtomicRedisLockStore
      url: localhost        # and every other RedisLockStore option (port, db, password, ...)
      port: 6379
      db: 1
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, List, Optional, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis import ConnectionPool
from redis.commands.core import Script
from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 0.05

# The lock's unexpired tickets (Rasa's `Ticket.has_expired`: now > expires), and the lock
# written back in `TicketLock.dumps`' shape (each ticket a JSON string inside the list).
_COMMON = """
local function live_tickets(raw, now)
  local tickets = {}
  if raw then
    for _, text in ipairs(cjson.decode(raw).tickets or {}) do
      local ticket = cjson.decode(text)
      if not (now > ticket.expires) then table.insert(tickets, ticket) end
    end
  end
  return tickets
end
local function store(key, conversation_id, tickets)
  local texts = {}
  for i, ticket in ipairs(tickets) do
    texts[i] = cjson.encode(cjson.encode({number = ticket.number, expires = ticket.expires}))
  end
  redis.call('SET', key, '{"conversation_id": ' .. cjson.encode(conversation_id)
    .. ', "tickets": [' .. table.concat(texts, ', ') .. ']}')
end
"""
# KEYS[1] the lock; ARGV conversation id, now, lifetime -> {ticket, 1 if it is served now}.
_ISSUE = (
    _COMMON
    + """
local tickets = live_tickets(redis.call('GET', KEYS[1]), tonumber(ARGV[2]))
local number = 0
if #tickets > 0 then number = tickets[#tickets].number + 1 end
table.insert(tickets, {number = number, expires = tonumber(ARGV[2]) + tonumber(ARGV[3])})
store(KEYS[1], ARGV[1], tickets)
if tickets[1].number == number then return {number, 1} end
return {number, 0}
"""
)
# KEYS[1] the lock; ARGV conversation id, now, ticket, "1" to keep a lock nobody waits on.
_RETIRE = (
    _COMMON
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local left = {}
for _, ticket in ipairs(live_tickets(raw, tonumber(ARGV[2]))) do
  if ticket.number ~= tonumber(ARGV[3]) then table.insert(left, ticket) end
end
if #left == 0 and ARGV[4] ~= '1' then
  redis.call('DEL', KEYS[1])
else
  store(KEYS[1], ARGV[1], left)
end
return 0
"""
)
# KEYS[1] the lock; ARGV conversation id, now: drop expired tickets (a missing lock stays so).
_PRUNE = (
    _COMMON
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local tickets = live_tickets(raw, tonumber(ARGV[2]))
if #tickets ~= #(cjson.decode(raw).tickets or {}) then store(KEYS[1], ARGV[1], tickets) end
return 0
"""
)


class ScriptLine:
    """The lock store's own connection to Redis for its scripts: an answer may be left to read
    later (`answer=False`), which a pooled connection cannot do. At most one is left unread:
    every call reads it first. Thread-safe (Rasa calls the lock store on its event loop only,
    but nothing here relies on that)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._connection: Optional[Connection] = None
        self._pid = 0
        self._guard = threading.Lock()
        #: The script call whose answer was not read yet: (script, key, args).
        self._unread: Optional[Tuple[Script, str, List[Any]]] = None

    def run(self, script: Script, key: str, args: List[Any], answer: bool = True) -> Any:
        """EVALSHA of `script` on `key` (EVAL where Redis lost the script: a restart, a
        SCRIPT FLUSH); its answer, or None when `answer` is False (read at the next call)."""
        with self._guard:
            connection = self._line()
            self._read_unread(connection)
            self._check(connection)
            try:
                connection.send_command("EVALSHA", script.sha, 1, key, *args)
                if not answer:
                    self._unread = (script, key, args)
                    return None
                return self._answer(connection, script, key, args)
            except (RedisConnectionError, RedisTimeoutError):
                self._unread = None
                connection.disconnect()
                raise

    def settle(self) -> None:
        """Read the answer left unread, so that what is asked next on another connection
        comes after it."""
        with self._guard:
            if self._unread is not None and self._connection is not None:
                self._read_unread(self._connection)

    def _line(self) -> Connection:
        if self._connection is None or self._pid != os.getpid():
            # A forked process must not share its parent's socket.
            self._connection, self._pid = self._pool.make_connection(), os.getpid()
            self._unread = None
        return self._connection

    @staticmethod
    def _check(connection: Connection) -> None:
        """With nothing left to read, anything to read means Redis closed the connection while
        it was idle (its `timeout`, a restart): it is made again at the next command, as
        redis-py's pool checks a connection before lending it. A failed command is not sent
        again: Redis may have applied it (a second ticket would wait for the first)."""
        try:
            if connection._sock is not None and connection.can_read():
                raise RedisConnectionError("Redis sent what nobody asked for")
        except (RedisConnectionError, OSError):
            connection.disconnect()

    @staticmethod
    def _answer(connection: Connection, script: Script, key: str, args: List[Any]) -> Any:
        """The answer to the EVALSHA just sent; where Redis lost the script, it runs again by
        its text (NOSCRIPT: it did not run at all)."""
        try:
            return connection.read_response()
        except NoScriptError:
            connection.send_command("EVAL", script.script, 1, key, *args)
            return connection.read_response()

    def _read_unread(self, connection: Connection) -> None:
        if self._unread is None:
            return
        script, key, args = self._unread
        self._unread = None
        try:
            self._answer(connection, script, key, args)
        except ResponseError as error:
            logger.error(
                "Redis did not retire a ticket of the lock %s (%s): the lock frees itself when "
                "the ticket expires",
                key,
                error,
            )
        except (RedisConnectionError, RedisTimeoutError) as error:
            connection.disconnect()
            logger.warning(
                "The connection to Redis failed after a ticket of the lock %s was retired (%s); "
                "if Redis did not get it, the lock frees itself when the ticket expires",
                key,
                error,
            )


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket operations are Redis Lua scripts."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        **kwargs: Any,
    ) -> None:
        """Build from `endpoints.yml` (Rasa passes `endpoint_config`) or from keywords."""
        if endpoint_config is not None:
            options = dict(endpoint_config.kwargs)
            poll_interval = float(options.pop("poll_interval", poll_interval))
            kwargs = {"host": endpoint_config.url or "localhost", **options, **kwargs}
        if poll_interval <= 0:
            raise ValueError("AtomicRedisLockStore: poll_interval must be positive")
        self.poll_interval = poll_interval
        super().__init__(**kwargs)
        self._issue = self.red.register_script(_ISSUE)
        self._retire_script = self.red.register_script(_RETIRE)
        self._prune = self.red.register_script(_PRUNE)
        self.scripts = ScriptLine(self.red.connection_pool)

    def _draw(self, conversation_id: str, lock_lifetime: float) -> Tuple[int, bool]:
        """A new ticket, and whether it is served at once (nobody before it)."""
        try:
            number, served = self.scripts.run(
                self._issue,
                self.key_prefix + conversation_id,
                [conversation_id, repr(time.time()), repr(float(lock_lifetime))],
            )
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        return int(number), bool(served)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Draw the next ticket of the conversation's lock (created if missing), atomically."""
        return self._draw(conversation_id, lock_lifetime)[0]

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Rasa's `LockStore.lock`, with the ticket drawn and checked in one round trip."""
        ticket, served = self._draw(conversation_id, lock_lifetime)
        try:
            if served:
                yield TicketLock(conversation_id)
            else:
                yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            # Not waited for: read before this store's next call to Redis (`ScriptLine`).
            self._retire(conversation_id, ticket, keep_lock=False, answer=False)

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        self.scripts.settle()
        return super().get_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.scripts.settle()
        super().save_lock(lock)

    def delete_lock(self, conversation_id: str) -> None:
        self.scripts.settle()
        super().delete_lock(conversation_id)

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets, atomically (a missing lock stays missing)."""
        self.scripts.run(
            self._prune, self.key_prefix + conversation_id, [conversation_id, repr(time.time())]
        )

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Retire a ticket, keeping the lock (Rasa's contract for this method)."""
        self._retire(conversation_id, ticket_number, keep_lock=True)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Retire a ticket and delete the lock if nobody waits, as one script."""
        self._retire(conversation_id, ticket_number, keep_lock=False)

    def _retire(
        self, conversation_id: str, ticket_number: int, keep_lock: bool, answer: bool = True
    ) -> None:
        self.scripts.run(
            self._retire_script,
            self.key_prefix + conversation_id,
            [conversation_id, repr(time.time()), int(ticket_number), "1" if keep_lock else "0"],
            answer=answer,
        )

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        return await super()._acquire_lock(
            conversation_id, ticket, min(wait_time_in_seconds, self.poll_interval)
        )
