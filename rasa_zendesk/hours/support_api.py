"""What the Support API says about when agents answer: the business-hours schedule and its
holidays, and whether any agent is online for messaging.

Authenticated with an OAuth access token (`Authorization: Bearer`): Zendesk retires API
tokens in April 2027. Every call has a short timeout; a failure raises `SupportApiError`, and
the caller (`gate`) decides what it means, so a Zendesk outage never blocks a handoff.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any, Dict, FrozenSet, List, Optional

import httpx

from rasa_zendesk.hours.zone_names import iana_zone
from rasa_zendesk.schedule import MINUTES_A_DAY, Interval, Schedule
from rasa_zendesk.settings import ZendeskSettings

MINUTES_A_WEEK = 7 * MINUTES_A_DAY
#: Zendesk counts a schedule's minutes from Sunday 00:00; Python's weekdays start on Monday.
_SUNDAY_FIRST = 6


class SupportApiError(RuntimeError):
    """The Support API did not answer, or not with what it should (no secret in the text)."""


async def _get(
    settings: ZendeskSettings, path: str, timeout: float, params: Optional[Dict[str, str]] = None
) -> Dict[str, Any]:
    url = f"{settings.support_base_url}/api/v2/{path}"
    headers = {"Authorization": f"Bearer {settings.support_oauth_token}"}
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            # The whole call within `timeout`, not each of its phases.
            answer = await asyncio.wait_for(http.get(url, headers=headers, params=params), timeout)
    except asyncio.TimeoutError:
        raise SupportApiError(f"GET /api/v2/{path}: no answer within {timeout:g} s") from None
    except httpx.HTTPError as error:
        raise SupportApiError(f"GET /api/v2/{path}: {type(error).__name__}") from None
    if answer.status_code != 200:
        raise SupportApiError(f"GET /api/v2/{path}: {answer.status_code}")
    try:
        body = answer.json()
    except ValueError:
        raise SupportApiError(f"GET /api/v2/{path}: not JSON") from None
    if not isinstance(body, dict):
        raise SupportApiError(f"GET /api/v2/{path}: not a JSON object")
    return body


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
