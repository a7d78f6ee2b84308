"""Trackers of a SQL tracker store, kept up to date without reading the whole conversation.

`SQLTrackerStore.retrieve` reads every event of the session and replays it on each call. For a
webhook that appends one agent message, that replay is most of the work, and it grows with the
conversation. This cache keeps the trackers this Rasa instance used last, each with the id of
the last stored row it includes. Bringing one up to date reads only the rows stored after it:
what the bot or another Rasa instance added since. The webhook's own events are written as the
same rows `SQLTrackerStore.save` writes.

Why a cached tracker is the tracker `retrieve` would return:
- Every write of a conversation happens under the lock store's lock for its sender id (Rasa's
  turns, Rasa's HTTP API, this channel) and is committed before the lock is released. So one
  sender's rows become visible in id order, and a later read never finds an earlier gap filled.
- Reading, applying and writing are synchronous, as in Rasa's own SQL store, so no other
  coroutine sees a cached tracker half updated.
- A `session_started` row makes the entry reload, because `retrieve` returns that session only.
  A change of the domain (a new model) empties the cache, because its slots shape the trackers.
- A failure drops the entry, so the next read starts again from the store.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker

#: Conversations whose trackers one Rasa instance keeps. A tracker costs roughly 1 to 2 kB per
#: event in memory; a conversation that falls out is read whole again on its next webhook.
DEFAULT_CACHE_SIZE = 256


@dataclass
class _Entry:
    tracker: DialogueStateTracker
    last_row_id: int


class SQLTrackerCache:
    """The recently used trackers of one `SQLTrackerStore`, least recently used dropped first."""

    def __init__(self, store: SQLTrackerStore, size: int = DEFAULT_CACHE_SIZE) -> None:
        self.store = store
        self.size = size
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._domain = store.domain

    def __len__(self) -> int:
        return len(self._entries)

    def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The tracker of the current session (None if there is none), as `retrieve` gives it."""
        if self.store.domain is not self._domain:
            self._entries.clear()
            self._domain = self.store.domain
        entry = self._entries.pop(sender_id, None)
        with self.store.session_scope() as session:
            if entry is not None:
                rows = self._rows_after(session, sender_id, entry.last_row_id)
                if any(row.type_name == SessionStarted.type_name for row in rows):
                    entry = None
                else:
                    _apply(entry, rows)
            if entry is None:
                entry = self._load(session, sender_id)
        if entry is None:
            return None
        self._remember(sender_id, entry)
        return entry.tracker

    def record(self, tracker: DialogueStateTracker, events: Iterable[Event]) -> None:
        """Store `events` as `SQLTrackerStore.save` would, then add them to `tracker`.

        The caller holds the conversation's lock and got `tracker` from `retrieve`.
        """
        events = list(events)
        entry = self._entries.pop(tracker.sender_id, None)
        with self.store.session_scope() as session:
            rows = [self._row(tracker.sender_id, event) for event in events]
            session.add_all(rows)
            session.flush()
            last_row_id = max(row.id for row in rows)
            session.commit()
        for event in events:
            tracker.update(event)
        if entry is not None and entry.tracker is tracker:
            entry.last_row_id = last_row_id
            self._remember(tracker.sender_id, entry)

    def forget(self, sender_id: str) -> None:
        self._entries.pop(sender_id, None)

    def _remember(self, sender_id: str, entry: _Entry) -> None:
        if self.size <= 0:
            return
        self._entries[sender_id] = entry
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def _load(self, session: Any, sender_id: str) -> Optional[_Entry]:
        # Rasa's own query for "the events of the latest session" (no public form in 3.6).
        rows = self.store._event_query(session, sender_id, fetch_events_from_all_sessions=False)
        rows = rows.all()
        if not rows:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(row.data) for row in rows], self.store.domain.slots
        )
        return _Entry(tracker, rows[-1].id)

    def _rows_after(self, session: Any, sender_id: str, row_id: int) -> List[Any]:
        event = self.store.SQLEvent
        query = session.query(event).filter(event.sender_id == sender_id, event.id > row_id)
        return query.order_by(event.id).all()

    def _row(self, sender_id: str, event: Event) -> Any:
        """The row `SQLTrackerStore.save` stores for `event`."""
        data: Dict[str, Any] = event.as_dict()
        intent = data.get("parse_data", {}).get("intent", {}).get("name")
        return self.store.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=intent,
            action_name=data.get("name"),
            data=json.dumps(data),
        )


def _apply(entry: _Entry, rows: List[Any]) -> None:
    for row in rows:
        for event in deserialise_events([json.loads(row.data)]):
            entry.tracker.update(event)
        entry.last_row_id = row.id
