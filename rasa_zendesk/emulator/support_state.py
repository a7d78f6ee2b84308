"""What the emulated Zendesk Support account says about when agents answer: its business-hours
schedule and holidays, whether the console's agent is online for messaging, and the OAuth
access token its API accepts.

One per app (each app is an account); the Support API serves the default app's. The control
API sets it, `/_emulator/reset` restores the defaults (always open, agents online, no holidays;
the token is a setting and stays). Zendesk stores no interval across midnight, so an interval
set through the control API is cut at each midnight, as the Zendesk admin would enter it.
"""

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, Iterable, List, Optional

from .ids import now_iso_seconds

MINUTES_A_DAY = 24 * 60
MINUTES_A_WEEK = 7 * MINUTES_A_DAY
#: Zendesk counts a schedule's minutes from Sunday 00:00.
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
DEFAULT_SCHEDULE_ID = 1
DEFAULT_SCHEDULE_NAME = "Support"
DEFAULT_TIME_ZONE = "UTC"
FIRST_HOLIDAY_ID = 1


@dataclass(frozen=True)
class Interval:
    """Open from `start` to `end`, minutes since Sunday 00:00, within one day."""

    start: int
    end: int

    def to_api(self) -> Dict[str, int]:
        return {"start_time": self.start, "end_time": self.end}

    def to_view(self) -> Dict[str, int]:
        return {"startTime": self.start, "endTime": self.end}


@dataclass(frozen=True)
class Schedule:
    id: int
    name: str
    time_zone: str
    intervals: List[Interval]
    created_at: str
    updated_at: str

    def to_api(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "time_zone": self.time_zone,
            "intervals": [interval.to_api() for interval in self.intervals],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def to_view(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "timeZone": self.time_zone,
            "intervals": [interval.to_view() for interval in self.intervals],
        }


@dataclass(frozen=True)
class Holiday:
    """Closed all day from `start_date` to `end_date`, both included."""

    id: int
    name: str
    start_date: date
    end_date: date

    def to_api(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
        }

    def to_view(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "startDate": self.start_date.isoformat(),
            "endDate": self.end_date.isoformat(),
        }


def by_day(intervals: Iterable[Interval]) -> List[Interval]:
    """The intervals cut at each midnight, in order (Zendesk's intervals never span days)."""
    cut = []
    for interval in sorted(intervals, key=lambda i: i.start):
        start = interval.start
        while start < interval.end:
            midnight = (start // MINUTES_A_DAY + 1) * MINUTES_A_DAY
            cut.append(Interval(start, min(interval.end, midnight)))
            start = midnight
    return cut


def new_schedule(
    schedule_id: int, name: str, time_zone: str, intervals: List[Interval]
) -> Schedule:
    now = now_iso_seconds()
    return Schedule(schedule_id, name, time_zone, by_day(intervals), now, now)


def always_open() -> Schedule:
    """The default: open all week, in UTC."""
    return new_schedule(
        DEFAULT_SCHEDULE_ID, DEFAULT_SCHEDULE_NAME, DEFAULT_TIME_ZONE, [Interval(0, MINUTES_A_WEEK)]
    )


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def in_words(schedule: Optional[Schedule], holidays: List[Holiday]) -> List[str]:
    """The schedule as the console shows it: time zone, each day's opening hours, holidays."""
    if schedule is None:
        return ["No schedule: the account has no business hours."]
    lines = [f"{schedule.name} (schedule {schedule.id}), time zone {schedule.time_zone}"]
    for day, name in enumerate(DAY_NAMES):
        spans = [
            f"{_clock(i.start - day * MINUTES_A_DAY)}–{_clock(i.end - day * MINUTES_A_DAY)}"
            for i in schedule.intervals
            if i.start // MINUTES_A_DAY == day
        ]
        lines.append(f"{name}: {', '.join(spans) if spans else 'closed'}")
    for holiday in holidays:
        first, last = holiday.start_date.isoformat(), holiday.end_date.isoformat()
        when = first if first == last else f"{first} to {last}"
        lines.append(f"Holiday {holiday.name}: {when}, closed")
    return lines


class SupportState:
    """The account's schedule, holidays, agent availability and accepted token."""

    def __init__(self, oauth_token: Optional[str]) -> None:
        self.oauth_token = oauth_token or None
        self._holiday_ids = itertools.count(FIRST_HOLIDAY_ID)
        self.reset()

    def reset(self) -> None:
        self.schedule: Optional[Schedule] = always_open()
        self.holidays: List[Holiday] = []
        self.agents_online = True
        #: The availability's version and when it last changed, as Zendesk reports them.
        self.version = 1
        self.changed_at = now_iso_seconds()

    def set_agents_online(self, online: bool) -> None:
        if online != self.agents_online:
            self.agents_online = online
            self.version += 1
            self.changed_at = now_iso_seconds()

    def holiday(self, name: str, start_date: date, end_date: date) -> Holiday:
        return Holiday(next(self._holiday_ids), name, start_date, end_date)

    def view(self) -> Dict[str, Any]:
        """The control API's view: never the token, only whether one is set."""
        return {
            "agentsOnline": self.agents_online,
            "schedule": self.schedule.to_view() if self.schedule else None,
            "holidays": [holiday.to_view() for holiday in self.holidays],
            "tokenSet": self.oauth_token is not None,
            "inWords": in_words(self.schedule, self.holidays),
        }
