"""The index of open handoffs, kept in a Redis tracker store next to the conversations.

Without it, the timers and the metrics of a Redis store would read every stored conversation
once a minute: a cost that grows with everyone who ever chatted. The index is one sorted set:
each conversation with an open handoff, scored by when it must be looked at next (its next
deadline, or the moment its record changed). A timer round reads the set (O(open handoffs)),
and only the entries that are new, changed or due are read in the tracker store.

Who writes it:
- the channel's write path, after it records a handoff record (`TrackerAccess.record`): the
  entry is scored now ("look at it"), so every instance re-reads that record at its next round;
- the Rasa server's policy, which sees the turn right after the action server's escalation
  (`rasa_zendesk.handoff.watch`): a new handoff enters at once, so every instance sees it
  within its next round (one second);
- the timers, which move an entry to its next deadline, or drop it once its record shows no
  running handoff (compare-and-set on the score: an entry touched meanwhile is left alone).

It is never the only copy of the truth: an entry is checked against the record before
anything is done with it, and a missing index (the first start after an upgrade, a flushed
Redis) or a lost entry is rebuilt from the records (`rebuild`): at once when the index has
never been built, then once every `REBUILD_SECONDS` by one instance of the deployment.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Set

from rasa.core.tracker_store import RedisTrackerStore, TrackerStore

from rasa_zendesk import clock
from rasa_zendesk.handoff import state
from rasa_zendesk.monitoring.records import BATCH, redis_conversations

logger = logging.getLogger(__name__)

#: The sorted set's key, followed by the store's key prefix; outside the store's own keys
#: (Rasa's `keys()` lists everything under its prefix).
INDEX_KEY = "rasa_zendesk:open_handoffs:"
#: Set (with this expiry) by the instance that rebuilds the index: while it exists, the index
#: is whole; when it expires, one instance rebuilds it again (a lost entry is found).
REBUILD_SECONDS = 3600.0
#: A Rasa turn saves its tracker within this after the policy noted its handoff: an entry
#: touched that recently is kept even if its record does not show a running handoff yet.
SAVED_WITHIN_SECONDS = 10.0

# Sets (or, with an empty new score, removes) an entry only if its score is still the one
# read: an entry touched by another writer meanwhile keeps its newer score.
_COMPARE_AND_SET = """
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if current and tonumber(current) == tonumber(ARGV[2]) then
  if ARGV[3] == '' then
    redis.call('ZREM', KEYS[1], ARGV[1])
  else
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  end
  return 1
end
return 0
"""


class OpenIndex:
    """The open handoffs of one Redis tracker store (see the module's docstring)."""

    def __init__(self, store: RedisTrackerStore) -> None:
        self.store = store
        self.red = store.red
        self.key = INDEX_KEY + store.key_prefix
        self.built_key = self.key + ":built"
        self._compare_and_set = self.red.register_script(_COMPARE_AND_SET)

    def touch(self, sender_id: str) -> None:
        """The conversation's handoff record may have changed: every instance looks at it."""
        self.red.zadd(self.key, {sender_id: clock.now()})

    def entries(self) -> Dict[str, float]:
        """Every open handoff's sender id and when to look at it next (clock time)."""
        pairs = self.red.zrange(self.key, 0, -1, withscores=True)
        return {_text(member): float(score) for member, score in pairs}

    def move(self, sender_id: str, seen: float, at: Optional[float]) -> bool:
        """Look at the entry next at `at` (None: drop it), if its score is still `seen`."""
        new = "" if at is None else repr(at)
        return bool(self._compare_and_set(keys=[self.key], args=[sender_id, repr(seen), new]))

    def claim_rebuild(self) -> bool:
        """Whether this instance is the one to rebuild the index now (none did lately)."""
        return bool(self.red.set(self.built_key, "1", nx=True, ex=int(REBUILD_SECONDS)))

    def rebuild(self) -> Set[str]:
        """Make the index agree with the records: add every conversation whose latest record
        is a running handoff (scored now: each is then checked against its record), drop the
        entries of `entries()` taken before that show none, unless touched since or lately
        (`SAVED_WITHIN_SECONDS`). Reads
        the whole store: run it off the event loop. The sender ids of the running handoffs."""
        before = self.entries()
        running: Set[str] = set()
        try:
            batch: Dict[str, float] = {}
            for sender_id, value in redis_conversations(self.store):
                if _runs(value):
                    running.add(sender_id)
                    if sender_id not in before:
                        batch[sender_id] = clock.now()
                if len(batch) >= BATCH:
                    self.red.zadd(self.key, batch)
                    batch = {}
            if batch:
                self.red.zadd(self.key, batch)
            lately = clock.now() - SAVED_WITHIN_SECONDS
            for sender_id, score in before.items():
                if sender_id not in running and not lately <= score <= clock.now():
                    self.move(sender_id, score, None)
        except Exception:
            self.red.delete(self.built_key)  # the next round tries again
            raise
        logger.info("Handoff index %s rebuilt: %d open handoffs", self.key, len(running))
        return running


def open_index_for(store: TrackerStore) -> Optional[OpenIndex]:
    """The index of a Redis tracker store; None for the others (SQL stores are read
    incrementally; other stores are scanned, see `channel.timers.watchlist`)."""
    return OpenIndex(store) if isinstance(store, RedisTrackerStore) else None


def _runs(value: Dict[str, Any]) -> bool:
    return state.active(value.get("events") or []) is not None


def _text(member: Any) -> str:
    return member.decode() if isinstance(member, bytes) else str(member)
