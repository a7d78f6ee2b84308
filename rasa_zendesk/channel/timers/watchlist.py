"""Which conversations have a running handoff, as far as the tracker store can tell: the
events table of a SQL store, the index of open handoffs of a Redis, MongoDB or DynamoDB store,
else (in memory) a scan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Callable, Deque, Dict, Optional, Set, Tuple

from rasa.core.tracker_store import SQLTrackerStore, TrackerStore

from rasa_zendesk import clock
from rasa_zendesk.channel.open_index import SAVED_WITHIN_SECONDS, OpenIndex
from rasa_zendesk.channel.tracker_access import TrackerAccess
from rasa_zendesk.handoff import state, watch
from rasa_zendesk.handoff.deadlines import Deadline, last_message_at, next_deadline
from rasa_zendesk.monitoring.records import newest_row_id, record_of, sender_id_of, sql_events
from rasa_zendesk.settings import HandoffSettings

logger = logging.getLogger(__name__)

#: How often a store without an events table is scanned whole for running handoffs.
RESCAN_SECONDS = 60.0
#: Longer than any transaction that writes a tracker takes to commit.
HORIZON_SECONDS = 10.0
#: The next look of an indexed handoff that has no timer (all timeouts off), in clock time:
#: only a change of its record (a touch) or a rebuild looks at it again.
NO_DEADLINE = float(2**52)

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

    def scheduled(self, sender_id: str, upcoming: Optional[Deadline]) -> None:
        """The timer of the conversation fired (or was not due yet, under the lock): its next
        deadline, None once no handoff runs."""
        if upcoming is None:
            self.forget(sender_id)

    def due(self) -> Dict[str, float]:
        """When each running handoff's timer is due, where the store says (else the loop
        learns it by firing)."""
        return {}

    def close(self) -> None:
        """The loop no longer uses this watchlist."""

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
    """Any other store (in memory, one of the bot's own, a DynamoDB store whose index cannot
    be made): every conversation is read once a minute (and at start), the ones this process
    noticed at once. Costly for a large store."""

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


class IndexWatchlist(Watchlist):
    """A Redis, MongoDB or DynamoDB store: its index of open handoffs (`channel.open_index`).
    A round reads the index; only the entries that are new, changed (touched) or gone are read
    in the store, lock-free, for their record (told to `observe`) and their next deadline,
    which goes back into the index. Every instance does the same, so each sees a new handoff
    at its next round. An entry whose record shows no running handoff is dropped, unless it
    was touched within `SAVED_WITHIN_SECONDS` (the turn that noted it may not have saved
    yet)."""

    def __init__(
        self,
        trackers: TrackerAccess,
        index: OpenIndex,
        settings: HandoffSettings,
        observe: Optional[RecordObserver] = None,
    ) -> None:
        super().__init__(trackers.store, observe)
        self.trackers = trackers
        self.index = index
        self.settings = settings
        self._seen: Dict[str, float] = {}  # entry -> its score when last looked at
        self._deadlines: Dict[str, float] = {}
        #: Entries whose record showed no running handoff, by their score then, and when to
        #: look again (real time): dropped if it still shows none.
        self._doubted: Dict[str, float] = {}
        self._look_again: Dict[str, float] = {}
        self._rebuilding: Optional[asyncio.Task[Set[str]]] = None
        self._rounds = 0
        watch.listen(index.touch)

    def close(self) -> None:
        watch.listen(None)
        if self._rebuilding is not None:
            self._rebuilding.cancel()

    def _seen_running(self, sender_id: str) -> None:
        # Noted while the index could not be told at once (`watch.note_running`).
        self.index.touch(sender_id)

    def due(self) -> Dict[str, float]:
        return self._deadlines

    def scheduled(self, sender_id: str, upcoming: Optional[Deadline]) -> None:
        seen = self._seen.get(sender_id)
        if seen is None:
            return
        at = upcoming.at if upcoming is not None else None
        moved = at != seen and self.index.move(sender_id, seen, at)
        if at is None:
            self._drop(sender_id)
            if not moved:
                self._seen[sender_id] = seen
            return
        self._deadlines[sender_id] = at
        if moved:
            self._seen[sender_id] = at

    async def _read_store(self) -> None:
        first = not self._rounds
        self._rounds += 1
        rebuilding = self._rebuild_now_and_then()
        if first and rebuilding is not None:
            await rebuilding  # this instance's first look: the index it starts from is whole
        entries = self.index.entries()
        real = time.monotonic()
        for sender_id, score in entries.items():
            again = self._look_again.get(sender_id)
            if self._seen.get(sender_id) != score:
                await self._look(sender_id, score, touched=True)
            elif again is not None and again <= real:
                await self._look(sender_id, score)
        for sender_id in [s for s in self._seen if s not in entries]:
            await self._gone(sender_id)

    async def _look(self, sender_id: str, score: float, touched: bool = False) -> None:
        """An entry new or changed: its record, and when to look at it next. A `touched` entry
        is looked at once more a little later: the policy notes a turn's change of the record
        (an end by a plugin action too) before Rasa saves that turn, so this look may still
        read the record as it was."""
        self._seen[sender_id] = score
        self._look_again.pop(sender_id, None)
        tracker = await self.trackers.read(sender_id)
        events = list(tracker.events) if tracker is not None else []
        record = state.current(events)
        if record is not None and self.observe is not None:
            self.observe(sender_id, record)
        if record is None or not record.active:
            doubted = self._doubted.get(sender_id) == score
            self._drop(sender_id)
            if not doubted:  # the turn that noted it may not have saved yet
                self._seen[sender_id] = score
                self._doubted[sender_id] = score
                self._look_again[sender_id] = time.monotonic() + SAVED_WITHIN_SECONDS
            elif not self.index.move(sender_id, score, None):
                self._seen[sender_id] = score  # touched meanwhile: looked at next round
            return
        self._doubted.pop(sender_id, None)
        if touched:
            self._look_again[sender_id] = time.monotonic() + SAVED_WITHIN_SECONDS
        if self.running.get(sender_id) != record:
            self.changed.add(sender_id)
        self.running[sender_id] = record
        deadline = next_deadline(record, self.settings, last_message_at(events))
        at = deadline.at if deadline is not None else NO_DEADLINE
        self._deadlines[sender_id] = at
        if at != score and self.index.move(sender_id, score, at):
            self._seen[sender_id] = at

    async def _gone(self, sender_id: str) -> None:
        """An entry another instance dropped: its handoff ended (the metrics count the end);
        one whose record still runs goes back in (a race; the record is the truth)."""
        self._drop(sender_id)
        tracker = await self.trackers.read(sender_id)
        record = state.current(tracker.events) if tracker is not None else None
        if record is not None and self.observe is not None:
            self.observe(sender_id, record)
        if record is not None and record.active:
            self.index.touch(sender_id)

    def _drop(self, sender_id: str) -> None:
        """Forget the entry here (the index is changed by the caller)."""
        self.forget(sender_id)
        for kept in (self._seen, self._deadlines, self._doubted, self._look_again):
            kept.pop(sender_id, None)

    def _rebuild_now_and_then(self) -> Optional[asyncio.Task[Set[str]]]:
        """The first round of a deployment without the index, then one instance once every
        `open_index.REBUILD_SECONDS`: the index rebuilt from the records, off the loop (the
        rounds go on meanwhile). The rebuild started now, if any."""
        task = self._rebuilding
        if task is not None and not task.done():
            return None
        if task is not None and not task.cancelled() and task.exception() is not None:
            logger.error("Handoff index: the rebuild failed", exc_info=task.exception())
        self._rebuilding = None
        if not self.index.claim_rebuild():
            return None
        self._rebuilding = asyncio.get_running_loop().create_task(
            asyncio.to_thread(self.index.rebuild)
        )
        return self._rebuilding


def watchlist_for(
    trackers: TrackerAccess, settings: HandoffSettings, observe: Optional[RecordObserver] = None
) -> Watchlist:
    store = trackers.store
    if isinstance(store, SQLTrackerStore):
        return SQLWatchlist(store, observe)
    if trackers.index is not None:
        return IndexWatchlist(trackers, trackers.index, settings, observe)
    return ScanningWatchlist(store, observe)
