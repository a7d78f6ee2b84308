"""What the Support API says about when agents answer: the business-hours schedule and its
holidays, and whether any agent is online for messaging.

Called through the Support API client (`rasa_zendesk.tickets.support_api`, OAuth). Every
call has a short timeout; a failure raises `SupportApiError`, and the caller (`gate`) decides
what it means, so a Zendesk outage never blocks a handoff.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Dict, FrozenSet, List, Optional

from rasa_zendesk.hours.zone_names import iana_zone
from rasa_zendesk.schedule import MINUTES_A_DAY, Interval, Schedule
from rasa_zendesk.settings import ZendeskSettings
from rasa_zendesk.tickets import support_api
from rasa_zendesk.tickets.support_api import SupportApiError

MINUTES_A_WEEK = 7 * MINUTES_A_DAY
#: Zendesk counts a schedule's minutes from Sunday 00:00; Python's weekdays start on Monday.
_SUNDAY_FIRST = 6


async def _get(
    settings: ZendeskSettings, path: str, timeout: float, params: Optional[Dict[str, str]] = None
) -> Dict[str, Any]:
    return await support_api.request(settings, "GET", path, timeout, params)


async def read_schedule(settings: ZendeskSettings, timeout: float) -> Schedule:
    """The account's schedule (`business_hours_schedule_id`, else the first) with its
    holidays; always open when the account has no schedule."""
    schedules = (await _get(settings, "business_hours/schedules", timeout)).get("schedules")
    if not isinstance(schedules, list):
        raise SupportApiError("GET /api/v2/business_hours/schedules: no schedules list")
    wanted = settings.business_hours_schedule_id
    chosen = [
        s for s in schedules if isinstance(s, dict) and (not wanted or str(s.get("id")) == wanted)
    ]
    if not chosen:
        if wanted:
            raise SupportApiError(f"schedule {wanted} is not in the account")
        return Schedule()
    schedule = chosen[0]
    zone = iana_zone(schedule.get("time_zone"))
    if zone is None:
        raise SupportApiError(f"schedule {schedule.get('id')}: unknown time zone")
    path = f"business_hours/schedules/{schedule.get('id')}/holidays"
    holidays = (await _get(settings, path, timeout)).get("holidays") or []
    return Schedule(zone, _intervals(schedule.get("intervals") or []), _dates(holidays))


def _intervals(raw: List[Any]) -> tuple:
    intervals = []
    for item in raw:
        try:
            start, end = int(item["start_time"]), int(item["end_time"])
        except (KeyError, TypeError, ValueError):
            raise SupportApiError("a schedule interval without start_time and end_time") from None
        if not 0 <= start < end <= MINUTES_A_WEEK:
            raise SupportApiError("a schedule interval outside the week")
        day, minute = divmod(start, MINUTES_A_DAY)
        intervals.append(Interval((day + _SUNDAY_FIRST) % 7, minute, minute + end - start))
    return tuple(intervals)


def _dates(holidays: List[Any]) -> FrozenSet[date]:
    days = set()
    for holiday in holidays:
        try:
            first = date.fromisoformat(holiday["start_date"])
            last = date.fromisoformat(holiday["end_date"])
        except (KeyError, TypeError, ValueError):
            raise SupportApiError("a holiday without start_date and end_date") from None
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return frozenset(days)


async def agents_online(settings: ZendeskSettings, timeout: float) -> bool:
    """Whether at least one agent is online for messaging (one item is enough to know)."""
    params = {"filter[channel_status]": "messaging:online", "page[size]": "1"}
    data = (await _get(settings, "agent_availabilities", timeout, params)).get("data")
    if not isinstance(data, list):
        raise SupportApiError("GET /api/v2/agent_availabilities: no data list")
    return bool(data)
