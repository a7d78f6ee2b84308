"""The business-hours line, on its own: parsing, open or closed, the next opening and how it
is said, across time zones, DST changes, midnight and holidays."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional

import pytest
from zoneinfo import ZoneInfo

from rasa_zendesk.schedule import ScheduleError, in_words, parse, parse_holidays

pytestmark = pytest.mark.timeout(10)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = "Europe/Berlin; mon-fri 09:00-17:30; sat 10:00-14:00"


def at(text: str, zone: ZoneInfo = BERLIN) -> datetime:
    """A local wall time, e.g. "2026-12-07 09:00" (Monday)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(
    ("line", "when", "is_open"),
    [
        (WEEKDAYS, "2026-12-07 08:59", False),  # Monday before opening
        (WEEKDAYS, "2026-12-07 09:00", True),
        (WEEKDAYS, "2026-12-07 17:29", True),
        (WEEKDAYS, "2026-12-07 17:30", False),  # the end is not open
        (WEEKDAYS, "2026-12-12 11:00", True),  # Saturday
        (WEEKDAYS, "2026-12-13 11:00", False),  # Sunday
        ("UTC; fri 22:00-02:00", "2026-12-11 23:00", True),  # across midnight, Friday
        ("UTC; fri 22:00-02:00", "2026-12-12 01:59", True),  # ... Saturday morning
        ("UTC; fri 22:00-02:00", "2026-12-12 02:00", False),
        ("UTC; fri 22:00-02:00", "2026-12-10 23:00", False),  # Thursday night
        ("UTC; mon-sun 00:00-24:00", "2026-12-13 23:59", True),
        ("UTC; fri-mon 10:00-11:00", "2026-12-13 10:30", True),  # a wrapping range: Sunday
        ("UTC; fri-mon 10:00-11:00", "2026-12-09 10:30", False),  # Wednesday
        ("UTC; mon,wed 09:00-12:00, 13:00-17:00", "2026-12-09 12:30", False),  # lunch
        ("UTC; mon,wed 09:00-12:00, 13:00-17:00", "2026-12-09 13:30", True),
        ("24/7", "2026-12-13 03:00", True),
        ("", "2026-12-13 03:00", True),
    ],
)
def test_open_or_closed(line: str, when: str, is_open: bool) -> None:
    zone = BERLIN if line.startswith("Europe") else ZoneInfo("UTC")
    assert parse(line).is_open(at(when, zone)) is is_open


@pytest.mark.parametrize(
    ("line", "holidays", "now", "opening", "words"),
    [
        (WEEKDAYS, "", "2026-12-06 03:00", "2026-12-07 09:00", "tomorrow at 9:00"),  # Sunday
        (WEEKDAYS, "", "2026-12-07 07:00", "2026-12-07 09:00", "today at 9:00"),
        (WEEKDAYS, "", "2026-12-12 15:00", "2026-12-14 09:00", "Monday at 9:00"),  # Sat late
        (WEEKDAYS, "", "2026-12-11 18:00", "2026-12-12 10:00", "tomorrow at 10:00"),
        # Holidays on the next opening day move it on.
        (
            WEEKDAYS,
            "2026-12-24,2026-12-25",
            "2026-12-23 18:00",
            "2026-12-26 10:00",
            "Saturday at 10:00",
        ),
        (WEEKDAYS, "2026-12-07", "2026-12-06 03:00", "2026-12-08 09:00", "Tuesday at 9:00"),
        # More than a week away: the date.
        (
            "UTC; mon 09:00-10:00",
            "2026-12-07,2026-12-14",
            "2026-12-07 11:00",
            "2026-12-21 09:00",
            "on 21 December at 9:00",
        ),
    ],
)
def test_next_opening_and_how_it_is_said(
    line: str, holidays: str, now: str, opening: str, words: str
) -> None:
    zone = BERLIN if line.startswith("Europe") else ZoneInfo("UTC")
    schedule = parse(line).with_holidays(parse_holidays(holidays))
    found = schedule.next_opening(at(now, zone))
    assert found == at(opening, zone)
    assert found is not None and in_words(found, at(now, zone), zone) == words


def test_dst_changes_keep_the_wall_clock() -> None:
    """Europe/Berlin goes to summer time on 29 March 2026 and back on 25 October."""
    schedule = parse(WEEKDAYS)
    # Friday before the spring change, evening: opens Monday 9:00 CEST (07:00 UTC, not 08:00).
    opening = schedule.next_opening(at("2026-03-28 15:00"))
    assert opening is not None
    assert opening.astimezone(timezone.utc) == datetime(2026, 3, 30, 7, 0, tzinfo=timezone.utc)
    # Autumn: Monday 9:00 CET is 08:00 UTC.
    opening = schedule.next_opening(at("2026-10-24 15:00"))
    assert opening is not None
    assert opening.astimezone(timezone.utc) == datetime(2026, 10, 26, 8, 0, tzinfo=timezone.utc)
    # New York, a night shift across the spring change (2:00 does not exist on 8 March 2026).
    night = parse("America/New_York; sat 22:00-06:00")
    assert night.is_open(datetime(2026, 3, 8, 6, 30, tzinfo=timezone.utc))  # 01:30 EST
    assert night.is_open(datetime(2026, 3, 8, 9, 30, tzinfo=timezone.utc))  # 05:30 EDT
    assert not night.is_open(datetime(2026, 3, 8, 10, 30, tzinfo=timezone.utc))  # 06:30 EDT


def test_the_same_instant_in_another_zone() -> None:
    schedule = parse(WEEKDAYS)
    # 03:30 in New York on a Monday is 09:30 in Berlin: open.
    assert schedule.is_open(at("2026-12-07 03:30", NEW_YORK))
    # And the opening is said in the schedule's zone.
    sunday_ny = at("2026-12-06 20:00", NEW_YORK)  # Monday 02:00 in Berlin
    opening = schedule.next_opening(sunday_ny)
    assert opening is not None and in_words(opening, sunday_ny, BERLIN) == "today at 9:00"


def test_a_holiday_closes_all_day_even_a_night_shift_running_into_it() -> None:
    schedule = parse("UTC; mon-sun 20:00-04:00").with_holidays(frozenset({date(2026, 12, 25)}))
    utc = ZoneInfo("UTC")
    assert schedule.is_open(at("2026-12-24 23:00", utc))
    assert not schedule.is_open(at("2026-12-25 01:00", utc))  # the eve's shift stops at midnight
    assert not schedule.is_open(at("2026-12-25 21:00", utc))
    assert schedule.is_open(at("2026-12-26 01:00", utc)) is False  # the 25th's shift never began
    assert schedule.next_opening(at("2026-12-25 01:00", utc)) == at("2026-12-26 20:00", utc)


def test_a_holiday_with_24_7() -> None:
    schedule = parse("24/7").with_holidays(parse_holidays("2026-12-25"))
    utc = ZoneInfo("UTC")
    assert not schedule.is_open(at("2026-12-25 12:00", utc))
    assert schedule.next_opening(at("2026-12-25 12:00", utc)) == at("2026-12-26 00:00", utc)
    assert schedule.is_open(at("2026-12-26 00:00", utc))


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("Mars/Olympus; mon 09:00-17:00", "not a time zone"),
        ("Europe/Berlin", "no opening days"),
        ("Europe/Berlin; monday 09:00-17:00", "not days such as mon-fri"),
        ("Europe/Berlin; mon-xyz 09:00-17:00", "not days"),
        ("Europe/Berlin; mon", "no opening times"),
        ("Europe/Berlin; mon 9-17", "not a time such as 09:00"),
        ("Europe/Berlin; mon 09:00", "not opening times"),
        ("Europe/Berlin; mon 25:00-26:00", "not a time of day"),
        ("Europe/Berlin; mon 09:61-10:00", "not a time of day"),
        ("Europe/Berlin; mon 24:00-02:00", "opens at 24:00"),
    ],
)
def test_what_is_not_a_schedule(line: str, says: str) -> None:
    with pytest.raises(ScheduleError, match=says):
        parse(line)


@pytest.mark.parametrize("text", ["2026-13-01", "24.12.2026", "tomorrow"])
def test_what_is_not_a_holiday(text: str) -> None:
    with pytest.raises(ScheduleError, match="not a date like"):
        parse_holidays(f"2026-12-24, {text}")


def test_never_open_within_the_horizon() -> None:
    days = ",".join(f"2027-01-{day:02d}" for day in range(1, 32))
    schedule = parse("UTC; mon 09:00-10:00").with_holidays(parse_holidays(days))
    found: Optional[datetime] = schedule.next_opening(at("2027-01-01 00:00", ZoneInfo("UTC")))
    assert found == at("2027-02-01 09:00", ZoneInfo("UTC"))
