"""`rasa-zendesk report` over a SQLite and a Redis tracker store holding a scripted set of
handoffs, stored through Rasa's own tracker stores: the per-day table, the reasons, the waits
and durations, the endings and the messages each way are what was scripted; handoffs before
the period are left out; the SQL store is read in batches."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import pytest
import yaml
from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore, TrackerStore

from rasa_zendesk import cli
from testkit.channel_harness import load_domain, new_id
from testkit.scripted_handoffs import DAY, expected, fill
from testkit.services import redis_server

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    with redis_server() as server:
        yield server.port


@pytest.fixture(params=["sql", "redis"])
async def project(request: pytest.FixtureRequest, tmp_path: Path) -> Tuple[Path, float]:
    """A bot folder whose endpoints.yml names a store with the script in it."""
    now = time.time()
    domain = load_domain()
    if request.param == "sql":
        store: TrackerStore = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
        endpoint: Dict[str, Any] = {"type": "SQL", "dialect": "sqlite", "db": "t.db"}
    else:
        port = request.getfixturevalue("redis_port")
        prefix = "r" + new_id()
        store = RedisTrackerStore(domain, host="127.0.0.1", port=port, key_prefix=prefix)
        endpoint = {"type": "redis", "url": "127.0.0.1", "port": port, "key_prefix": prefix}
    await fill(store, now)
    (tmp_path / "endpoints.yml").write_text(yaml.safe_dump({"tracker_store": endpoint}))
    return tmp_path, now


def report(capsys: pytest.CaptureFixture, *args: str) -> str:
    assert cli.main(["report", *args]) == 0
    return capsys.readouterr().out


def test_the_csv_says_what_was_scripted(
    project: Tuple[Path, float], capsys: pytest.CaptureFixture
) -> None:
    folder, now = project
    rows = {
        row["day"]: row
        for row in csv.DictReader(io.StringIO(report(capsys, "--project", str(folder), "--csv")))
    }
    wanted = expected(DAY, now)  # BEFORE is 40 days old: outside the 7 days
    assert set(rows) == set(wanted)
    for day, want in wanted.items():
        row = rows[day]
        assert int(row["handoffs"]) == want.handoffs, day
        assert int(row["agent_joined"]) == want.agent_joined, day
        for column, value in (
            ("median_wait_s", want.median_wait),
            ("p90_wait_s", want.max_wait),
            ("median_duration_s", want.median_duration),
        ):
            assert row[column] == ("" if value is None else str(round(float(value), 1))), column
        assert int(row["messages_to_agent"]) == want.to_agent, day
        assert int(row["messages_from_agent"]) == want.from_agent, day
        triggers = {k[8:]: int(v) for k, v in row.items() if k.startswith("trigger:") and int(v)}
        endings = {k[6:]: int(v) for k, v in row.items() if k.startswith("ended:") and int(v)}
        assert triggers == want.triggers, day
        assert endings == want.endings, day


def test_the_table_and_the_chart(
    project: Tuple[Path, float], capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    folder, now = project
    chart = tmp_path / "handoffs.png"
    text = report(capsys, "--project", str(folder), "--since", "30d", "--chart", str(chart))
    assert "Handoffs since" in text and ": 7" in text.splitlines()[0]
    assert "explicit_request" in text and "still_open" in text
    # median wait of the 5 an agent joined: 60 s; its p90 is the longest, 5m 00s
    (all_row,) = (line for line in text.splitlines() if line.startswith("all "))
    assert all_row.split()[:4] == ["all", "7", "5", "1m"]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    longer = report(capsys, "--project", str(folder), "--since", "60d")
    assert ": 8" in longer.splitlines()[0]  # the one from 40 days ago too


def test_bad_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["report", "--project", str(tmp_path), "--since", "lately"]) == 2
    assert "--since 'lately'" in capsys.readouterr().err
    assert cli.main(["report", "--project", str(tmp_path)]) == 2
    assert "no endpoints file" in capsys.readouterr().err
