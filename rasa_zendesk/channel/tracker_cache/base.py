"""What every tracker cache shares: the entries, least recently used dropped first, and the rules
that keep a cached tracker equal to the one the tracker store's `retrieve` would return.

- Every write of a conversation happens under the lock store's lock for its sender id (Rasa's
  turns, Rasa's HTTP API, this channel) and is finished before the lock is released. So what a
  store holds for a sender only grows at its end, and a read under that lock sees all of it.
- Reading, applying and writing are synchronous, as in Rasa's own stores, so no other coroutine
  sees a cached tracker half updated.
- A new conversation session makes the entry reload, because `retrieve` returns that session
  only. A change of the domain (a new model) empties the cache, because its slots shape the
  trackers. A failure drops the entry, so the next read starts again from the store.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Generic, Iterable, List, Optional, TypeVar

from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import Event, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker

#: Conversations whose trackers one Rasa instance keeps. A tracker costs roughly 1 to 2 kB per
#: event in memory; a conversation that falls out is read whole again on its next webhook.
DEFAULT_CACHE_SIZE = 256

Position = TypeVar("Position")


@dataclass
class Entry(Generic[Position]):
    """A cached tracker and how far into the stored conversation it reaches."""

    tracker: DialogueStateTracker
    position: Position


class TrackerCache(Generic[Position]):
    """Recently used trackers of one tracker store. Subclasses say how to read what was added
    since a position, how to load a tracker whole, and how to append events."""

    def __init__(self, store: TrackerStore, size: int = DEFAULT_CACHE_SIZE) -> None:
        assert size > 0, "no cache at all is `cache_for(store, 0)`: None"
        self.store = store
        self.size = size
        self._entries: OrderedDict[str, Entry[Position]] = OrderedDict()
        self._domain = store.domain

    def __len__(self) -> int:
        return len(self._entries)

    def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The tracker of the current session (None if there is none), as `retrieve` gives it."""
        if self.store.domain is not self._domain:
            self._entries.clear()
            self._domain = self.store.domain
        entry = self._refresh(sender_id, self._entries.pop(sender_id, None))
        if entry is None:
            return None
        self._remember(sender_id, entry)
        return entry.tracker

    def record(self, tracker: DialogueStateTracker, events: Iterable[Event]) -> None:
        """Store `events` as the store's `save` would, then add them to `tracker`.

        The caller holds the conversation's lock and got `tracker` from `retrieve`.
        """
        events = list(events)
        entry = self._entries.pop(tracker.sender_id, None)
        position = self._append(tracker, events)
        for event in events:
            tracker.update(event)
        if entry is not None and entry.tracker is tracker:
            entry.position = position
            self._remember(tracker.sender_id, entry)

    def _remember(self, sender_id: str, entry: Entry[Position]) -> None:
        self._entries[sender_id] = entry
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def _refresh(
        self, sender_id: str, entry: Optional[Entry[Position]]
    ) -> Optional[Entry[Position]]:
        """`entry` brought up to date, or the tracker loaded anew (None: no conversation)."""
        raise NotImplementedError

    def _append(self, tracker: DialogueStateTracker, events: List[Event]) -> Position:
        """Store `events` after the conversation's stored ones; the position after them."""
        raise NotImplementedError


def apply(tracker: DialogueStateTracker, serialized: Iterable[Any]) -> None:
    """Replay stored events (as dicts) onto a tracker, as the store's `retrieve` replays them."""
    for event in deserialise_events(list(serialized)):
        tracker.update(event)
