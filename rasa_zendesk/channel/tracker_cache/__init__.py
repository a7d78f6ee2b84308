"""Trackers kept between webhooks, for the tracker stores whose reads can be made incremental.

A webhook that appends one agent message should not replay the whole conversation. For SQL and
Redis tracker stores, `cache_for` gives a cache that brings a tracker up to date from what was
stored since it last looked; every other store is read and written through Rasa (None).
"""

from __future__ import annotations

from typing import Any, Optional

from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore, TrackerStore

from rasa_zendesk.channel.tracker_cache.base import DEFAULT_CACHE_SIZE, TrackerCache
from rasa_zendesk.channel.tracker_cache.redis import RedisTrackerCache
from rasa_zendesk.channel.tracker_cache.sql import SQLTrackerCache

__all__ = ["DEFAULT_CACHE_SIZE", "TrackerCache", "cache_for"]


def cache_for(store: TrackerStore, size: int) -> Optional[TrackerCache[Any]]:
    """A cache for `store`, or None when its kind has none or `size` is 0."""
    if size <= 0:
        return None
    if isinstance(store, SQLTrackerStore):
        return SQLTrackerCache(store, size)
    if isinstance(store, RedisTrackerStore):
        return RedisTrackerCache(store, size)
    return None
