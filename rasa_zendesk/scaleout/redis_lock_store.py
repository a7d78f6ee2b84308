"""A Redis lock store that stays a lock when several Rasa instances share it.

Rasa 3.6's `RedisLockStore` updates a conversation's ticket lock with a plain GET, change in
Python, SET. Within one process that is safe (the calls block the event loop), but two instances
can both read the same lock and both write it back: both draw the same ticket and process the
conversation at the same time (two webhooks for one conversation are then both applied, or one
is lost), or one deletes the lock while the other queues on it (`LockError`, message dropped).
Here every read-change-write of a lock is one Redis transaction (WATCH/MULTI/EXEC, retried on
conflict), so tickets are issued and retired atomically across instances. Waiting for a ticket
polls every `poll_interval` seconds (default 0.05) instead of Rasa's 1 s, so a queued message
does not wait a second longer than it must.

endpoints.yml:

    lock_store:
      type: rasa_zendesk.scaleout.redis_lock_store.AtomicRedisLockStore
      url: localhost        # and every other RedisLockStore option (port, db, password, ...)
      port: 6379
      db: 1
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 0.05

# A change returns its result and the lock to store: None deletes it, UNCHANGED writes nothing.
UNCHANGED: Any = object()
_Change = Tuple[Any, Optional[TicketLock]]


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket operations are Redis transactions."""

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

    def _change(
        self, conversation_id: str, change: Callable[[Optional[TicketLock]], _Change]
    ) -> Any:
        """Apply `change` to the stored lock in one transaction; retried if another wrote it."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> Any:
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            result, changed = change(lock)
            if changed is UNCHANGED:
                return result
            pipe.multi()
            if changed is None:
                pipe.delete(key)
            else:
                pipe.set(key, changed.dumps())
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Draw the next ticket of the conversation's lock (created if missing), atomically."""

        def change(lock: Optional[TicketLock]) -> _Change:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._change(conversation_id, change)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets, atomically (a missing lock stays missing)."""

        def change(lock: Optional[TicketLock]) -> _Change:
            if lock is None:
                return None, UNCHANGED
            count = len(lock.tickets)
            lock.remove_expired_tickets()
            return None, lock if len(lock.tickets) != count else UNCHANGED

        self._change(conversation_id, change)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Retire a ticket, keeping the lock (Rasa's contract for this method)."""
        self._retire(conversation_id, ticket_number, keep_lock=True)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Retire a ticket and delete the lock if nobody waits, as one transaction."""
        self._retire(conversation_id, ticket_number, keep_lock=False)

    def _retire(self, conversation_id: str, ticket_number: int, keep_lock: bool) -> None:
        def change(lock: Optional[TicketLock]) -> _Change:
            if lock is None:
                return None, UNCHANGED
            lock.remove_ticket_for(ticket_number)
            return None, lock if keep_lock or lock.is_someone_waiting() else None

        self._change(conversation_id, change)

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        return await super()._acquire_lock(
            conversation_id, ticket, min(wait_time_in_seconds, self.poll_interval)
        )
