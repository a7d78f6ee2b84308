"""Reading what a tracker store holds of handoffs, a batch at a time, never the whole store.

The timers' watchlist, the metrics and the report all ask the same thing of the store: which
handoff records were written, in the order they were written. With a SQL store that is the
events table's `slot` rows of the record (keyset pages by row id, so a million events never
sit in memory at once); with Redis it is each conversation's stored JSON value, found with
SCAN; any other store is asked conversation by conversation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, AsyncIterator, Dict, Iterator, List, Mapping, Optional, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore, TrackerStore

from rasa_zendesk.constants import SLOT_HANDOFF
from rasa_zendesk.handoff import state
from rasa_zendesk.handoff.events import field, kind

#: Rows (SQL) or conversations (Redis) read per round trip.
BATCH = 2000
#: The events a report counts besides the records: what the user and the agent wrote.
MESSAGE_KINDS = ("user", "bot")


@dataclass(frozen=True)
class StoredEvent:
    """One stored event of a conversation, decoded; `row_id` is the SQL row (0 elsewhere)."""

    sender_id: str
    event: Mapping[str, Any]
    row_id: int = 0


def record_of(event: Any) -> Optional[state.Handoff]:
    """The handoff record an event writes, if it writes one (either event shape)."""
    if kind(event) != "slot" or field(event, "name") != SLOT_HANDOFF:
        return None
    return state.Handoff.from_slot(field(event, "value"))


def newest_row_id(store: SQLTrackerStore) -> int:
    with store.session_scope() as session:
        return int(session.query(sa.func.max(store.SQLEvent.id)).scalar() or 0)


def sql_events(
    store: SQLTrackerStore,
    after_id: int = 0,
    *,
    messages: bool = False,
    since: Optional[float] = None,
    batch: int = BATCH,
) -> Iterator[StoredEvent]:
    """The record rows after `after_id` (and with `messages`, every user and bot event), in
    row order; `since`: only rows stored at or after that time (epoch seconds)."""
    table = store.SQLEvent
    records = sa.and_(table.type_name == "slot", table.data.like(f'%"{SLOT_HANDOFF}"%'))
    wanted = sa.or_(records, table.type_name.in_(MESSAGE_KINDS)) if messages else records
    last = after_id
    while True:
        with store.session_scope() as session:
            query = session.query(table.id, table.sender_id, table.data).filter(table.id > last)
            if since is not None:
                query = query.filter(table.timestamp >= since)
            rows = query.filter(wanted).order_by(table.id).limit(batch).all()
        for row_id, sender_id, data in rows:
            yield StoredEvent(sender_id, json.loads(data), row_id)
        if len(rows) < batch:
            return
        last = rows[-1][0]


def redis_conversations(
    store: RedisTrackerStore, batch: int = BATCH
) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """Each stored conversation of a Redis store (sender id, its JSON value), by SCAN."""
    prefix = store.key_prefix
    keys: List[Any] = []
    for key in store.red.scan_iter(match=f"{prefix}*", count=batch):
        keys.append(key)
        if len(keys) >= batch:
            yield from _redis_values(store, keys)
            keys = []
    yield from _redis_values(store, keys)


def _redis_values(
    store: RedisTrackerStore, keys: List[Any]
) -> Iterator[Tuple[str, Dict[str, Any]]]:
    if not keys:
        return
    for key, raw in zip(keys, store.red.mget(keys)):
        if raw is not None:
            yield sender_id_of(store, key), json.loads(raw)


def sender_id_of(store: TrackerStore, key: Any) -> str:
    """The sender id of a store key: Rasa's Redis store gives its raw Redis keys (bytes, with
    the store's key prefix)."""
    text = key.decode() if isinstance(key, bytes) else str(key)
    prefix = getattr(store, "key_prefix", "")
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


async def stored_events(
    store: TrackerStore, *, messages: bool = False, since: Optional[float] = None
) -> AsyncIterator[StoredEvent]:
    """Every record (and with `messages`, user and bot event) in the store, each
    conversation's in the order written; `since` skips what was stored before it."""
    if isinstance(store, SQLTrackerStore):
        for stored in sql_events(store, messages=messages, since=since):
            yield stored
        return
    if isinstance(store, RedisTrackerStore):
        for stored in _from_conversations(redis_conversations(store), messages, since):
            yield stored
        return
    for key in await store.keys():  # any other store: one conversation at a time
        sender_id = sender_id_of(store, key)
        tracker = await store.retrieve_full_tracker(sender_id)
        if tracker is not None:
            value = {"events": [event.as_dict() for event in tracker.events]}
            for stored in _from_conversations(iter([(sender_id, value)]), messages, since):
                yield stored


def _from_conversations(
    conversations: Iterator[Tuple[str, Dict[str, Any]]], messages: bool, since: Optional[float]
) -> Iterator[StoredEvent]:
    for sender_id, value in conversations:
        for event in value.get("events") or []:
            if since is not None and (event.get("timestamp") or 0) < since:
                continue
            if record_of(event) is not None or (messages and event.get("event") in MESSAGE_KINDS):
                yield StoredEvent(sender_id, event)
