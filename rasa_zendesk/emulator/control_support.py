"""Control routes of the Zendesk Support account (`?app=` picks the app; the Support API serves
the default app's): read it, switch the agents online or offline, set the business-hours
schedule, its holidays and the accepted OAuth token.

`POST /_emulator/support` replaces only the parts it names: `{"agentsOnline": false}`,
`{"schedule": null}` (no schedule at all, and so no holidays), `{"schedule": {"timeZone":
"Berlin", "intervals": [{"startTime": 1980, "endTime": 2460}]}, "holidays": [{"name":
"Christmas", "startDate": "2026-12-24", "endDate": "2026-12-26"}]}`, `{"oauthToken": "..."}`
(null: no token is accepted), `{"oauthTokenExpiresAt": "2026-12-20T00:00:00Z",
"oauthTokenScopes": ["read"]}` (what `GET /api/v2/oauth/tokens/current.json` says of it),
`{"oauthClients": [{"identifier", "secret", "scopes"?}], "tokenLifetime": 3600}` (confidential
OAuth clients and how long their `client_credentials` tokens live). The view shows whether a
token is set, never a token or a secret.
"""

from datetime import date, datetime
from typing import Any, Dict, List, Optional

from aiohttp import web
from pydantic import (
    BaseModel,
    Extra,
    SecretStr,
    StrictBool,
    StrictStr,
    conint,
    conlist,
    constr,
    root_validator,
    validator,
)

from rasa_zendesk.hours.zone_names import RAILS_TO_IANA

from .bodies import parse_body
from .control import PREFIX
from .errors import bad_request
from .httputil import read_json
from .registry import registry
from .support_state import (
    DEFAULT_SCHEDULE_ID,
    DEFAULT_SCHEDULE_NAME,
    DEFAULT_TIME_ZONE,
    MINUTES_A_WEEK,
    Interval,
    SupportState,
    new_schedule,
)

Minute = conint(strict=True, ge=0, le=MINUTES_A_WEEK)
Name = constr(strict=True, strip_whitespace=True, min_length=1, max_length=255)


class Strict(BaseModel):
    class Config:
        extra = Extra.forbid  # a misspelt key is an error, not silently ignored


class IntervalBody(Strict):
    """Minutes since Sunday 00:00 (0..10080); one may run past midnight (it is cut there)."""

    startTime: Minute
    endTime: Minute

    @root_validator(skip_on_failure=True)
    def _ends_after_start(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values["endTime"] <= values["startTime"]:
            raise ValueError("endTime must be after startTime")
        return values


class ScheduleBody(Strict):
    id: conint(strict=True, ge=1) = DEFAULT_SCHEDULE_ID
    name: Name = DEFAULT_SCHEDULE_NAME
    #: Zendesk's (Rails) name, e.g. "Berlin" or "Eastern Time (US & Canada)", never IANA's.
    timeZone: StrictStr = DEFAULT_TIME_ZONE
    intervals: conlist(IntervalBody, max_items=200)

    @validator("timeZone")
    def _zendesk_zone(cls, value: str) -> str:
        if value not in RAILS_TO_IANA:
            raise ValueError(
                "must be a Zendesk time zone name such as Berlin, "
                "Eastern Time (US & Canada) or UTC (not an IANA name like Europe/Berlin)"
            )
        return value

    @validator("intervals")
    def _no_overlap(cls, value: List[IntervalBody]) -> List[IntervalBody]:
        ordered = sorted(value, key=lambda i: i.startTime)
        for before, after in zip(ordered, ordered[1:]):
            if after.startTime < before.endTime:
                raise ValueError(f"overlap at minute {after.startTime}")
        return value


class HolidayBody(Strict):
    name: Name
    startDate: StrictStr
    endDate: StrictStr

    @validator("startDate", "endDate")
    def _iso_date(cls, value: str) -> str:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date like 2026-12-24") from None
        if len(value) != 10:
            raise ValueError("must be a date like 2026-12-24")
        return value

    @root_validator(skip_on_failure=True)
    def _in_order(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values["endDate"] < values["startDate"]:
            raise ValueError("endDate must not be before startDate")
        return values


Scope = constr(strict=True, regex=r"^[a-z_]+(:(read|write))?$")


class OAuthClientBody(Strict):
    identifier: constr(strict=True, min_length=1, max_length=200)
    secret: SecretStr
    scopes: conlist(Scope, min_items=1, max_items=20) = ["read", "write"]


class SupportBody(Strict):
    agentsOnline: Optional[StrictBool] = None
    schedule: Optional[ScheduleBody] = None
    holidays: Optional[conlist(HolidayBody, max_items=100)] = None
    oauthToken: Optional[SecretStr] = None
    oauthTokenExpiresAt: Optional[datetime] = None
    oauthTokenScopes: Optional[conlist(Scope, min_items=1, max_items=20)] = None
    oauthClients: Optional[conlist(OAuthClientBody, max_items=20)] = None
    #: Zendesk: more than 300 seconds, less than 2 days.
    tokenLifetime: Optional[conint(strict=True, gt=300, lt=172800)] = None

    @validator("oauthToken")
    def _not_empty(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if value is not None and not value.get_secret_value():
            raise ValueError("must not be empty (null: no token is accepted)")
        return value


def apply(state: SupportState, body: SupportBody) -> None:
    """Replace the parts `body` names, all or none (400 when they do not fit together)."""
    named = body.__fields_set__
    schedule = state.schedule
    if "schedule" in named:
        given = body.schedule
        intervals = [Interval(i.startTime, i.endTime) for i in given.intervals] if given else []
        schedule = new_schedule(given.id, given.name, given.timeZone, intervals) if given else None
    holidays = state.holidays if schedule is not None else []
    if "holidays" in named:
        holidays = [
            state.holiday(h.name, date.fromisoformat(h.startDate), date.fromisoformat(h.endDate))
            for h in body.holidays or []
        ]
    if holidays and schedule is None:
        raise bad_request("holidays: they belong to a schedule, and there is none")
    state.schedule, state.holidays = schedule, holidays
    if body.agentsOnline is not None:
        state.set_agents_online(body.agentsOnline)
    if "oauthToken" in named:
        state.oauth_token = body.oauthToken.get_secret_value() if body.oauthToken else None
    if {"oauthTokenExpiresAt", "oauthTokenScopes"} & named:
        if state.oauth_token is None:
            raise bad_request("oauthTokenExpiresAt, oauthTokenScopes: no OAuth token is set")
        expires = body.oauthTokenExpiresAt
        state.set_static_token(
            expires.timestamp() if expires else None,
            tuple(body.oauthTokenScopes) if body.oauthTokenScopes else None,
        )
    for client in body.oauthClients or []:
        state.add_client(client.identifier, client.secret.get_secret_value(), tuple(client.scopes))
    if body.tokenLifetime is not None:
        state.token_lifetime = body.tokenLifetime


async def get_support(request: web.Request) -> web.Response:
    return web.json_response(registry(request).app_of(request).support.view())


async def set_support(request: web.Request) -> web.Response:
    state = registry(request).app_of(request).support
    apply(state, parse_body(SupportBody, await read_json(request)))
    return web.json_response(state.view())


def add_routes(app: web.Application) -> None:
    """Register the Support account routes."""
    app.router.add_get(PREFIX + "/support", get_support)
    app.router.add_post(PREFIX + "/support", set_support)
