"""Trackers of a Redis tracker store, replayed only when the stored conversation changed.

`RedisTrackerStore` keeps a conversation as one JSON value: every event of every session. Its
`retrieve` parses and replays all of it, and its `save` does that again for the stored tracker
before merging and writing it back. Here a cached tracker remembers how many stored events it
includes, the last of them, and a digest of the stored value:
- an unchanged value (the digest) is not parsed at all;
- a value that only grew (the remembered last event is still in its place) has only the new
  events replayed;
- the webhook's own events are appended to the stored JSON as they are, which is what `save`
  stores for them: `save` only ever appends events to what is stored.
A new session (`action_session_start`, where Rasa's `retrieve` cuts sessions) or any other
change makes the entry reload.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Union

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import (
    DialogueStateTracker,
    get_trackers_for_conversation_sessions,
)

from rasa_zendesk.channel.tracker_cache.base import Entry, TrackerCache, apply

#: A stored value as the Redis client returns it (text, with Rasa's client settings).
Raw = Union[str, bytes]


@dataclass
class StoredValue:
    """How much of the stored JSON value an entry includes."""

    count: int  # events
    last_event: Optional[Dict[str, Any]]
    digest: bytes  # of the whole value
    length: int  # of the whole value

    @classmethod
    def of(cls, raw: Raw, events: List[Dict[str, Any]]) -> StoredValue:
        return cls(len(events), events[-1] if events else None, _digest(raw), len(raw))

    def grown_into(self, events: List[Dict[str, Any]]) -> bool:
        """Whether `events` are these events with more after them."""
        if len(events) < self.count:
            return False
        return self.count == 0 or events[self.count - 1] == self.last_event


class RedisTrackerCache(TrackerCache[StoredValue]):
    """The recently used trackers of one `RedisTrackerStore`."""

    store: RedisTrackerStore
    # `offload` stays off: a Redis round trip is shorter than a hand-off to a worker thread.

    def _fetch(self, sender_id: str, entry: Optional[Entry[StoredValue]]) -> Optional[Raw]:
        return self.store.red.get(self._key(sender_id))

    def _refresh(
        self, sender_id: str, entry: Optional[Entry[StoredValue]], raw: Optional[Raw]
    ) -> Optional[Entry[StoredValue]]:
        if raw is None:
            return None
        if entry is not None and entry.position.digest == _digest(raw):
            return entry
        events = _events(raw)
        if entry is not None and entry.position.grown_into(events):
            added = events[entry.position.count :]
            if not any(_starts_session(event) for event in added):
                apply(entry.tracker, added)
                entry.stored_bytes += len(raw) - entry.position.length
                entry.position = StoredValue.of(raw, events)
                return entry
        return self._load(sender_id, raw, events)

    def _append(
        self, tracker: DialogueStateTracker, events: List[Event]
    ) -> Tuple[StoredValue, int]:
        key = self._key(tracker.sender_id)
        raw = self.store.red.get(key)
        if raw is None:  # expired meanwhile: what `save` would store
            stored: Dict[str, Any] = tracker.as_dialogue().as_dict()
        else:
            stored = json.loads(raw)
        added = [event.as_dict() for event in events]
        stored["events"].extend(added)
        value = json.dumps(stored)
        self.store.red.set(key, value, ex=self.store.record_exp or None)
        return StoredValue.of(value, stored["events"]), len(json.dumps(added))

    def _load(self, sender_id: str, raw: Raw, events: List[Dict[str, Any]]) -> Entry[StoredValue]:
        """The current session's tracker, as `RedisTrackerStore.retrieve` makes it."""
        tracker = self.store.deserialise_tracker(sender_id, raw)
        assert tracker is not None
        sessions = get_trackers_for_conversation_sessions(tracker)
        stored_bytes = len(raw)
        if len(sessions) > 1:
            tracker = sessions[-1]
            stored_bytes = len(json.dumps(events[len(events) - len(tracker.events) :]))
        return Entry(tracker, StoredValue.of(raw, events), stored_bytes)

    def _key(self, sender_id: str) -> str:
        return self.store.key_prefix + sender_id


def _events(raw: Raw) -> List[Dict[str, Any]]:
    return json.loads(raw).get("events") or []


def _starts_session(event: Dict[str, Any]) -> bool:
    return event.get("event") == "action" and event.get("name") == ACTION_SESSION_START_NAME


def _digest(raw: Raw) -> bytes:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    return hashlib.blake2b(data, digest_size=16).digest()
