"""Which conversations have a running handoff, as far as the tracker store can tell."""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Callable, Deque, Dict, Optional, Set, Tuple

from rasa.core.tracker_store import SQLTrackerStore, TrackerStore

from rasa_zendesk import clock
from rasa_zendesk.handoff import state, watch
from rasa_zendesk.monitoring.records import newest_row_id, record_of, sender_id_of, sql_events

logger = logging.getLogger(__name__)

#: How often a store without an events table is scanned whole for running handoffs.
RESCAN_SECONDS = 60.0
#: Longer than any transaction that writes a tracker takes to commit.
HORIZON_SECONDS = 10.0

#: Told of every handoff record the watchlist reads (sender id, record), in write order; the
#: channel's metrics count transitions from them. Records may be told again (re-reads).
RecordObserver = Callable[[str, state.Handoff], None]


class Watchlist:
    """Running handoffs by sender id (None: running, record not read yet)."""

    def __init__(self, store: TrackerStore, observe: Optional[RecordObserver] = None) -> None:
        self.store = store
        self.observe = observe
        self.running: Dict[str, Optional[state.Handoff]] = {}
        #: Conversations whose record changed since the last call: their deadline may be
        #: earlier now (a user who chose to keep waiting).
        self.changed: Set[str] = set()

    async def refresh(self) -> Dict[str, Optional[state.Handoff]]:
        """The running handoffs now, with what changed in the store since the last call."""
        self.changed = set()
        for sender_id in watch.take():
            self._seen_running(sender_id)
        await self._read_store()
        return self.running

    def _seen_running(self, sender_id: str) -> None:
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

    def __init__(self, store: SQLTrackerStore, observe: Optional[RecordObserver] = None) -> None:
        super().__init__(store, observe)
        self.settled_below = 0  # every row with a smaller id has been read for good
        self._newest_seen: Deque[Tuple[float, int]] = deque()

    def _seen_running(self, sender_id: str) -> None:
        # The events table says when the record changes; a turn alone changes nothing.
        self.running.setdefault(sender_id, None)

    async def _read_store(self) -> None:
        newest_id = newest_row_id(self.store)
        records: Dict[str, Optional[state.Handoff]] = {}  # the last record of each sender
        for stored in sql_events(self.store, self.settled_below):
            record = record_of(stored.event)
            records[stored.sender_id] = record
            if record is not None and self.observe is not None:
                self.observe(stored.sender_id, record)
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

    def __init__(self, store: TrackerStore, observe: Optional[RecordObserver] = None) -> None:
        super().__init__(store, observe)
        self._scanned_at = float("-inf")

    async def _read_store(self) -> None:
        if clock.now() - self._scanned_at < RESCAN_SECONDS:
            return
        self._scanned_at = clock.now()
        found: Set[str] = set()
        for key in await self.store.keys():
            sender_id = sender_id_of(self.store, key)
            tracker = await self.store.retrieve(sender_id)
            if tracker is not None and self.observe is not None:
                for event in tracker.events:
                    record = record_of(event)
                    if record is not None:
                        self.observe(sender_id, record)
            if tracker is not None and state.active(tracker.events) is not None:
                found.add(sender_id)
                self.running.setdefault(sender_id, None)
        logger.debug("Handoff timers: %d running handoffs found by a scan", len(found))


def watchlist_for(store: TrackerStore, observe: Optional[RecordObserver] = None) -> Watchlist:
    if isinstance(store, SQLTrackerStore):
        return SQLWatchlist(store, observe)
    return ScanningWatchlist(store, observe)
