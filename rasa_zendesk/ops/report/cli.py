"""`rasa-zendesk report`: the tracker store of the bot's endpoints.yml, summed up."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Optional

from rasa.core.tracker_store import TrackerStore
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from rasa_zendesk import clock
from rasa_zendesk.monitoring.records import stored_events
from rasa_zendesk.ops.report import render
from rasa_zendesk.ops.report.summary import Summary

UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
#: Rows are filtered by when they were stored, a little earlier than the period, so that the
#: request of a handoff in the period is always read (records carry the handoff clock's time).
ROW_MARGIN_SECONDS = 300.0


class ReportError(ValueError):
    """The report cannot run; the message says why and what to give instead."""


def since_time(text: str, now: Optional[float] = None) -> float:
    """`7d`, `24h`, `30m`, `2w` ago, or a date's start (local time), in epoch seconds."""
    now = clock.now() if now is None else now
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if match:
        return now - int(match.group(1)) * UNITS[match.group(2)]
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise ReportError(
            f"--since {text!r}: give a span such as 7d, 24h, 30m or 2w, or a date such as "
            "2024-05-01"
        ) from None


def open_store(endpoints: Path, project: Path) -> TrackerStore:
    """The tracker store the Rasa server uses (a relative SQLite file is the project's)."""
    if not endpoints.is_file():
        raise ReportError(f"no endpoints file at {endpoints} (give --endpoints or --project)")
    config = read_endpoint_config(str(endpoints), "tracker_store")
    if config is None:
        raise ReportError(
            f"{endpoints} has no tracker_store: Rasa keeps conversations in memory, and there "
            "is nothing to report on"
        )
    kwargs = dict(config.kwargs)
    if str(config.type).lower() == "sql" and (kwargs.get("dialect") or "sqlite") == "sqlite":
        db = Path(str(kwargs.get("db") or "rasa.db"))
        db = db if db.is_absolute() else project / db
        if not db.is_file():
            raise ReportError(f"the SQLite tracker store {db} does not exist")
        kwargs["db"] = str(db)
    return TrackerStore.create(EndpointConfig(url=config.url, type=config.type, **kwargs))


async def summarise(store: TrackerStore, since: float) -> Summary:
    """One pass over the store's records and messages, from a little before `since`."""
    offset = clock.now() - time.time()  # the handoff clock's lead (tests move it)
    summary = Summary(since)
    async for stored in stored_events(
        store, messages=True, since=since - offset - ROW_MARGIN_SECONDS
    ):
        summary.add(stored)
    return summary


def run(args: argparse.Namespace) -> int:
    project: Path = args.project.resolve()
    try:
        since = since_time(args.since)
        store = open_store(args.endpoints or project / "endpoints.yml", project)
    except ReportError as error:
        print(f"rasa-zendesk report: {error}", file=sys.stderr)
        return 2
    summary = asyncio.run(summarise(store, since))
    period = f"since {datetime.fromtimestamp(since):%Y-%m-%d %H:%M}"
    print(
        render.csv_text(summary) if args.csv else render.text(summary, period),
        end="\n" if not args.csv else "",
    )
    if args.chart:
        render.chart(summary, args.chart, period)
        print(f"chart: {args.chart}", file=sys.stderr)
    return 0
