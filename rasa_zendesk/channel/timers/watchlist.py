"""Which conversations have a running handoff, as far as the tracker store can tell."""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from typing import Any, Deque, Dict, Optional, Set, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore

from rasa_zendesk import clock
from rasa_zendesk.constants import SLOT_HANDOFF
from rasa_zendesk.handoff import state, watch

logger = logging.getLogger(__name__)

#: How often a store without an events table is scanned whole for running handoffs.
RESCAN_SECONDS = 60.0
#: Longer than any transaction that writes a tracker takes to commit.
HORIZON_SECONDS = 10.0


class Watchlist:
    """Running handoffs by sender id (None: running, record not read yet)."""

    def __init__(self, store: TrackerStore) -> None:
        self.store = store
        self.running: Dict[str, Optional[state.Handoff]] = {}
        #: Conversations whose record changed since the last call: their deadline may be
        #: earlier now (a user who chose to keep waiting).
        self.changed: Set[str] = set()

    async def refresh(self) -> Dict[str, Optional[state.Handoff]]:
        """The running handoffs now, with what changed in the store since the last call."""
        self.changed = set()
        for sender_id in watch.take():
            self._noticed(sender_id)
        await self._read_store()
        return self.running

    def _noticed(self, sender_id: str) -> None:
        """This process saw the handoff run (its record may have changed)."""
        self.running.setdefault(sender_id, None)
        self.changed.add(sender_id)

    def forget(self, sender_id: str) -> None:
        self.running.pop(sender_id, None)

    async def _read_store(self) -> None:
        raise NotImplementedError


class SQLWatchlist(Watchlist):
    """Reads the handoff records in the events table: at start all of them (a restart finds
    every running handoff), then the rows of the last `HORIZON_SECONDS` on every call.

    Row ids are not committed in id order (two Rasa instances write at once), so a row below
    the newest id may still appear; rows are read again until every transaction that could
    hold one has long committed. Reading a record twice changes nothing: the newest wins.
    """

    store: SQLTrackerStore

    def __init__(self, store: SQLTrackerStore) -> None:
        super().__init__(store)
        self.settled_below = 0  # every row with a smaller id has been read for good
        self._newest_seen: Deque[Tuple[float, int]] = deque()

    def _noticed(self, sender_id: str) -> None:
        # The events table says when the record changes; a turn alone changes nothing.
        self.running.setdefault(sender_id, None)

    async def _read_store(self) -> None:
        table = self.store.SQLEvent
        with self.store.session_scope() as session:
            newest_id = int(session.query(sa.func.max(table.id)).scalar() or 0)
            rows = (
                session.query(table.sender_id, table.data)
                .filter(table.id > self.settled_below)
                .filter(table.type_name == "slot")
                .filter(table.data.like(f'%"{SLOT_HANDOFF}"%'))
                .order_by(table.id)
                .all()
            )
        records: Dict[str, Optional[state.Handoff]] = {}  # the last record of each sender
        for sender_id, data in rows:
            event = json.loads(data)
            if event.get("name") == SLOT_HANDOFF:
                records[sender_id] = state.Handoff.from_slot(event.get("value"))
        for sender_id, handoff in records.items():
            if handoff is not None and handoff.active:
                if self.running.get(sender_id) != handoff:
                    self.changed.add(sender_id)
                self.running[sender_id] = handoff
            else:
                self.running.pop(sender_id, None)
        now = time.monotonic()
        self._newest_seen.append((now, newest_id))
        while self._newest_seen and now - self._newest_seen[0][0] >= HORIZON_SECONDS:
            self.settled_below = max(self.settled_below, self._newest_seen.popleft()[1])


class ScanningWatchlist(Watchlist):
    """Any other store: every conversation is read once a minute (and at start), the ones
    this process noticed at once. Costly for a large store; a SQL store is the better home."""

    def __init__(self, store: TrackerStore) -> None:
        super().__init__(store)
        self._scanned_at = float("-inf")

    async def _read_store(self) -> None:
        if clock.now() - self._scanned_at < RESCAN_SECONDS:
            return
        self._scanned_at = clock.now()
        found: Set[str] = set()
        for key in await self.store.keys():
            sender_id = _sender_id(self.store, key)
            tracker = await self.store.retrieve(sender_id)
            if tracker is not None and state.active(tracker.events) is not None:
                found.add(sender_id)
                self.running.setdefault(sender_id, None)
        logger.debug("Handoff timers: %d running handoffs found by a scan", len(found))


def _sender_id(store: TrackerStore, key: Any) -> str:
    """The sender id of one of `store.keys()`: Rasa's Redis store gives its raw Redis keys
    (bytes, with the store's key prefix)."""
    text = key.decode() if isinstance(key, bytes) else str(key)
    prefix = getattr(store, "key_prefix", "")
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


def watchlist_for(store: TrackerStore) -> Watchlist:
    if isinstance(store, SQLTrackerStore):
        return SQLWatchlist(store)
    return ScanningWatchlist(store)
