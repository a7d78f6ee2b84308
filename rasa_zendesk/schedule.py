"""Weekly opening hours in a time zone, holidays, and the next opening in words a person reads.

The one-line form (`business_hours`): a time zone, then `;`-separated day groups, each days and
comma-separated intervals, for example `Europe/Berlin; mon-fri 09:00-12:30, 13:30-17:30;
sat 10:00-14:00`. Days are `mon`..`sun`, ranges (`mon-fri`, `fri-mon` wraps) and lists
(`mon,wed`); an interval that ends at or before it starts runs across midnight (`fri
22:00-02:00`), `24:00` is the end of the day. `24/7` (or nothing) is always open.

An interval belongs to the day it starts on. A holiday is closed all day: an interval that
starts on it does not open, and one that runs into it from the day before stops at midnight.
All arithmetic is on aware datetimes in the schedule's zone, so DST changes move no opening.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import FrozenSet, Iterator, Optional, Sequence, Tuple

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES_A_DAY = 24 * 60
EXAMPLE = "Europe/Berlin; mon-fri 09:00-17:30; sat 10:00-14:00"
#: How far ahead the next opening is looked for (a year of holidays is the most one needs).
HORIZON_DAYS = 400

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class ScheduleError(ValueError):
    """The text is not a schedule; the message says what is wrong (never the whole value)."""


@dataclass(frozen=True)
class Interval:
    """Open on `weekday` (0 = Monday) from `start` to `end`, minutes after its midnight; `end`
    past 1440 runs into the next day."""

    weekday: int
    start: int
    end: int


@dataclass(frozen=True)
class Schedule:
    """Opening hours; no intervals at all means always open."""

    zone: str = "UTC"
    intervals: Tuple[Interval, ...] = ()
    holidays: FrozenSet[date] = frozenset()

    @property
    def always_open(self) -> bool:
        return not self.intervals and not self.holidays

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.zone)

    def with_holidays(self, holidays: FrozenSet[date]) -> Schedule:
        return Schedule(self.zone, self.intervals, frozenset(holidays))

    def is_open(self, at: datetime) -> bool:
        if self.always_open:
            return True
        today = at.astimezone(self.tz).date()
        return any(
            start <= at < end
            for day in (today - timedelta(days=1), today)
            for start, end in self._spans(day)
        )

    def next_opening(self, at: datetime) -> Optional[datetime]:
        """When it opens next, strictly after being closed at `at`; None when open now or
        never open within the horizon."""
        if self.is_open(at):
            return None
        today = at.astimezone(self.tz).date()
        for offset in range(HORIZON_DAYS):
            starts = [
                start for start, end in self._spans(today + timedelta(days=offset)) if start > at
            ]
            if starts:
                return min(starts)
        return None

    def _spans(self, day: date) -> Iterator[Tuple[datetime, datetime]]:
        """The open spans that start on `day` (local), holidays taken out."""
        if day in self.holidays:
            return
        weekday = day.weekday()
        intervals = self.intervals or _ALL_WEEK
        midnight = datetime.combine(day, time(0), self.tz)
        for interval in intervals:
            if interval.weekday != weekday:
                continue
            start = _local(midnight, interval.start, self.tz)
            end = _local(midnight, interval.end, self.tz)
            if interval.end > MINUTES_A_DAY and day + timedelta(days=1) in self.holidays:
                end = _local(midnight, MINUTES_A_DAY, self.tz)
            yield start, end


_ALL_WEEK = tuple(Interval(day, 0, MINUTES_A_DAY) for day in range(7))


def _local(midnight: datetime, minutes: int, zone: tzinfo) -> datetime:
    """The wall-clock time `minutes` after a local midnight (calendar days, so a DST change in
    between does not shift it), normalised to a real instant."""
    days, minute = divmod(minutes, MINUTES_A_DAY)
    wall = datetime.combine(midnight.date() + timedelta(days=days), time(minute // 60, minute % 60))
    return wall.replace(tzinfo=zone).astimezone(zone)


def parse(text: Optional[str]) -> Schedule:
    """The schedule of a `business_hours` line; `ScheduleError` says what is wrong."""
    text = (text or "").strip()
    if not text or text.lower() == "24/7":
        return Schedule()
    zone, *groups = (part.strip() for part in text.split(";"))
    _check_zone(zone)
    if not [group for group in groups if group]:
        raise ScheduleError("it names a time zone but no opening days")
    intervals = []
    for group in groups:
        if group:
            intervals.extend(_group(group))
    return Schedule(zone, tuple(intervals))


def parse_holidays(text: Optional[str]) -> FrozenSet[date]:
    """`holidays`: ISO dates, comma-separated."""
    days = set()
    for part in (text or "").split(","):
        if part.strip():
            try:
                days.add(date.fromisoformat(part.strip()))
            except ValueError:
                raise ScheduleError(f"{part.strip()!r} is not a date like 2026-12-24") from None
    return frozenset(days)


def _check_zone(zone: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{zone!r} is not a time zone such as Europe/Berlin or UTC") from None


def _group(group: str) -> Sequence[Interval]:
    days_text, _, times_text = group.partition(" ")
    days = _days(days_text.strip().lower())
    spans = [_span(part.strip()) for part in times_text.split(",") if part.strip()]
    if not spans:
        raise ScheduleError(f"{group!r} has no opening times such as 09:00-17:30")
    return [Interval(day, start, end) for day in days for start, end in spans]


def _days(text: str) -> Sequence[int]:
    days = []
    for item in text.split(","):
        first, dash, last = item.partition("-")
        if first not in DAYS or (dash and last not in DAYS):
            raise ScheduleError(f"{text!r} is not days such as mon-fri, sat or mon,wed")
        start = DAYS.index(first)
        stop = DAYS.index(last) if dash else start
        days.extend((start + step) % 7 for step in range((stop - start) % 7 + 1))
    return days


def _span(text: str) -> Tuple[int, int]:
    opening, dash, closing = text.partition("-")
    if not dash:
        raise ScheduleError(f"{text!r} is not opening times such as 09:00-17:30")
    start, end = _minutes(opening), _minutes(closing)
    if start >= MINUTES_A_DAY:
        raise ScheduleError(f"{text!r} opens at 24:00; write 00:00 of the next day")
    if end <= start:
        end += MINUTES_A_DAY  # across midnight
    return start, end


def _minutes(text: str) -> int:
    match = _TIME.match(text.strip())
    if not match:
        raise ScheduleError(f"{text.strip()!r} is not a time such as 09:00")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ScheduleError(f"{text.strip()!r} is not a time of day")
    return hours * 60 + minutes


def in_words(opening: datetime, now: datetime, zone: tzinfo) -> str:
    """When it opens, as a person says it in the schedule's zone: "today at 17:00",
    "tomorrow at 9:00", "Monday at 9:00", "on 24 December at 9:00"."""
    local, today = opening.astimezone(zone), now.astimezone(zone).date()
    clock = f"{local.hour}:{local.minute:02d}"
    days = (local.date() - today).days
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    if days < 7:
        return f"{DAY_NAMES[local.weekday()]} at {clock}"
    return f"on {local.day} {local.strftime('%B')} at {clock}"
