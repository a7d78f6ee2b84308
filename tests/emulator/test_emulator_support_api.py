"""The Zendesk Support API the plugin asks before a handoff: business-hours schedules, their
holidays, agent availability; its control API (`/_emulator/support`), token and CLI option.

Every answer is checked against the shapes Zendesk documents (`check_*` below).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Dict, Optional, Tuple

import aiohttp
import pytest

from rasa_zendesk.emulator import EmulatorConfig, run_emulator
from rasa_zendesk.emulator.config import build_parser, parse_config
from rasa_zendesk.emulator.testing import EmulatorProcess
from testkit.emulator_control import EmulatorControl
from testkit.emulator_support import SunCoApi

pytestmark = pytest.mark.timeout(30)

TOKEN = "zdoauth_demo"
DAY = 1440
WEEK = 7 * DAY
AGENT_ID = 900001
SCHEDULES = "/api/v2/business_hours/schedules"
HOLIDAYS = SCHEDULES + "/1/holidays"
AVAILABILITY = "/api/v2/agent_availabilities"
ONLINE = {"filter[channel_status]": "messaging:online", "page[size]": "1"}
ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
#: Mon-Fri 09:00-17:00, and Friday 22:00 to Saturday 02:00 (cut at midnight).
OFFICE = {
    "id": 7,
    "name": "Office",
    "timeZone": "Berlin",
    "intervals": [{"startTime": d * DAY + 540, "endTime": d * DAY + 1020} for d in range(1, 6)]
    + [{"startTime": 5 * DAY + 1320, "endTime": 6 * DAY + 120}],
}
CHRISTMAS = {"name": "Christmas", "startDate": "2026-12-24", "endDate": "2026-12-26"}

Answer = Tuple[int, Any, Dict[str, str]]


async def get(
    api: SunCoApi,
    path: str,
    token: Optional[str] = TOKEN,
    params: Optional[Dict[str, str]] = None,
    timeout: float = 5.0,
) -> Answer:
    """A Support API call as the plugin makes it: Bearer token, a short timeout."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with api.session.get(
        api.server.base_url + path, headers=headers, params=params, timeout=timeout
    ) as response:
        return response.status, await response.json(), dict(response.headers)


# The shapes Zendesk documents.
def check_schedule(schedule: Dict[str, Any]) -> None:
    assert set(schedule) == {"id", "name", "time_zone", "intervals", "created_at", "updated_at"}
    assert isinstance(schedule["id"], int) and isinstance(schedule["name"], str)
    assert isinstance(schedule["time_zone"], str) and "/" not in schedule["time_zone"]
    assert ISO_SECONDS.match(schedule["created_at"]) and ISO_SECONDS.match(schedule["updated_at"])
    for interval in schedule["intervals"]:
        assert set(interval) == {"start_time", "end_time"}
        start, end = interval["start_time"], interval["end_time"]
        assert isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= WEEK
        assert start // DAY == (end - 1) // DAY, "an interval never spans calendar days"


def check_holiday(holiday: Dict[str, Any]) -> None:
    assert set(holiday) == {"id", "name", "start_date", "end_date"}
    assert isinstance(holiday["id"], int) and isinstance(holiday["name"], str)
    assert ISO_DATE.match(holiday["start_date"]) and ISO_DATE.match(holiday["end_date"])
    assert holiday["start_date"] <= holiday["end_date"]


def check_availabilities(document: Dict[str, Any]) -> None:
    """A JSON:API compound document of agent availabilities with their channels."""
    assert set(document) == {"data", "included", "links", "meta"}
    assert isinstance(document["meta"]["has_more"], bool)
    assert set(document["links"]) >= {"next", "prev"}
    channels = {c["id"]: c for c in document["included"]}
    for resource in document["data"]:
        assert resource["type"] == "agent_availabilities"
        attributes = resource["attributes"]
        assert resource["id"] == f"agent_availabilities|{attributes['agent_id']}"
        assert isinstance(attributes["agent_id"], int) and isinstance(attributes["version"], int)
        assert isinstance(attributes["group_ids"], list) and isinstance(attributes["skills"], list)
        assert resource["links"]["self"].endswith(f"{AVAILABILITY}/{attributes['agent_id']}")
        for reference in resource["relationships"]["channels"]["data"]:
            assert reference["type"] == "channels"
            channel = channels[reference["id"]]
            assert channel["type"] == "channels"
            assert channel["id"].startswith(resource["id"] + "|channels|")
            assert set(channel["attributes"]) >= {"name", "status", "work_item_count"}
            assert channel["attributes"]["status"] in (
                "online",
                "away",
                "transfers_only",
                "offline",
            )


def check_error(answer: Answer, status: int, error: str) -> None:
    code, body, _ = answer
    assert code == status, answer
    assert body == {"error": error, "description": body["description"]}, body


def check_refused(answer: Answer) -> None:
    status, body, headers = answer
    assert status == 401 and set(body) == {"error", "error_description"}, answer
    assert body["error"] == "invalid_token" and body["error_description"]
    assert headers["WWW-Authenticate"].startswith("Bearer ")


async def support(api: SunCoApi, body: Any = None, expect: int = 200) -> Dict[str, Any]:
    if body is None:
        return await api.control("GET", "/support")
    return await api.control("POST", "/support", body, expect=expect)


async def agents(api: SunCoApi, **query: str) -> Dict[str, Any]:
    status, document, _ = await get(api, AVAILABILITY, params=query or ONLINE)
    assert status == 200, document
    check_availabilities(document)
    return document


async def test_defaults_open_all_week_in_utc_with_the_agent_online(api: SunCoApi) -> None:
    for path in (SCHEDULES, SCHEDULES + ".json"):
        status, body, _ = await get(api, path)
        assert status == 200 and set(body) == {"schedules"}
        (schedule,) = body["schedules"]
        check_schedule(schedule)
        assert (schedule["id"], schedule["name"], schedule["time_zone"]) == (1, "Support", "UTC")
        # Zendesk's 24/7: every day from midnight to midnight.
        whole_days = [{"start_time": d * DAY, "end_time": (d + 1) * DAY} for d in range(7)]
        assert schedule["intervals"] == whole_days
    status, body, _ = await get(api, SCHEDULES + "/1.json")
    assert status == 200 and body["schedule"]["id"] == 1
    for path in (HOLIDAYS, HOLIDAYS + ".json"):
        assert (await get(api, path))[:2] == (200, {"holidays": []})

    document = await agents(api)
    (agent,) = document["data"]
    assert agent["attributes"]["agent_id"] == AGENT_ID
    assert agent["attributes"]["agent_status"]["name"] == "Online"
    statuses = {c["attributes"]["name"]: c["attributes"]["status"] for c in document["included"]}
    assert statuses["messaging"] == "online"
    assert document["meta"]["has_more"] is False and document["links"]["next"] is None

    view = await support(api)
    assert view["agentsOnline"] is True and view["holidays"] == [] and view["tokenSet"] is True
    assert view["schedule"]["timeZone"] == "UTC" and len(view["schedule"]["intervals"]) == 7
    assert view["inWords"][1:3] == ["Sunday: 00:00–24:00", "Monday: 00:00–24:00"]


@pytest.mark.parametrize("path", [SCHEDULES, SCHEDULES + ".json", HOLIDAYS, AVAILABILITY])
async def test_every_endpoint_wants_the_bearer_token(api: SunCoApi, path: str) -> None:
    check_refused(await get(api, path, token=None))
    check_refused(await get(api, path, token="not-the-token"))
    check_refused(await get(api, path, token=TOKEN + "x"))
    async with api.session.get(
        api.server.base_url + path,
        auth=api.auth,  # a SunCo key is no Support credential
    ) as response:
        assert response.status == 401
    assert (await get(api, path))[0] == 200
    log = (await api.control("GET", "/requests?pathContains=/api/v2/"))["requests"]
    assert [r["status"] for r in log] == [401, 401, 401, 401, 200]
    assert {r["appId"] for r in log} == {"app_demo"}


async def test_the_switch_takes_the_agent_offline_and_back(api: SunCoApi) -> None:
    before = (await agents(api))["data"][0]["attributes"]["version"]
    view = await support(api, {"agentsOnline": False})
    assert view["agentsOnline"] is False
    assert (await agents(api))["data"] == []
    offline = await agents(api, **{"filter[channel_status]": "messaging:offline"})
    (agent,) = offline["data"]
    assert agent["attributes"]["agent_status"]["name"] == "Offline"
    assert agent["attributes"]["version"] > before
    assert {c["attributes"]["status"] for c in offline["included"]} == {"offline"}
    assert (await agents(api, **{"filter[agent_status_id]": "3"}))["data"] == []
    assert len((await agents(api, **{"filter[agent_status_id]": "2"}))["data"]) == 1

    await support(api, {"agentsOnline": True})
    assert len((await agents(api))["data"]) == 1
    assert (await support(api))["agentsOnline"] is True


async def test_filters_and_channels_answer_consistently(api: SunCoApi) -> None:
    assert len((await agents(api, **{"filter[agent_id]": f"1,{AGENT_ID}"}))["data"]) == 1
    assert (await agents(api, **{"filter[agent_id]": "1"}))["data"] == []
    assert (await agents(api, **{"filter[channel_status]": "talk:online"}))["data"] == []
    everything = await agents(api, **{"page[size]": "100"})
    assert len(everything["data"]) == 1  # no filter: the agent, whatever its status
    messaging = await agents(api, **{"select_channel": "messaging", **ONLINE})
    assert [c["attributes"]["name"] for c in messaging["included"]] == ["messaging"]
    # The agent's messaging work items are the conversations with Agent Workspace.
    await api.handed_off()
    (channel,) = (await agents(api, select_channel="messaging"))["included"]
    assert channel["attributes"]["work_item_count"] == 1
    status, body, _ = await get(api, f"{AVAILABILITY}/{AGENT_ID}")
    assert status == 200 and body["data"]["id"] == f"agent_availabilities|{AGENT_ID}"
    assert (await get(api, f"{AVAILABILITY}/1"))[0] == 404


@pytest.mark.parametrize(
    "query",
    [
        {"filter[skills]": "x"},
        {"filter[channel_status]": "messaging"},
        {"filter[channel_status]": "chat:online"},
        {"filter[channel_status]": "messaging:busy"},
        {"filter[agent_status_id]": "online"},
        {"page[size]": "0"},
        {"page[size]": "101"},
        {"page[after]": "abc"},
        {"select_channel": "fax"},
    ],
)
async def test_bad_queries_are_json_api_errors(api: SunCoApi, query: Dict[str, str]) -> None:
    status, body, _ = await get(api, AVAILABILITY, params=query)
    assert status == 400 and set(body) == {"errors"}, body
    (error,) = body["errors"]
    assert error["status"] == "400" and error["code"] and error["title"]


async def test_schedule_and_holidays_set_here_are_read_back_there(api: SunCoApi) -> None:
    view = await support(api, {"schedule": OFFICE, "holidays": [CHRISTMAS]})
    assert view["schedule"]["timeZone"] == "Berlin" and view["holidays"] == [CHRISTMAS]
    status, body, _ = await get(api, SCHEDULES)
    (schedule,) = body["schedules"]
    check_schedule(schedule)
    assert (schedule["id"], schedule["name"], schedule["time_zone"]) == (7, "Office", "Berlin")
    weekdays = [[d * DAY + 540, d * DAY + 1020] for d in range(1, 6)]
    across_midnight = [[5 * DAY + 1320, 6 * DAY], [6 * DAY, 6 * DAY + 120]]
    got = [[i["start_time"], i["end_time"]] for i in schedule["intervals"]]
    assert got == sorted(weekdays + across_midnight)
    assert view["schedule"]["intervals"] == [{"startTime": s, "endTime": e} for s, e in got]

    status, body, _ = await get(api, SCHEDULES + "/7/holidays.json")
    (holiday,) = body["holidays"]
    check_holiday(holiday)
    assert (holiday["name"], holiday["start_date"], holiday["end_date"]) == (
        "Christmas",
        "2026-12-24",
        "2026-12-26",
    )
    check_error(await get(api, HOLIDAYS), 404, "RecordNotFound")  # schedule 1 is gone
    check_error(await get(api, SCHEDULES + "/1"), 404, "RecordNotFound")
    check_error(await get(api, "/api/v2/tickets"), 404, "InvalidEndpoint")
    words = view["inWords"]
    assert "Monday: 09:00–17:00" in words and "Friday: 09:00–17:00, 22:00–24:00" in words
    assert "Saturday: 00:00–02:00" in words and "Sunday: closed" in words
    assert "Holiday Christmas: 2026-12-24 to 2026-12-26, closed" in words

    # Only the parts named change; no schedule at all takes the holidays with it.
    assert (await support(api, {"agentsOnline": False}))["holidays"] == [CHRISTMAS]
    view = await support(api, {"schedule": None})
    assert view["schedule"] is None and view["holidays"] == []
    assert (await get(api, SCHEDULES))[:2] == (200, {"schedules": []})
    check_error(await get(api, SCHEDULES + "/7/holidays"), 404, "RecordNotFound")


@pytest.mark.parametrize(
    "body, says",
    [
        ({"schedule": {"intervals": [{"startTime": 600, "endTime": 600}]}}, "after startTime"),
        ({"schedule": {"intervals": [{"startTime": 900, "endTime": 600}]}}, "after startTime"),
        ({"schedule": {"intervals": [{"startTime": 0, "endTime": WEEK + 1}]}}, "10080"),
        ({"schedule": {"intervals": [{"startTime": -1, "endTime": 60}]}}, "startTime"),
        (
            {"schedule": {"intervals": [{"startTime": 0, "endTime": 600}] * 2}},
            "overlap at minute 0",
        ),
        ({"schedule": {"timeZone": "Europe/Berlin", "intervals": []}}, "Zendesk time zone"),
        ({"schedule": {"name": "", "intervals": []}}, "name"),
        ({"schedule": {"timeZone": "UTC"}}, "intervals"),
        ({"holidays": [{**CHRISTMAS, "startDate": "2026-02-30"}]}, "date like"),
        ({"holidays": [{**CHRISTMAS, "endDate": "24.12.2026"}]}, "date like"),
        ({"holidays": [{**CHRISTMAS, "endDate": "2026-12-23"}]}, "not be before"),
        ({"schedule": None, "holidays": [CHRISTMAS]}, "belong to a schedule"),
        ({"agentsOnline": "yes"}, "agentsOnline"),
        ({"agentOnline": False}, "agentOnline: extra fields not permitted"),
        ({"oauthToken": ""}, "oauthToken: must not be empty"),
    ],
)
async def test_bad_control_bodies_are_refused_and_change_nothing(
    api: SunCoApi, body: Dict[str, Any], says: str
) -> None:
    before = await support(api)
    refused = await support(api, body, expect=400)
    titles = " | ".join(e["title"] for e in refused["errors"])
    assert says in titles, titles
    assert await support(api) == before


async def test_reset_restores_the_defaults_and_keeps_the_token(api: SunCoApi) -> None:
    await support(api, {"agentsOnline": False, "schedule": OFFICE, "holidays": [CHRISTMAS]})
    await support(api, {"oauthToken": "tok-after-reset"})
    await api.control("POST", "/reset")
    view = await support(api)
    assert view["agentsOnline"] is True and view["holidays"] == []
    assert (view["schedule"]["id"], view["schedule"]["timeZone"]) == (1, "UTC")
    check_refused(await get(api, SCHEDULES))
    assert (await get(api, SCHEDULES, token="tok-after-reset"))[0] == 200


async def test_faults_and_the_request_log_apply(api: SunCoApi) -> None:
    fault = {"pathContains": "/api/v2/agent_availabilities", "status": 503}
    await api.control("POST", "/faults", fault, expect=201)
    check_error(await get(api, AVAILABILITY, params=ONLINE), 503, "internal_error")
    assert (await get(api, AVAILABILITY, params=ONLINE))[0] == 200  # the fault is used up
    await api.control("POST", "/faults", {"pathContains": "/schedules", "status": 429}, expect=201)
    status, _, headers = await get(api, SCHEDULES)
    assert status == 429 and headers["Retry-After"] == "1"

    log = (await api.control("GET", "/requests?pathContains=/api/v2/"))["requests"]
    assert [(r["path"], r["status"], r["fault"]) for r in log] == [
        (AVAILABILITY, 503, 503),
        (AVAILABILITY, 200, None),
        (SCHEDULES, 429, 429),
    ]
    assert log[0]["query"] == ONLINE and log[0]["method"] == "GET"


async def test_a_hang_outlasts_the_client_timeout(api: SunCoApi) -> None:
    await api.control("POST", "/faults", {"pathContains": "/holidays", "hang": True}, expect=201)
    with pytest.raises(asyncio.TimeoutError):
        await get(api, HOLIDAYS, timeout=0.5)
    (entry,) = (await api.control("GET", "/requests?pathContains=/holidays"))["requests"]
    assert entry["fault"] == "hang"


async def test_the_token_is_never_in_the_log_or_a_view(api: SunCoApi) -> None:
    secret = "zd-oauth-very-secret-4711"
    view = await support(api, {"oauthToken": secret})
    assert view["tokenSet"] is True
    assert (await get(api, SCHEDULES, token=secret))[0] == 200
    check_refused(await get(api, SCHEDULES, token=secret + "-wrong"))
    check_refused(await get(api, SCHEDULES))  # the old token no longer works
    seen = [await api.control("GET", path) for path in ("/requests", "/support", "/state")]
    text = json.dumps(seen)
    assert secret not in text and TOKEN not in text and "Bearer" not in text

    view = await support(api, {"oauthToken": None})
    assert view["tokenSet"] is False
    check_refused(await get(api, SCHEDULES, token=secret))


async def test_the_testkit_drives_it(api: SunCoApi) -> None:
    control = EmulatorControl(api.server.base_url)
    try:
        assert (await control.support())["agentsOnline"] is True
        view = await control.set_support(agentsOnline=False, schedule=None)
        assert view["agentsOnline"] is False and view["schedule"] is None
        assert (await control.support()) == view
    finally:
        await control.close()


def test_the_cli_option_sets_the_token() -> None:
    help_text = " ".join(build_parser().format_help().split())
    assert "--support-oauth-token" in help_text and "default zdoauth_demo" in help_text
    assert parse_config([])[0].support_oauth_token == TOKEN
    config, _ = parse_config(["--support-oauth-token", "cli-oauth-9"])
    assert config.support_oauth_token == "cli-oauth-9" and "cli-oauth-9" not in repr(config)
    # The process runner hands the config's token to the command line.
    process = EmulatorProcess(config=EmulatorConfig(support_oauth_token="proc-oauth-3"))
    try:
        assert parse_config(process.command()[3:])[0].support_oauth_token == "proc-oauth-3"
    finally:
        process.stop()  # never started: only its log file goes


@pytest.mark.parametrize("token", ["cfg-oauth-1", ""])
async def test_the_configured_token_is_the_one_accepted(token: str) -> None:
    async with run_emulator(EmulatorConfig(port=0, support_oauth_token=token)) as server:
        async with aiohttp.ClientSession() as session:
            api = SunCoApi(session, server)
            check_refused(await get(api, SCHEDULES))
            check_refused(await get(api, SCHEDULES, token=""))
            assert (await get(api, SCHEDULES, token=token))[0] == (200 if token else 401)
            assert (await api.control("GET", "/support"))["tokenSet"] is bool(token)
