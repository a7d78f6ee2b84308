"""What a test sees in a Rasa SQL tracker store: the `events` table, read straight from the
database (SQLite file or PostgreSQL), not through Rasa, so a test checks what Rasa stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import sqlalchemy

from rasa_zendesk.constants import EVENT_ZENDESK_MESSAGE_ID
from rasa_zendesk.handoff import state
from rasa_zendesk.handoff.state import Handoff


class EventsTable:
    """The stored events of Rasa's SQL tracker store, decoded, in stored order."""

    def __init__(self, url: str, path: Optional[Path] = None) -> None:
        self.engine = sqlalchemy.create_engine(url)
        self.path = path

    @classmethod
    def sqlite(cls, path: Path) -> EventsTable:
        """Read-only over a SQLite file, which may not exist yet (then it has no events)."""
        return cls(f"sqlite:///file:{path}?mode=ro&uri=true", path)

    def events(self, sender_id: str) -> List[Dict[str, Any]]:
        if self.path is not None and not self.path.exists():
            return []
        with self.engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender_id},
            ).fetchall()
        return [json.loads(data) for (data,) in rows]

    def analyze(self) -> None:
        """Fresh planner statistics of the table, as autovacuum keeps them in production:
        without them PostgreSQL may plan a session's read as a scan of every row, and a
        benchmark would measure when autovacuum happened to run."""
        with self.engine.begin() as connection:
            connection.execute(sqlalchemy.text("ANALYZE events"))

    def bot_events(self, sender_id: str) -> List[Dict[str, Any]]:
        return [event for event in self.events(sender_id) if event.get("event") == "bot"]

    def texts(self, sender_id: str, kind: str, prefix: str) -> List[str]:
        """Texts of the `user` or `bot` events that start with `prefix`, in stored order."""
        return [
            event["text"]
            for event in self.events(sender_id)
            if event.get("event") == kind and (event.get("text") or "").startswith(prefix)
        ]

    def slot(self, sender_id: str, name: str) -> Any:
        """The slot's latest value: its last `slot` event, unless a restart came after."""
        value = None
        for event in self.events(sender_id):
            if event.get("event") == "slot" and event.get("name") == name:
                value = event.get("value")
            elif event.get("event") == "restart":
                value = None
        return value

    def agent_texts(self, sender_id: str) -> List[str]:
        """The texts of the agent's messages the channel recorded for this sender."""
        return [
            event["text"]
            for event in self.bot_events(sender_id)
            if (event.get("metadata") or {}).get(EVENT_ZENDESK_MESSAGE_ID)
        ]

    def handoff(self, sender_id: str) -> Optional[Handoff]:
        """The handoff as the plugin's transitions last wrote it (see `handoff.state`)."""
        return state.current(self.events(sender_id))

    def close(self) -> None:
        self.engine.dispose()
