"""The streaming reader of handoff records in a tracker store (`monitoring/records.py`)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore

from rasa_zendesk.monitoring.records import sql_events
from testkit.channel_harness import load_domain
from testkit.scripted_handoffs import BEFORE, DAY, fill

pytestmark = pytest.mark.timeout(60)


async def test_the_sql_store_is_read_in_batches(tmp_path: Path) -> None:
    store = SQLTrackerStore(load_domain(), dialect="sqlite", db=str(tmp_path / "t.db"))
    await fill(store, time.time())
    whole = list(sql_events(store, messages=True))
    assert [e.row_id for e in sql_events(store, messages=True, batch=3)] == [
        e.row_id for e in whole
    ]
    records = [e for e in whole if e.event.get("event") == "slot"]
    written = sum(1 + (h.wait is not None) + (h.duration is not None) for h in [BEFORE, *DAY])
    assert len(records) == written  # every record written, nothing else
