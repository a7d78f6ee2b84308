"""Trackers of a SQL tracker store, kept up to date by reading only the rows stored since.

`SQLTrackerStore.retrieve` reads every event of the session and replays it on each call. For a
webhook that appends one agent message, that replay is most of the work, and it grows with the
conversation. Here a cached tracker remembers the id of the last row it includes; bringing it up
to date reads the rows after that id (what the bot or another Rasa instance added). The
webhook's own events are written as the same rows `SQLTrackerStore.save` writes.

Rows of one sender become visible in id order because their writers hold that sender's lock
(see `base`); a `session_started` row makes the entry reload.

The two statements of every webhook (the rows since, the insert) are SQLAlchemy Core, not ORM
sessions: the same SQL in fewer round trips (the read runs outside a transaction, so there is
no rollback when its connection goes back to the pool) and a fraction of the Python.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk.channel.tracker_cache.base import Entry, TrackerCache, apply

#: The id of the last stored row an entry includes.
RowId = int


class SQLTrackerCache(TrackerCache[RowId]):
    """The recently used trackers of one `SQLTrackerStore`."""

    store: SQLTrackerStore
    #: A commit waits for the disk (PostgreSQL's fsync), a read for another process: other
    #: conversations go on meanwhile.
    offload = True

    def _fetch(self, sender_id: str, entry: Optional[Entry[RowId]]) -> Optional[List[Any]]:
        return None if entry is None else self._rows_after(sender_id, entry.position)

    def _refresh(
        self, sender_id: str, entry: Optional[Entry[RowId]], rows: Optional[List[Any]]
    ) -> Optional[Entry[RowId]]:
        if entry is not None and rows is not None:
            if any(row.type_name == SessionStarted.type_name for row in rows):
                entry = None
            else:
                apply(entry.tracker, [json.loads(row.data) for row in rows])
                if rows:
                    entry.position = rows[-1].id
                    entry.stored_bytes += _length(rows)
        if entry is None:
            with self.store.session_scope() as session:
                entry = self._load(session, sender_id)
        return entry

    def _append(self, tracker: DialogueStateTracker, events: List[Event]) -> Tuple[RowId, int]:
        rows = [self._row(tracker.sender_id, event) for event in events]
        with self.store.engine.begin() as connection:
            last_row_id = max(
                connection.execute(self._insert, row).inserted_primary_key[0] for row in rows
            )
        return last_row_id, sum(len(row["data"]) for row in rows)

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

    def _rows_after(self, sender_id: str, row_id: RowId) -> List[Any]:
        with self._reader.connect() as connection:
            return connection.execute(self._since, {"sender": sender_id, "after": row_id}).all()

    # The two statements are built once: building one takes SQLAlchemy longer than running it
    # (a select built per call cost three times the prebuilt one's execution).

    @cached_property
    def _since(self) -> Any:
        """The rows of a sender after a row id, in order."""
        table = self.store.SQLEvent.__table__
        return (
            sa.select(table.c.id, table.c.type_name, table.c.data)
            .where(table.c.sender_id == sa.bindparam("sender"), table.c.id > sa.bindparam("after"))
            .order_by(table.c.id)
        )

    @cached_property
    def _insert(self) -> Any:
        return self.store.SQLEvent.__table__.insert()

    @cached_property
    def _reader(self) -> Any:
        """The store's engine, its connections in autocommit: a read opens no transaction."""
        return self.store.engine.execution_options(isolation_level="AUTOCOMMIT")

    def _row(self, sender_id: str, event: Event) -> Dict[str, Any]:
        """The row `SQLTrackerStore.save` stores for `event`, as column values."""
        data: Dict[str, Any] = event.as_dict()
        intent = data.get("parse_data", {}).get("intent", {}).get("name")
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": intent,
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }


def _length(rows: List[Any]) -> int:
    """The length of the rows' stored JSON (what the tracker's memory is estimated from)."""
    return sum(len(row.data) for row in rows)
