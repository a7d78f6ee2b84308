"""Trackers of a SQL tracker store, kept up to date by reading only the rows stored since.

`SQLTrackerStore.retrieve` reads every event of the session and replays it on each call. For a
webhook that appends one agent message, that replay is most of the work, and it grows with the
conversation. Here a cached tracker remembers the id of the last row it includes; bringing it up
to date reads the rows after that id (what the bot or another Rasa instance added). The
webhook's own events are written as the same rows `SQLTrackerStore.save` writes.

Rows of one sender become visible in id order because their writers hold that sender's lock
(see `base`); a `session_started` row makes the entry reload.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk.channel.tracker_cache.base import Entry, TrackerCache, apply

#: The id of the last stored row an entry includes.
RowId = int


class SQLTrackerCache(TrackerCache[RowId]):
    """The recently used trackers of one `SQLTrackerStore`."""

    store: SQLTrackerStore

    def _refresh(self, sender_id: str, entry: Optional[Entry[RowId]]) -> Optional[Entry[RowId]]:
        with self.store.session_scope() as session:
            if entry is not None:
                rows = self._rows_after(session, sender_id, entry.position)
                if any(row.type_name == SessionStarted.type_name for row in rows):
                    entry = None
                else:
                    apply(entry.tracker, [json.loads(row.data) for row in rows])
                    if rows:
                        entry.position = rows[-1].id
                        entry.stored_bytes += _length(rows)
            if entry is None:
                entry = self._load(session, sender_id)
        return entry

    def _append(self, tracker: DialogueStateTracker, events: List[Event]) -> Tuple[RowId, int]:
        with self.store.session_scope() as session:
            rows = [self._row(tracker.sender_id, event) for event in events]
            length = _length(rows)
            session.add_all(rows)
            session.flush()
            last_row_id = max(row.id for row in rows)
            session.commit()
        return last_row_id, length

    def _load(self, session: Any, sender_id: str) -> Optional[Entry[RowId]]:
        # Rasa's own query for "the events of the latest session" (no public form in 3.6).
        rows = self.store._event_query(session, sender_id, fetch_events_from_all_sessions=False)
        rows = rows.all()
        if not rows:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(row.data) for row in rows], self.store.domain.slots
        )
        return Entry(tracker, rows[-1].id, _length(rows))

    def _rows_after(self, session: Any, sender_id: str, row_id: RowId) -> List[Any]:
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


def _length(rows: List[Any]) -> int:
    """The length of the rows' stored JSON (what the tracker's memory is estimated from)."""
    return sum(len(row.data) for row in rows)
