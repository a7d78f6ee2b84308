"""The index of open handoffs of a Redis, MongoDB or DynamoDB tracker store
(`rasa_zendesk.channel.open_index`) as two Rasa instances' timers read it
(`timers.watchlist.IndexWatchlist`): a new handoff is seen by the other instance at its next
round, a stale entry is checked against its record, a missing index or entry is rebuilt from
the records, and the index is never the truth. Redis is a real server; MongoDB is mongomock
(no MongoDB server here), both instances' stores on one mongomock client; DynamoDB is moto's
(boto3's calls answered in process), both instances' stores on one mocked DynamoDB."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Tuple

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import (
    DynamoTrackerStore,
    MongoTrackerStore,
    RedisTrackerStore,
    TrackerStore,
)
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import clock, constants
from rasa_zendesk.channel import open_index
from rasa_zendesk.channel.open_index import OpenIndex, open_index_for
from rasa_zendesk.channel.timers import watchlist
from rasa_zendesk.channel.timers.watchlist import IndexWatchlist, ScanningWatchlist, watchlist_for
from rasa_zendesk.channel.tracker_access import TrackerAccess
from rasa_zendesk.handoff import state, watch
from rasa_zendesk.handoff.deadlines import Deadline
from rasa_zendesk.settings import HandoffSettings
from testkit.action_calls import DOMAIN
from testkit.channel_harness import new_id
from testkit.clock_file import ClockFile

pytestmark = pytest.mark.timeout(60)

SETTINGS = HandoffSettings(agent_timeout=600, idle_timeout=0, max_duration=86400)


class Instance:
    """One Rasa instance's view: its own store object and timers' watchlist on the shared
    store, with the records its watchlist told (the metrics' feed)."""

    def __init__(self, store: TrackerStore) -> None:
        self.store = store
        self.trackers = TrackerAccess(self.store, InMemoryLockStore())
        self.told: List[Tuple[str, state.Handoff]] = []
        found = watchlist_for(self.trackers, SETTINGS, lambda s, r: self.told.append((s, r)))
        assert isinstance(found, IndexWatchlist)
        self.watchlist: IndexWatchlist = found

    @property
    def index(self) -> OpenIndex:
        assert self.trackers.index is not None
        return self.trackers.index

    async def round(self) -> Dict[str, Any]:
        """One timer round, with the rebuild it started (if any) finished."""
        running = await self.watchlist.refresh()
        if self.watchlist._rebuilding is not None:
            await self.watchlist._rebuilding
        return running


def mongo_stores(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Rasa's MongoDB store on mongomock: each call a store of its own on one shared client."""
    mongomock = pytest.importorskip("mongomock")
    import pymongo
    import pymongo.database

    client = mongomock.MongoClient()
    monkeypatch.setattr(pymongo, "MongoClient", lambda *args, **kwargs: client)
    monkeypatch.setattr(pymongo.database, "Database", lambda given, name: given[name])
    collection = "c" + new_id()
    return lambda: MongoTrackerStore(DOMAIN, collection=collection)


def dynamo_stores(request: pytest.FixtureRequest) -> Any:
    """Rasa's DynamoDB store on moto: each call a store of its own on one mocked DynamoDB
    (moto's fake credentials), for the rest of the test."""
    moto = pytest.importorskip("moto")
    mocked = moto.mock_dynamodb()
    mocked.start()
    request.addfinalizer(mocked.stop)
    table = "t" + new_id()
    return lambda: DynamoTrackerStore(DOMAIN, table_name=table, region="eu-west-1")


@pytest.fixture(name="dynamo_stores")
def dynamo_stores_fixture(request: pytest.FixtureRequest, moved_clock: ClockFile) -> Any:
    return dynamo_stores(request)


@pytest.fixture(params=["redis", "mongo", "dynamo"])
def instances(
    request: pytest.FixtureRequest, moved_clock: ClockFile, monkeypatch: pytest.MonkeyPatch
) -> Any:
    if request.param == "redis":
        port = request.getfixturevalue("redis_service").port
        prefix = "t" + new_id()

        def store() -> TrackerStore:
            return RedisTrackerStore(DOMAIN, host="127.0.0.1", port=port, key_prefix=prefix)

    elif request.param == "mongo":
        store = mongo_stores(monkeypatch)
    else:
        store = dynamo_stores(request)
    first, second = Instance(store()), Instance(store())
    yield first, second
    first.watchlist.close()
    second.watchlist.close()


async def seen_by_both(first: Instance, second: Instance, sender_id: str) -> state.Handoff:
    """A handoff opened, noted on the first instance and looked at by both."""
    record = state.opened("conv-1")
    await saved(first, sender_id, record)
    first.index.touch(sender_id)
    await first.round()
    await second.round()
    return record


async def saved(instance: Instance, sender_id: str, *records: state.Handoff) -> None:
    """The conversation as the action server and the channel leave it, unindexed."""
    events = [UserUttered("I want a human")]
    events += [SlotSet(constants.SLOT_HANDOFF, record.as_slot()) for record in records]
    await instance.store.save(DialogueStateTracker.from_events(sender_id, events, DOMAIN.slots))


async def test_a_handoff_noted_on_one_instance_is_seen_by_the_other_at_its_next_round(
    instances: Tuple[Instance, Instance],
) -> None:
    first, second = instances
    await first.round()
    await second.round()
    record = state.opened("conv-1")
    await saved(first, "alice", record)

    watch.note_running("alice")  # the policy, on the first instance, after the escalation
    running = await second.round()

    assert running == {"alice": record}
    assert second.told == [("alice", record)]
    # The entry now waits for the agent timeout, for every instance.
    assert second.index.entries() == {"alice": record.requested_at + 600}
    assert second.watchlist.due() == {"alice": record.requested_at + 600}
    assert await first.round() == {"alice": record}


async def test_a_round_reads_only_what_changed(
    instances: Tuple[Instance, Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = instances
    await saved(first, "alice", state.opened("conv-1"))
    first.index.touch("alice")
    await first.round()
    reads: List[str] = []
    read = first.trackers.read

    async def counted(sender_id: str) -> Any:
        reads.append(sender_id)
        return await read(sender_id)

    monkeypatch.setattr(first.trackers, "read", counted)
    await first.round()
    await first.round()
    assert reads == []
    first.index.touch("alice")  # the write path recorded a transition
    await first.round()
    assert reads == ["alice"]


async def test_a_stale_entry_is_checked_against_its_record_then_dropped(
    instances: Tuple[Instance, Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = instances
    record = state.opened("conv-1")
    over = state.ended(record, state.AGENT_RELEASED)
    await saved(first, "alice", record, over)
    first.index.touch("alice")
    first.index.touch("nobody")  # a turn that noted a handoff it has not saved yet, or never will

    assert await first.round() == {}
    # Kept for a while: the turn that noted it may not have saved yet.
    assert set(first.index.entries()) == {"alice", "nobody"}
    later = watchlist.time.monotonic() + open_index.SAVED_WITHIN_SECONDS + 1
    monkeypatch.setattr(watchlist.time, "monotonic", lambda: later)
    assert await first.round() == {}
    assert first.index.entries() == {}
    assert ("alice", over) in first.told
    # The other instance, which saw the entry before, learns of the end from the record.
    await saved(second, "bob", state.opened("conv-2"))
    second.watchlist._seen["alice"] = 1.0
    await second.round()
    assert ("alice", over) in second.told


async def test_an_end_saved_after_its_note_is_still_counted(
    instances: Tuple[Instance, Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policy notes a turn's change of the record (a plugin action ended the handoff)
    before Rasa saves that turn: a round in between still reads the handoff running. The
    entry is looked at once more a little later, and the end is seen (and counted) then."""
    first, _ = instances
    record = state.opened("conv-1")
    await saved(first, "alice", record)
    first.index.touch("alice")
    await first.round()
    watch.note_running("alice")  # the policy, after `/end`; Rasa has not saved the turn yet
    assert await first.round() == {"alice": record}
    over = state.ended(record, state.USER_ENDED)
    await saved(first, "alice", record, over)  # now it has
    assert ("alice", over) not in first.told
    later = watchlist.time.monotonic() + open_index.SAVED_WITHIN_SECONDS + 1
    monkeypatch.setattr(watchlist.time, "monotonic", lambda: later)
    assert await first.round() == {}
    assert ("alice", over) in first.told


async def test_a_missing_index_is_rebuilt_from_the_records(
    instances: Tuple[Instance, Instance],
) -> None:
    """The first start after an upgrade: handoffs opened before it are found."""
    first, second = instances
    running = state.opened("conv-1")
    await saved(first, "alice", running)
    await saved(
        first,
        "bob",
        state.opened("conv-2"),
        state.ended(state.opened("conv-2"), state.AGENT_RELEASED),
    )
    await saved(first, "carol")

    assert first.index.claim_rebuild() is True  # nobody built it yet
    first.index._unclaim()
    await first.round()  # rebuilds
    assert await first.round() == {"alice": running}
    assert first.index.claim_rebuild() is False  # built: the other instance does not rebuild
    assert await second.round() == {"alice": running}


async def test_a_lost_entry_is_found_and_a_stale_one_dropped_by_the_next_rebuild(
    instances: Tuple[Instance, Instance],
) -> None:
    first, _ = instances
    await first.round()
    record = state.opened("conv-1")
    await saved(first, "alice", record)  # saved, but the process died before telling anyone
    first.index._add({"ghost": 1.0})  # and an entry nobody dropped
    assert "alice" not in await first.round()

    first.index._unclaim()  # REBUILD_SECONDS later
    await first.round()
    assert await first.round() == {"alice": record}
    assert set(first.index.entries()) == {"alice"}


async def test_a_moved_deadline_never_overwrites_a_newer_touch(
    instances: Tuple[Instance, Instance],
) -> None:
    first, _ = instances
    first.index._add({"alice": 100.0})
    first.index.touch("alice")
    assert first.index.move("alice", 100.0, 700.0) is False
    assert first.index.entries()["alice"] == pytest.approx(clock.now(), abs=5)
    assert first.index.move("alice", first.index.entries()["alice"], 700.0) is True
    assert first.index.entries() == {"alice": 700.0}
    assert first.index.move("alice", 700.0, None) is True
    assert first.index.entries() == {}


async def test_a_fired_timer_moves_the_entry_to_the_next_deadline_or_drops_it(
    instances: Tuple[Instance, Instance],
) -> None:
    first, second = instances
    record = await seen_by_both(first, second, "alice")

    first.watchlist.scheduled("alice", Deadline(record.requested_at + 86400, "max_duration"))
    assert first.index.entries() == {"alice": record.requested_at + 86400}
    await second.round()
    assert second.watchlist.due() == {"alice": record.requested_at + 600}  # from the record

    await first.round()
    first.watchlist.scheduled("alice", None)  # the timer ended the handoff
    assert first.index.entries() == {}
    await second.round()
    assert second.watchlist.running == {}


async def test_a_note_that_cannot_reach_redis_waits_for_the_next_round(
    instances: Tuple[Instance, Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = instances
    await saved(first, "alice", state.opened("conv-1"))

    def down(sender_id: str) -> None:
        raise ConnectionError("Redis is restarting")

    watch.listen(down)
    watch.note_running("alice")  # the policy's turn goes on
    watch.listen(first.index.touch)
    assert "alice" in await first.round()


async def test_rounds_go_on_while_the_index_is_rebuilt_hourly(
    instances: Tuple[Instance, Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = instances
    started, release = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow_rebuild() -> Any:
        loop.call_soon_threadsafe(started.set)
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=30)
        return set()

    await first.round()  # the first round waits for the first rebuild
    monkeypatch.setattr(first.index, "rebuild", slow_rebuild)
    first.index._unclaim()  # an hour later
    await first.watchlist.refresh()
    await asyncio.wait_for(started.wait(), 10)
    await saved(first, "alice", state.opened("conv-1"))
    first.index.touch("alice")
    assert "alice" in await first.watchlist.refresh()
    release.set()
    await first.round()


async def test_the_write_path_touches_the_entry_when_it_records_a_transition(
    instances: Tuple[Instance, Instance],
) -> None:
    first, second = instances
    record = await seen_by_both(first, second, "alice")
    tracker = await first.trackers.read("alice")
    assert tracker is not None

    await first.trackers.record(tracker, [UserUttered("an ordinary message")])
    assert await second.round() == {"alice": record}
    assert second.told == [("alice", record)]  # nothing new to read

    joined = state.agent_joined(record, "Ada")
    await first.trackers.record(tracker, [SlotSet(constants.SLOT_HANDOFF, joined.as_slot())])
    assert await second.round() == {"alice": joined}
    assert second.told[-1] == ("alice", joined)


def test_the_dynamo_index_lives_in_tables_next_to_the_store_s(
    dynamo_stores: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = dynamo_stores()
    index = open_index_for(store)
    assert index is not None
    tables = store.client.list_tables()["TableNames"]
    assert "rasa_zendesk_open_handoffs_" + store.table_name in tables
    assert "rasa_zendesk_open_handoffs.built" in tables
    made = store.client.describe_table(TableName="rasa_zendesk_open_handoffs.built")
    assert made["Table"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # Made once: another instance finds them, or made by another instance meanwhile.
    assert open_index_for(dynamo_stores()) is not None
    racing = dynamo_stores()
    describe = racing.client.describe_table
    missing = racing.client.exceptions.ResourceNotFoundException
    gone_once = ["rasa_zendesk_open_handoffs.built"]

    def raced(**request: Any) -> Any:
        if request["TableName"] in gone_once:
            gone_once.remove(request["TableName"])
            raise missing({"Error": {"Code": "ResourceNotFoundException"}}, "DescribeTable")
        return describe(**request)

    monkeypatch.setattr(racing.client, "describe_table", raced)
    raced_index = open_index_for(racing)
    assert raced_index is not None and not gone_once
    assert raced_index.claim_rebuild() is True


def test_a_dynamo_store_whose_index_cannot_be_made_is_scanned(
    dynamo_stores: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from botocore.exceptions import ClientError

    store = dynamo_stores()

    def denied(**request: Any) -> Any:
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
        raise ClientError(error, "DescribeTable")

    monkeypatch.setattr(store.client, "describe_table", denied)
    trackers = TrackerAccess(store, InMemoryLockStore())
    assert trackers.index is None
    assert isinstance(watchlist_for(trackers, SETTINGS), ScanningWatchlist)
    assert "rasa_zendesk_open_handoffs_" + store.table_name in caplog.text


async def test_a_dynamo_index_and_store_are_read_a_page_at_a_time(
    dynamo_stores: Any, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """DynamoDB answers a scan up to 1 MB at a time: here one item a page."""
    first = Instance(dynamo_stores())
    request.addfinalizer(first.watchlist.close)
    for table in (first.store.db, first.index.entries_table):  # type: ignore[attr-defined]
        scan = table.scan
        monkeypatch.setattr(table, "scan", lambda scan=scan, **request: scan(Limit=1, **request))
    records = {sender_id: state.opened("conv-" + sender_id) for sender_id in ("a", "b", "c")}
    for sender_id, record in records.items():
        await saved(first, sender_id, record)

    await first.round()  # rebuilds
    assert await first.round() == records
    assert set(first.index.entries()) == set(records)
