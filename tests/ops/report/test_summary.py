"""The report's CSAT: the users' ratings per day, per end reason and per agent, as text and
CSV, from the records as stored (a rating is the newest record of its handoff)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import List

import pytest

from rasa_zendesk.constants import SLOT_HANDOFF
from rasa_zendesk.handoff import state
from rasa_zendesk.monitoring.records import StoredEvent
from rasa_zendesk.ops.report import render
from rasa_zendesk.ops.report.summary import Summary

pytestmark = pytest.mark.timeout(10)

DAY1 = datetime(2026, 12, 1, 10).timestamp()
DAY2 = datetime(2026, 12, 2, 10).timestamp()


def life(at: float, agent: str, reason: str, rating: int = 0) -> List[state.Handoff]:
    opened = state.opened("conv", at=at)
    joined = state.agent_joined(opened, agent, at=at + 60)
    ended = state.ended(joined, reason, at=at + 600)
    return [opened, joined, ended] + ([state.rated(ended, rating, at=at + 700)] if rating else [])


def summary() -> Summary:
    summed = Summary(since=0)
    lives = [
        life(DAY1, "Alex", state.TICKET_SOLVED, 4),
        life(DAY1 + 60, "Sam", state.TICKET_SOLVED, 2),
        life(DAY2, "Alex", state.AGENT_RELEASED, 5),
        life(DAY2 + 60, "Sam", state.AGENT_RELEASED),  # not rated
    ]
    for number, records in enumerate(lives):
        for record in records:
            event = {"event": "slot", "name": SLOT_HANDOFF, "value": record.as_slot()}
            summed.add(StoredEvent(f"sender-{number}", event))
    return summed


def test_the_csv_has_the_ratings_per_day() -> None:
    rows = {r["day"]: r for r in csv.DictReader(io.StringIO(render.csv_text(summary())))}
    assert (rows["2026-12-01"]["csat_ratings"], rows["2026-12-01"]["csat_mean"]) == ("2", "3")
    assert (rows["2026-12-02"]["csat_ratings"], rows["2026-12-02"]["csat_mean"]) == ("1", "5")
    assert (rows["all"]["csat_ratings"], rows["all"]["csat_mean"]) == ("3", "3.67")


def test_the_text_has_the_ratings_per_day_end_reason_and_agent() -> None:
    lines = render.text(summary(), "since 2026-12-01").splitlines()
    header = next(line for line in lines if line.startswith("day "))
    assert header.split()[-1] == "csat"
    (all_row,) = (line for line in lines if line.startswith("all "))
    assert all_row.endswith("3.7 (3)")
    by_reason = lines[lines.index("CSAT by end reason (mean rating, 1 to 5)") :]
    assert any(row.split() == ["ticket_solved", "2", "3.0", "(2)"] for row in by_reason[:5])
    assert any(row.split() == ["agent_released", "1", "5.0", "(1)"] for row in by_reason[:5])
    by_agent = lines[lines.index("CSAT by agent") :]
    assert any(row.split() == ["Alex", "2", "4.5", "(2)"] for row in by_agent[:5])
    assert any(row.split() == ["Sam", "1", "2.0", "(1)"] for row in by_agent[:5])
