"""Reading and writing a Rasa conversation from a webhook: lock, durable dedupe, save.

Everything goes through the bot's own tracker store and lock store, so the state is the one
Rasa uses, shared by every Rasa instance and kept across restarts:
- the lock store's lock for the sender id, the lock Rasa holds while it handles a user
  message, serialises webhook events with each other and with the bot's own turns;
- whether a SunCo message or event was already applied is answered by the events in the
  tracker store (their metadata carries the SunCo ids), not by process memory.

Rasa's `Agent` wraps the tracker store in a `FailSafeTrackerStore`, which on a failure logs and
carries on with an in-memory store. That keeps a chat going, but a webhook must not be
acknowledged on that basis: the webhook uses the store it wraps, so a failure reaches the
webhook handler, which answers 5xx and SunCo retries.

With a SQL or Redis tracker store, trackers come from a cache that reads only what was stored
since this instance last looked, instead of the whole conversation (see `tracker_cache`). With
a Redis, MongoDB or DynamoDB store, a write of a handoff record also touches the index of open
handoffs
(`open_index`), so every instance looks at that record at its next timer round.
"""

from __future__ import annotations

import functools
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, AsyncIterator, List, Optional, Sequence, Set, Tuple

from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import FailSafeTrackerStore, TrackerStore
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.open_index import OpenIndex, open_index_for
from rasa_zendesk.channel.tracker_cache import (
    DEFAULT_CACHE_MAX_BYTES,
    DEFAULT_CACHE_SIZE,
    TrackerCache,
    cache_for,
)
from rasa_zendesk.handoff import state
from rasa_zendesk.handoff.event_folds import Fold, folded
from rasa_zendesk.handoff.state import Handoff

#: SunCo's clock and ours may differ; an event stamped this close to the start of the current
#: session may belong to the previous one.
CLOCK_SKEW_SECONDS = 300.0
#: How often a webhook waiting for the conversation's lock checks again (Rasa's default is 1 s;
#: an agent's message should not wait that long behind a bot turn).
LOCK_POLL_SECONDS = 0.1


def primary_tracker_store(store: TrackerStore) -> TrackerStore:
    """The store behind Rasa's fail-safe wrapper, whose failures must not be hidden here."""
    if isinstance(store, FailSafeTrackerStore):
        return store._tracker_store  # no public accessor in Rasa 3.6
    return store


class TrackerAccess:
    """The tracker store and lock store of the running bot, used the way a webhook needs."""

    def __init__(
        self,
        tracker_store: TrackerStore,
        lock_store: LockStore,
        cache_size: int = DEFAULT_CACHE_SIZE,
        cache_max_bytes: int = DEFAULT_CACHE_MAX_BYTES,
    ) -> None:
        self.store = primary_tracker_store(tracker_store)
        self.lock_store = lock_store
        self.cache: Optional[TrackerCache[Any]] = cache_for(self.store, cache_size, cache_max_bytes)
        #: The open handoffs of a Redis, MongoDB or DynamoDB store (None for the others).
        self.index: Optional[OpenIndex] = open_index_for(self.store)

    def serves(self, tracker_store: TrackerStore, lock_store: LockStore) -> bool:
        """Whether this is still the bot's storage (a new model brings a new `Agent`)."""
        return self.store is primary_tracker_store(tracker_store) and self.lock_store is lock_store

    @asynccontextmanager
    async def locked(self, sender_id: str) -> AsyncIterator[Optional[DialogueStateTracker]]:
        """The current tracker (None if the conversation does not exist), under the lock."""
        async with self.lock_store.lock(sender_id, wait_time_in_seconds=LOCK_POLL_SECONDS):
            if self.cache is not None:
                yield await self.cache.retrieve_locked(sender_id)
            else:
                yield await self.store.retrieve(sender_id)

    async def read(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The current tracker; without the lock, only for reading."""
        if self.cache is not None:
            return self.cache.retrieve(sender_id)
        return await self.store.retrieve(sender_id)

    async def record(self, tracker: DialogueStateTracker, events: List[Event]) -> None:
        """Add `events` to the conversation and store them; the caller holds the lock."""
        if self.cache is None:
            for event in events:
                tracker.update(event)
            await self.store.save(tracker)
        else:
            await self.cache.record(tracker, events)
            if self.store.event_broker is not None:
                # What `TrackerStore.save` streams: the new events (Rasa's own publisher).
                await self.store._stream_new_events(
                    self.store.event_broker, events, tracker.sender_id
                )
        if self.index is not None and any(_writes_record(event) for event in events):
            self.index.touch(tracker.sender_id)

    async def already_applied(
        self,
        tracker: DialogueStateTracker,
        key: str,
        value: str,
        created_at: Optional[datetime],
        conversation_id: Optional[str] = None,
    ) -> bool:
        """Whether an event of the conversation has `value` under `key` in its metadata.

        The tracker store returns the current session only. An event created before that
        session started (or of unknown age) may have been applied in an earlier one, so for
        it the whole conversation is searched, unless the SunCo conversation was opened in
        this session: nothing of it can be older (this saves a second full read of a long
        conversation on every webhook of a fresh session).
        """
        if has_metadata(tracker.events, key, value):
            return True
        if conversation_id and handoff_started_in_session(tracker.events, conversation_id):
            return False
        if not _may_predate_session(tracker, created_at):
            return False
        full = await self.store.retrieve_full_tracker(tracker.sender_id)
        return full is not None and has_metadata(full.events, key, value)

    async def connectors_of(
        self, tracker: DialogueStateTracker, conversation_id: str
    ) -> Set[Optional[str]]:
        """`state.connectors_of` in the whole conversation: the current session first, the
        earlier ones read only when it names the SunCo conversation nowhere."""
        found = state.connectors_of(tracker.events, conversation_id)
        if found or not any(isinstance(event, SessionStarted) for event in tracker.events):
            return found  # no session start: the store returned every event
        full = await self.store.retrieve_full_tracker(tracker.sender_id)
        return state.connectors_of(full.events, conversation_id) if full is not None else found


def _writes_record(event: Event) -> bool:
    return isinstance(event, SlotSet) and event.key == constants.SLOT_HANDOFF


def has_metadata(events: Sequence[Event], key: str, value: str) -> bool:
    """Whether an event has `value` under `key` in its metadata (a SunCo id)."""
    return value in folded(events, _values_under(key))


@functools.lru_cache(maxsize=None)
def _values_under(key: str) -> Fold[Set[str]]:
    """The ids under one metadata key, for `has_metadata` (one fold per key)."""

    def step(values: Set[str], event: Event) -> Set[str]:
        metadata = event.metadata
        if metadata:
            value = metadata.get(key)
            if isinstance(value, str):
                values.add(value)
        return values

    return Fold(set, step)


def handoff_started_in_session(events: Sequence[Event], conversation_id: str) -> bool:
    """Whether the escalation that opened this SunCo conversation ran in these events.

    The record must follow the escalation action: slots carried over into a new session are
    set right after `SessionStarted`, without it, and do not count.
    """
    return conversation_id in folded(events, _OPENED_IN_SESSION)[1]


def _opened(answer: Tuple[bool, Set[str]], event: Event) -> Tuple[bool, Set[str]]:
    escalated, conversations = answer
    if isinstance(event, ActionExecuted) and event.action_name == constants.ACTION_HANDOFF:
        return True, conversations
    if escalated and isinstance(event, SlotSet) and event.key == constants.SLOT_HANDOFF:
        handoff = Handoff.from_slot(event.value)
        if handoff is not None:
            conversations.add(handoff.conversation_id)
    return answer


#: Whether the escalation action ran, and the SunCo conversations of the records after it.
_OPENED_IN_SESSION: Fold[Tuple[bool, Set[str]]] = Fold(lambda: (False, set()), _opened)


def _may_predate_session(tracker: DialogueStateTracker, created_at: Optional[datetime]) -> bool:
    session_start = next(
        (e.timestamp for e in reversed(tracker.events) if isinstance(e, SessionStarted)), None
    )
    if session_start is None:
        return False  # no session start: the store returned every event
    if created_at is None:
        return True
    return created_at.timestamp() < session_start + CLOCK_SKEW_SECONDS
