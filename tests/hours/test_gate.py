"""Can an agent answer now? The gate against the emulator's Support API: the schedule read
from Zendesk (and the settings' one while Zendesk fails), agents online, the caches, and the
one-second bound. The plugin's clock is moved through `ZENDESK_CLOCK_FILE`."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import AsyncIterator, Dict

import pytest
from zoneinfo import ZoneInfo

from rasa_zendesk.emulator import EmulatorConfig, EmulatorServer, run_emulator
from rasa_zendesk.hours import gate
from rasa_zendesk.settings import Connectors, Sources, ZendeskSettings
from testkit.clock_file import ClockFile
from testkit.emulator_control import EmulatorControl

pytestmark = pytest.mark.timeout(30)

TOKEN = "zdoauth_gate_tests_0f3c"
BERLIN = ZoneInfo("Europe/Berlin")
#: Monday to Friday, 09:00-17:00, as Zendesk counts minutes (from Sunday 00:00).
WEEKDAYS = [{"startTime": day * 1440 + 540, "endTime": day * 1440 + 1020} for day in range(1, 6)]


@pytest.fixture
def clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClockFile:
    path = tmp_path / "clock"
    monkeypatch.setenv("ZENDESK_CLOCK_FILE", str(path))
    gate._schedules.clear()
    gate._availability.clear()
    return ClockFile(path, BERLIN)


@pytest.fixture
async def zendesk() -> AsyncIterator[EmulatorServer]:
    async with run_emulator(EmulatorConfig(port=0, support_oauth_token=TOKEN)) as server:
        yield server


@pytest.fixture
async def control(zendesk: EmulatorServer) -> AsyncIterator[EmulatorControl]:
    control = EmulatorControl(zendesk.base_url)
    await control.set_support(
        schedule={"name": "Support", "timeZone": "Berlin", "intervals": WEEKDAYS},
        holidays=[{"name": "Christmas", "startDate": "2026-12-24", "endDate": "2026-12-26"}],
    )
    yield control
    await control.close()


def connector(zendesk: EmulatorServer, **values: str) -> ZendeskSettings:
    env: Dict[str, str] = {
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_APP_ID": "app",
        "ZENDESK_KEY_ID": "key",
        "ZENDESK_KEY_SECRET": "secret",
        "ZENDESK_WEBHOOK_SECRET": "whsec",
        "ZENDESK_SUPPORT_OAUTH_TOKEN": TOKEN,
        "ZENDESK_SUPPORT_API_URL": zendesk.base_url,
        **{f"ZENDESK_{key.upper()}": value for key, value in values.items()},
    }
    return Connectors.read(Sources(None, env)).default


async def test_the_schedule_and_holidays_come_from_zendesk(
    zendesk: EmulatorServer, control: EmulatorControl, clock: ClockFile
) -> None:
    settings = connector(zendesk, business_hours_from_zendesk="true")
    now = clock.set("2026-12-06 03:00")  # Sunday night in Berlin
    closed = await gate.closed(settings)
    assert closed is not None and closed.reason == gate.OUTSIDE_HOURS
    assert closed.next_opening is not None
    assert closed.opening_in_words(datetime.fromtimestamp(now, BERLIN)) == "tomorrow at 9:00"
    clock.set("2026-12-07 10:00")
    assert await gate.closed(settings) is None
    clock.set("2026-12-24 10:00")  # a Thursday, but Christmas Eve; open again on the 28th
    closed = await gate.closed(settings)
    assert closed is not None and closed.reason == gate.HOLIDAY
    assert closed.next_opening == datetime(2026, 12, 28, 9, 0, tzinfo=BERLIN)
    # Each jump of the clock past ten minutes read it again (the schedule, then its
    # holidays); within ten minutes, the cache answers.
    assert len(await control.requests("/api/v2/business_hours/schedules")) == 6
    clock.set("2026-12-24 10:09")
    assert await gate.closed(settings) is not None
    assert len(await control.requests("/api/v2/business_hours/schedules")) == 6


async def test_the_schedule_is_cached_ten_minutes(
    zendesk: EmulatorServer, control: EmulatorControl, clock: ClockFile
) -> None:
    settings = connector(zendesk, business_hours_from_zendesk="true")
    clock.set("2026-12-07 10:00")
    assert await gate.closed(settings) is None
    await control.set_support(schedule=None)  # Zendesk's schedule removed: always open
    await control.set_support(
        schedule={
            "name": "Nights",
            "timeZone": "Berlin",
            "intervals": [{"startTime": 1320, "endTime": 1440}],
        }
    )
    clock.set("2026-12-07 10:09")
    assert await gate.closed(settings) is None  # still the cached weekday schedule
    clock.set("2026-12-07 10:11")
    closed = await gate.closed(settings)
    assert closed is not None and closed.reason == gate.OUTSIDE_HOURS


async def test_while_zendesk_fails_the_settings_schedule_is_used(
    zendesk: EmulatorServer,
    control: EmulatorControl,
    clock: ClockFile,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    await control._post("/_emulator/faults", {"pathContains": "/business_hours/", "status": 503})
    settings = connector(
        zendesk,
        business_hours_from_zendesk="true",
        business_hours="Europe/Berlin; sat-sun 10:00-12:00",
    )
    clock.set("2026-12-07 10:00")  # Monday: open for Zendesk, closed for the settings
    closed = await gate.closed(settings)
    assert closed is not None and closed.reason == gate.OUTSIDE_HOURS
    assert "not read from Zendesk" in caplog.text and TOKEN not in caplog.text
    await control._post("/_emulator/reset")  # Zendesk is back (its defaults: open 24/7)
    clock.set("2026-12-07 10:02")  # Zendesk is asked again after a minute
    assert await gate.closed(settings) is None


async def test_agents_offline_and_the_one_minute_cache(
    zendesk: EmulatorServer, control: EmulatorControl, clock: ClockFile
) -> None:
    settings = connector(zendesk, check_agent_availability="true")
    clock.set("2026-12-07 10:00")
    await control.set_support(agentsOnline=False)
    closed = await gate.closed(settings)
    assert closed is not None and closed.reason == gate.AGENTS_OFFLINE
    assert closed.next_opening is None
    await control.set_support(agentsOnline=True)
    clock.set("2026-12-07 10:00:59")
    assert await gate.closed(settings) is not None  # the answer of a minute ago
    clock.set("2026-12-07 10:01:01")
    assert await gate.closed(settings) is None
    asked = await control.requests("/api/v2/agent_availabilities")
    assert len(asked) == 2
    assert "messaging:online" in str(asked[0])


async def test_a_silent_zendesk_costs_at_most_a_second_and_the_handoff_goes_ahead(
    zendesk: EmulatorServer,
    control: EmulatorControl,
    clock: ClockFile,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    await control._post(
        "/_emulator/faults", {"pathContains": "/agent_availabilities", "hang": True}
    )
    settings = connector(zendesk, check_agent_availability="true")
    clock.set("2026-12-07 10:00")
    started = time.monotonic()
    assert await gate.closed(settings) is None
    assert time.monotonic() - started < 2.0  # the bound is 1 s; the rest is the test's own
    assert "availability of connector default unknown" in caplog.text


async def test_a_wrong_token_is_like_no_answer(
    zendesk: EmulatorServer, control: EmulatorControl, clock: ClockFile
) -> None:
    await control.set_support(agentsOnline=False)
    settings = connector(zendesk, check_agent_availability="true", support_oauth_token="wrong")
    clock.set("2026-12-07 10:00")
    assert await gate.closed(settings) is None


async def test_nothing_configured_asks_nobody(
    zendesk: EmulatorServer, control: EmulatorControl, clock: ClockFile
) -> None:
    settings = connector(zendesk)
    clock.set("2026-12-06 03:00")
    assert await gate.closed(settings) is None
    assert await control.requests("/api/v2/") == []
