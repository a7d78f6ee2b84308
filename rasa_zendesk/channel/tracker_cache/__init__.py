"""Trackers kept between webhooks, for the tracker stores whose reads can be made incremental.

A webhook that appends one agent message should not replay the whole conversation. For SQL and
Redis tracker stores, `cache_for` gives a cache that brings a tracker up to date from what was
stored since it last looked; every other store is read and written through Rasa (None).
"""

from __future__ import annotations

from typing import Any, Optional

from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore, TrackerStore

from rasa_zendesk.channel.tracker_cache.base import (
    DEFAULT_CACHE_MAX_BYTES,
    DEFAULT_CACHE_MAX_MB,
    DEFAULT_CACHE_SIZE,
    TrackerCache,
)
from rasa_zendesk.channel.tracker_cache.redis import RedisTrackerCache
from rasa_zendesk.channel.tracker_cache.sql import SQLTrackerCache

__all__ = [
    "DEFAULT_CACHE_MAX_BYTES",
    "DEFAULT_CACHE_MAX_MB",
    "DEFAULT_CACHE_SIZE",
    "TrackerCache",
    "cache_for",
]


def cache_for(
    store: TrackerStore, size: int, max_bytes: int = DEFAULT_CACHE_MAX_BYTES
) -> Optional[TrackerCache[Any]]:
    """A cache for `store` of at most `size` trackers taking at most `max_bytes` (estimated),
    or None when its kind has none or `size` is 0."""
    if size <= 0:
        return None
    if isinstance(store, SQLTrackerStore):
        return SQLTrackerCache(store, size, max_bytes)
    if isinstance(store, RedisTrackerStore):
        return RedisTrackerCache(store, size, max_bytes)
    return None
