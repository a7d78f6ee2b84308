"""The index of open handoffs, kept in a Redis, MongoDB or DynamoDB tracker store next to the
conversations.

Without it, the timers and the metrics of such a store would read every stored conversation
once a minute: a cost that grows with everyone who ever chatted. The index holds each
conversation with an open handoff, scored by when it must be looked at next (its next
deadline, or the moment its record changed): a sorted set in Redis, a collection in MongoDB,
a table in DynamoDB. A timer round reads the index (O(open handoffs)), and only the entries
that are new, changed or due are read in the tracker store. Other stores (in memory) are
scanned once a minute (`channel.timers.watchlist.ScanningWatchlist`).

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
from decimal import Decimal
from typing import Any, Dict, Iterator, Optional, Set, Tuple

from rasa.core.tracker_store import (
    DynamoTrackerStore,
    MongoTrackerStore,
    RedisTrackerStore,
    TrackerStore,
)
from rasa.core.utils import replace_decimals_with_floats

from rasa_zendesk import clock
from rasa_zendesk.handoff import state
from rasa_zendesk.monitoring.records import BATCH, redis_conversations

logger = logging.getLogger(__name__)

#: Redis: the sorted set's key, followed by the store's key prefix; outside the store's own
#: keys (Rasa's `keys()` lists everything under its prefix). MongoDB (DynamoDB): the
#: collection's (table's) name, followed by the conversations' collection (table) name.
INDEX_KEY = "rasa_zendesk:open_handoffs:"
INDEX_COLLECTION = "rasa_zendesk_open_handoffs_"
#: DynamoDB: the table of the rebuilds' claims, one item per tracker table (its name cannot be
#: an index table's, whatever the tracker table is called).
BUILT_TABLE = "rasa_zendesk_open_handoffs.built"
#: Set (with this expiry) by the instance that rebuilds the index: while it holds, the index
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
    """The open handoffs of one tracker store (see the module's docstring)."""

    def touch(self, sender_id: str) -> None:
        """The conversation's handoff record may have changed: every instance looks at it."""
        raise NotImplementedError

    def entries(self) -> Dict[str, float]:
        """Every open handoff's sender id and when to look at it next (clock time)."""
        raise NotImplementedError

    def move(self, sender_id: str, seen: float, at: Optional[float]) -> bool:
        """Look at the entry next at `at` (None: drop it), if its score is still `seen`."""
        raise NotImplementedError

    def claim_rebuild(self) -> bool:
        """Whether this instance is the one to rebuild the index now (none did lately)."""
        raise NotImplementedError

    def _unclaim(self) -> None:
        """The rebuild failed: the next round tries again."""
        raise NotImplementedError

    def _add(self, found: Dict[str, float]) -> None:
        raise NotImplementedError

    def _conversations(self) -> Iterator[Tuple[str, Dict[str, Any]]]:
        """Every stored conversation: its sender id and its value (with `events`)."""
        raise NotImplementedError

    def rebuild(self) -> Set[str]:
        """Make the index agree with the records: add every conversation whose latest record
        is a running handoff (scored now: each is then checked against its record), drop the
        entries of `entries()` taken before that show none, unless touched since or lately
        (`SAVED_WITHIN_SECONDS`). Reads the whole store: run it off the event loop. The
        sender ids of the running handoffs."""
        before = self.entries()
        running: Set[str] = set()
        try:
            batch: Dict[str, float] = {}
            for sender_id, value in self._conversations():
                if _runs(value):
                    running.add(sender_id)
                    if sender_id not in before:
                        batch[sender_id] = clock.now()
                if len(batch) >= BATCH:
                    self._add(batch)
                    batch = {}
            if batch:
                self._add(batch)
            lately = clock.now() - SAVED_WITHIN_SECONDS
            for sender_id, score in before.items():
                if sender_id not in running and not lately <= score <= clock.now():
                    self.move(sender_id, score, None)
        except Exception:
            self._unclaim()
            raise
        logger.info("Handoff index rebuilt: %d open handoffs", len(running))
        return running


class RedisOpenIndex(OpenIndex):
    """A sorted set next to the Redis store's conversations."""

    def __init__(self, store: RedisTrackerStore) -> None:
        self.store = store
        self.red = store.red
        self.key = INDEX_KEY + store.key_prefix
        self.built_key = self.key + ":built"
        self._compare_and_set = self.red.register_script(_COMPARE_AND_SET)

    def touch(self, sender_id: str) -> None:
        self.red.zadd(self.key, {sender_id: clock.now()})

    def entries(self) -> Dict[str, float]:
        pairs = self.red.zrange(self.key, 0, -1, withscores=True)
        return {_text(member): float(score) for member, score in pairs}

    def move(self, sender_id: str, seen: float, at: Optional[float]) -> bool:
        new = "" if at is None else repr(at)
        return bool(self._compare_and_set(keys=[self.key], args=[sender_id, repr(seen), new]))

    def claim_rebuild(self) -> bool:
        return bool(self.red.set(self.built_key, "1", nx=True, ex=int(REBUILD_SECONDS)))

    def _unclaim(self) -> None:
        self.red.delete(self.built_key)

    def _add(self, found: Dict[str, float]) -> None:
        self.red.zadd(self.key, found)

    def _conversations(self) -> Iterator[Tuple[str, Dict[str, Any]]]:
        return redis_conversations(self.store)


class MongoOpenIndex(OpenIndex):
    """A collection next to the MongoDB store's conversations: `{_id: sender id, at: when}`
    (compare-and-set is a filter on both); who rebuilds is a document of a second one."""

    def __init__(self, store: MongoTrackerStore) -> None:
        self.store = store
        self.entries_collection = store.db[INDEX_COLLECTION + store.collection]
        self.built = store.db[INDEX_COLLECTION + "built"]
        self.built_id = store.collection

    def touch(self, sender_id: str) -> None:
        self.entries_collection.update_one(
            {"_id": sender_id}, {"$set": {"at": clock.now()}}, upsert=True
        )

    def entries(self) -> Dict[str, float]:
        return {doc["_id"]: float(doc["at"]) for doc in self.entries_collection.find({})}

    def move(self, sender_id: str, seen: float, at: Optional[float]) -> bool:
        match = {"_id": sender_id, "at": seen}
        if at is None:
            return self.entries_collection.delete_one(match).deleted_count == 1
        return self.entries_collection.update_one(match, {"$set": {"at": at}}).matched_count == 1

    def claim_rebuild(self) -> bool:
        from pymongo.errors import DuplicateKeyError

        now = clock.now()
        try:  # an expired claim is taken over; a live one makes the upsert collide
            self.built.find_one_and_update(
                {"_id": self.built_id, "until": {"$lt": now}},
                {"$set": {"until": now + REBUILD_SECONDS}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    def _unclaim(self) -> None:
        self.built.delete_one({"_id": self.built_id})

    def _add(self, found: Dict[str, float]) -> None:
        for sender_id, at in found.items():
            self.entries_collection.update_one(
                {"_id": sender_id}, {"$setOnInsert": {"at": at}}, upsert=True
            )

    def _conversations(self) -> Iterator[Tuple[str, Dict[str, Any]]]:
        for doc in self.store.conversations.find({}, {"sender_id": 1, "events": 1}):
            yield doc["sender_id"], doc


class DynamoOpenIndex(OpenIndex):
    """A table next to the DynamoDB store's table: an item `{sender_id, at}` per open handoff
    (compare-and-set is a condition on `at`); who rebuilds is an item of a second table,
    `{tracker_table, until}`. Both are made as Rasa makes its own table, if missing."""

    def __init__(self, store: DynamoTrackerStore) -> None:
        self.store = store
        self.entries_table = _dynamo_table(store, INDEX_COLLECTION + store.table_name, "sender_id")
        self.built = _dynamo_table(store, BUILT_TABLE, "tracker_table")
        self.built_key = {"tracker_table": store.table_name}

    def touch(self, sender_id: str) -> None:
        self.entries_table.put_item(Item={"sender_id": sender_id, "at": _number(clock.now())})

    def entries(self) -> Dict[str, float]:
        # Strongly consistent: an entry another instance just wrote is seen at this round.
        items = _scan(self.entries_table, ConsistentRead=True)
        return {item["sender_id"]: float(item["at"]) for item in items}

    def move(self, sender_id: str, seen: float, at: Optional[float]) -> bool:
        change: Dict[str, Any] = {
            "Key": {"sender_id": sender_id},
            "ConditionExpression": "#at = :seen",
            "ExpressionAttributeNames": {"#at": "at"},
            "ExpressionAttributeValues": {":seen": _number(seen)},
        }
        if at is None:
            return _unless_condition_fails(self.entries_table.delete_item, change)
        change["UpdateExpression"] = "SET #at = :at"
        change["ExpressionAttributeValues"][":at"] = _number(at)
        return _unless_condition_fails(self.entries_table.update_item, change)

    def claim_rebuild(self) -> bool:
        now = clock.now()
        claim = {  # an expired claim is taken over; a live one fails the condition
            "Item": {**self.built_key, "until": _number(now + REBUILD_SECONDS)},
            "ConditionExpression": "attribute_not_exists(#until) OR #until < :now",
            "ExpressionAttributeNames": {"#until": "until"},
            "ExpressionAttributeValues": {":now": _number(now)},
        }
        return _unless_condition_fails(self.built.put_item, claim)

    def _unclaim(self) -> None:
        self.built.delete_item(Key=self.built_key)

    def _add(self, found: Dict[str, float]) -> None:
        for sender_id, at in found.items():  # an entry touched meanwhile keeps its score
            new = {
                "Item": {"sender_id": sender_id, "at": _number(at)},
                "ConditionExpression": "attribute_not_exists(sender_id)",
            }
            _unless_condition_fails(self.entries_table.put_item, new)

    def _conversations(self) -> Iterator[Tuple[str, Dict[str, Any]]]:
        items = _scan(
            self.store.db,
            ProjectionExpression="#s, #e",
            ExpressionAttributeNames={"#s": "sender_id", "#e": "events"},
        )
        for item in items:
            events = replace_decimals_with_floats(item.get("events") or [])
            yield item["sender_id"], {"events": events}


def open_index_for(store: TrackerStore) -> Optional[OpenIndex]:
    """The index of a Redis, MongoDB or DynamoDB tracker store; None for the others (SQL
    stores are read incrementally; the others are scanned, see `channel.timers.watchlist`),
    and for a DynamoDB store whose index tables cannot be read or made (logged: its
    conversations are scanned, as before the index, rather than every webhook failing)."""
    if isinstance(store, RedisTrackerStore):
        return RedisOpenIndex(store)
    if isinstance(store, MongoTrackerStore):
        return MongoOpenIndex(store)
    if isinstance(store, DynamoTrackerStore):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return DynamoOpenIndex(store)
        except (BotoCoreError, ClientError) as error:
            logger.error(
                "Handoff index: DynamoDB tables %s and %s cannot be read or made (%s): the "
                "timers scan every conversation once a minute instead. Grant DescribeTable, "
                "CreateTable, Scan, PutItem, UpdateItem and DeleteItem on both.",
                INDEX_COLLECTION + store.table_name,
                BUILT_TABLE,
                error,
            )
    return None


def _runs(value: Dict[str, Any]) -> bool:
    return state.active(value.get("events") or []) is not None


def _text(member: Any) -> str:
    return member.decode() if isinstance(member, bytes) else str(member)


def _dynamo_table(store: DynamoTrackerStore, name: str, key: str) -> Any:
    """The table `name` (hash key `key`, a string), made if missing in the store's region with
    the store's credentials, as Rasa's `DynamoTrackerStore.get_or_create_table` makes its own
    (that one always makes the store's table); waits until it can be used. Billed per request,
    unlike Rasa's (5 capacity units each way): every instance reads the index every second,
    and a fixed capacity would throttle the rounds as instances and open handoffs grow."""
    import boto3

    dynamo = boto3.resource("dynamodb", region_name=store.region)
    try:
        store.client.describe_table(TableName=name)
    except store.client.exceptions.ResourceNotFoundException:
        try:
            dynamo.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except dynamo.meta.client.exceptions.ResourceInUseException:
            pass  # another instance is making it
        # Every second (boto3's default is 20 s): it blocks the start of the channel.
        store.client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    return dynamo.Table(name)


def _scan(table: Any, **scan: Any) -> Iterator[Dict[str, Any]]:
    """Every item of a DynamoDB table, a page (up to 1 MB) at a time."""
    while True:
        page = table.scan(**scan)
        yield from page["Items"]
        if not page.get("LastEvaluatedKey"):
            return
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _unless_condition_fails(write: Any, request: Dict[str, Any]) -> bool:
    """Whether a conditional DynamoDB write was made (False: its condition did not hold)."""
    from botocore.exceptions import ClientError

    try:
        write(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _number(value: float) -> Decimal:
    """A float as DynamoDB stores it (a Decimal that reads back as the same float)."""
    return Decimal(repr(value))
