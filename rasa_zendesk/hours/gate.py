"""Can an agent answer now? Asked before every handoff, by the escalation action.

Closed when outside the connector's business hours, on a holiday, or (with
`check_agent_availability`) when Zendesk says no agent is online for messaging. The schedule
comes from the settings, or from Zendesk (`business_hours_from_zendesk`, cached ten minutes,
the settings' schedule while Zendesk cannot be reached). Availability is cached a minute (the
endpoint is rate-limited) and never costs the user more than a second: when Zendesk does not
answer in time, the handoff goes ahead as if agents were online. Times come from `clock`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Dict, Optional, Tuple

from rasa_zendesk import clock
from rasa_zendesk.hours import support_api
from rasa_zendesk.schedule import Schedule, in_words
from rasa_zendesk.settings import ZendeskSettings

logger = logging.getLogger(__name__)

OUTSIDE_HOURS = "outside_hours"
HOLIDAY = "holiday"
AGENTS_OFFLINE = "agents_offline"

SCHEDULE_TTL = 600.0
SCHEDULE_RETRY = 60.0
SCHEDULE_TIMEOUT = 2.0
AVAILABILITY_TTL = 60.0
AVAILABILITY_TIMEOUT = 1.0

#: Per connector settings: the value and until when it holds (clock seconds).
_schedules: Dict[ZendeskSettings, Tuple[Schedule, float]] = {}
_availability: Dict[ZendeskSettings, Tuple[bool, float]] = {}


@dataclass(frozen=True)
class Closed:
    """Why no agent can answer now, and when they are back (None: not known)."""

    reason: str
    next_opening: Optional[datetime]
    zone: tzinfo

    def opening_in_words(self, now: datetime) -> Optional[str]:
        return in_words(self.next_opening, now, self.zone) if self.next_opening else None


async def closed(settings: ZendeskSettings) -> Optional[Closed]:
    """Why no agent can answer now; None when one can (or when Zendesk cannot tell in time)."""
    now = datetime.fromtimestamp(clock.now(), timezone.utc)
    schedule = await _schedule(settings)
    if not schedule.is_open(now):
        local_day = now.astimezone(schedule.tz).date()
        reason = HOLIDAY if local_day in schedule.holidays else OUTSIDE_HOURS
        return Closed(reason, schedule.next_opening(now), schedule.tz)
    if settings.check_agent_availability and not await _agents_online(settings):
        return Closed(AGENTS_OFFLINE, None, schedule.tz)
    return None


async def _schedule(settings: ZendeskSettings) -> Schedule:
    if not settings.business_hours_from_zendesk:
        return settings.business_hours
    cached = _schedules.get(settings)
    if cached is not None and clock.now() < cached[1]:
        return cached[0]
    try:
        schedule = await support_api.read_schedule(settings, SCHEDULE_TIMEOUT)
        _schedules[settings] = (schedule, clock.now() + SCHEDULE_TTL)
    except support_api.SupportApiError as error:
        logger.warning(
            "Business hours of connector %s not read from Zendesk (%s); using the settings' "
            "schedule for now",
            settings.name,
            error,
        )
        schedule = settings.business_hours
        _schedules[settings] = (schedule, clock.now() + SCHEDULE_RETRY)
    return schedule


async def _agents_online(settings: ZendeskSettings) -> bool:
    cached = _availability.get(settings)
    if cached is not None and clock.now() < cached[1]:
        return cached[0]
    try:
        online = await support_api.agents_online(settings, AVAILABILITY_TIMEOUT)
    except support_api.SupportApiError as error:
        logger.warning(
            "Agent availability of connector %s unknown (%s); handing off as usual",
            settings.name,
            error,
        )
        online = True
    _availability[settings] = (online, clock.now() + AVAILABILITY_TTL)
    return online
