"""What every tracker cache shares: the entries, least recently used dropped first, and the rules
that keep a cached tracker equal to the one the tracker store's `retrieve` would return.

- Every write of a conversation happens under the lock store's lock for its sender id (Rasa's
  turns, Rasa's HTTP API, this channel) and is finished before the lock is released. So what a
  store holds for a sender only grows at its end, and a read under that lock sees all of it.
- Applying is synchronous, on the event loop, so no other coroutine sees a cached tracker half
  updated. The lock holder's read and write of the store run in a worker thread where the
  cache `offload`s (SQL: a commit waits for the disk), with the entry out of the cache and the
  tracker untouched until they are done: other conversations go on meanwhile. A read without
  the lock stays synchronous.
- A new conversation session makes the entry reload, because `retrieve` returns that session
  only. A change of the domain (a new model) empties the cache, because its slots shape the
  trackers. A failure drops the entry, so the next read starts again from the store.

The cache is bounded twice: by the number of conversations (`size`) and by the memory their
trackers take (`max_bytes`), whichever is reached first. A tracker's memory is estimated from
the length of its stored events' JSON, which the caches read anyway (see
`estimated_memory`); a tracker larger than the whole budget is not kept at all.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, List, Optional, Tuple, TypeVar

from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import Event, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk.worker_threads import named_pool

logger = logging.getLogger(__name__)

#: Conversations whose trackers one Rasa instance keeps, at most. A conversation that falls out
#: is read whole again on its next webhook.
DEFAULT_CACHE_SIZE = 256
#: The memory those trackers may take, at most (estimated, in MiB).
DEFAULT_CACHE_MAX_MB = 64
DEFAULT_CACHE_MAX_BYTES = DEFAULT_CACHE_MAX_MB * 1024 * 1024

#: Bytes of memory per byte of stored JSON. Measured with tracemalloc on trackers rebuilt from a
#: conversation of the example bot with its trained model (NLU and policies running): 4.0 for
#: the whole conversation, 5.2 for its user messages alone (their parse data: intent ranking,
#: entities, tokens), 2.7 for action events, 2.8 for bot messages. About 1.7 kB per event.
#: `test_the_estimate_covers_what_a_tracker_takes` measures it again.
MEMORY_PER_STORED_BYTE = 5
#: A tracker without events: its slots, copied from the domain (5 kB with the example bot's).
TRACKER_BASE_BYTES = 8 * 1024

Position = TypeVar("Position")
T = TypeVar("T")

#: Threads for the tracker store's reads and writes (`rasa-zendesk-tracker-store-<n>`): as
#: many as the loop's default executor has on 2 cores, and apart from it, so that a store that
#: stopped answering holds these alone.
STORE_THREADS = 6


def estimated_memory(stored_bytes: int) -> int:
    """The memory a tracker takes whose stored events are `stored_bytes` of JSON."""
    return TRACKER_BASE_BYTES + MEMORY_PER_STORED_BYTE * stored_bytes


@dataclass
class Entry(Generic[Position]):
    """A cached tracker and how far into the stored conversation it reaches."""

    tracker: DialogueStateTracker
    position: Position
    #: Length of the stored JSON of the events the tracker holds.
    stored_bytes: int
    #: The memory the entry is counted for while it is in the cache.
    charged: int = 0


class TrackerCache(Generic[Position]):
    """Recently used trackers of one tracker store. Subclasses say how to read what was added
    since a position, how to load a tracker whole, and how to append events."""

    #: Whether the lock holder's reads and writes run in a worker thread (see `_io`).
    offload: bool = False

    def __init__(
        self,
        store: TrackerStore,
        size: int = DEFAULT_CACHE_SIZE,
        max_bytes: int = DEFAULT_CACHE_MAX_BYTES,
    ) -> None:
        assert size > 0, "no cache at all is `cache_for(store, 0)`: None"
        assert max_bytes > 0, "the memory budget must be positive"
        self.store = store
        self.size = size
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Entry[Position]] = OrderedDict()
        self._memory = 0
        self._domain = store.domain

    def __len__(self) -> int:
        return len(self._entries)

    def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The tracker of the current session (None if there is none), as `retrieve` gives it."""
        self._check_domain()
        entry = self._take(sender_id)
        return self._keep(sender_id, self._refresh(sender_id, entry, self._fetch(sender_id, entry)))

    async def retrieve_locked(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """`retrieve` for the holder of the conversation's lock: the store is read in a worker
        thread where the cache offloads, so other conversations go on meanwhile (the entry is
        out of the cache until the read is applied, on the event loop)."""
        self._check_domain()
        entry = self._take(sender_id)
        fetched = await self._io(self._fetch, sender_id, entry)
        return self._keep(sender_id, self._refresh(sender_id, entry, fetched))

    async def _io(self, call: Callable[..., T], *args: Any) -> T:
        """A read or write of the store: in one of the tracker store's own threads where it
        waits on the disk or the network long enough to pay for the hand-off (`offload`),
        else right here."""
        if self.offload:
            pool = named_pool("tracker-store", STORE_THREADS)
            return await pool.run(functools.partial(call, *args))
        return call(*args)

    def _check_domain(self) -> None:
        if self.store.domain is not self._domain:
            self._entries.clear()
            self._memory = 0
            self._domain = self.store.domain

    def _keep(
        self, sender_id: str, entry: Optional[Entry[Position]]
    ) -> Optional[DialogueStateTracker]:
        if entry is None:
            return None
        self._remember(sender_id, entry)
        return entry.tracker

    async def record(self, tracker: DialogueStateTracker, events: Iterable[Event]) -> None:
        """Store `events` as the store's `save` would, then add them to `tracker`.

        The caller holds the conversation's lock and got `tracker` from `retrieve`. Where the
        cache offloads, the write runs in a worker thread, so that the store's commit
        (PostgreSQL's fsync) does not stop every other conversation's webhook: the entry is
        out of the cache meanwhile, and the tracker gets the events on the event loop once
        they are stored.
        """
        events = list(events)
        entry = self._take(tracker.sender_id)
        position, stored_bytes = await self._io(self._append, tracker, events)
        for event in events:
            tracker.update(event)
        if entry is not None and entry.tracker is tracker:
            entry.position = position
            entry.stored_bytes += stored_bytes
            self._remember(tracker.sender_id, entry)

    def _take(self, sender_id: str) -> Optional[Entry[Position]]:
        entry = self._entries.pop(sender_id, None)
        if entry is not None:
            self._memory -= entry.charged
        return entry

    def _remember(self, sender_id: str, entry: Entry[Position]) -> None:
        self._take(sender_id)  # a reader without the lock may have loaded it while it was out
        entry.charged = estimated_memory(entry.stored_bytes)
        if entry.charged > self.max_bytes:
            logger.debug(
                "Tracker of %s not cached: about %d bytes, more than the cache's %d",
                sender_id,
                entry.charged,
                self.max_bytes,
            )
            return
        self._entries[sender_id] = entry
        self._memory += entry.charged
        # The entry just added is the newest and fits alone, so it is never the one dropped.
        while len(self._entries) > self.size or self._memory > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._memory -= dropped.charged

    def _fetch(self, sender_id: str, entry: Optional[Entry[Position]]) -> Any:
        """What the store holds that `entry` lacks (only reads: it may run in a worker thread,
        so it touches no tracker)."""
        raise NotImplementedError

    def _refresh(
        self, sender_id: str, entry: Optional[Entry[Position]], fetched: Any
    ) -> Optional[Entry[Position]]:
        """`entry` brought up to date with what `_fetch` found, or the tracker loaded anew
        (None: no conversation)."""
        raise NotImplementedError

    def _append(self, tracker: DialogueStateTracker, events: List[Event]) -> Tuple[Position, int]:
        """Store `events` after the conversation's stored ones: the position after them, and
        the length of their stored JSON."""
        raise NotImplementedError


def apply(tracker: DialogueStateTracker, serialized: Iterable[Any]) -> None:
    """Replay stored events (as dicts) onto a tracker, as the store's `retrieve` replays them."""
    for event in deserialise_events(list(serialized)):
        tracker.update(event)
