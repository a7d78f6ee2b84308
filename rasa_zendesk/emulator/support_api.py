"""The Zendesk Support API calls the plugin makes before a handoff: the business-hours
schedules, a schedule's holidays, and the agents' availability (JSON:API, as Zendesk's).

Served under `/api/v2/` (a `.json` suffix works too) from the default app's account
(`support_state`), with `Authorization: Bearer <OAuth access token>` and Zendesk's error bodies.
Each call goes through the same request log and fault injector as the SunCo API
(`middleware.guarded_call`, the default app's), so tests can make Zendesk fail or hang.
"""

import hmac
from typing import Any, Dict, List, Tuple

from aiohttp import web

from .engine import Emulator
from .errors import ApiError
from .httputil import public_base
from .middleware import Handler, guarded_call
from .registry import registry
from .support_state import Schedule
from .tickets import AGENT_USER_ID

PREFIX = "/api/v2"
INVALID_TOKEN = "The access token is missing, expired, revoked, malformed or invalid."
#: Zendesk's default unified agent statuses.
ONLINE_STATUS = {"id": 3, "name": "Online"}
OFFLINE_STATUS = {"id": 2, "name": "Offline"}
#: The console's agent works these channels (all online or all offline, as one status).
CHANNELS = ("messaging", "support")
KNOWN_CHANNELS = ("messaging", "support", "talk")
CHANNEL_STATUSES = ("online", "away", "transfers_only", "offline")
FILTERS = ("agent_id", "agent_status_id", "channel_status")
MAX_PAGE_SIZE = 100


class JsonApiError(ApiError):
    """An error of a JSON:API route (agent availability): answered as JSON:API errors."""


def zendesk_error(error: ApiError) -> web.Response:
    """Zendesk's error bodies: OAuth's for a 401, JSON:API's for agent availability, else
    the Support API's `{"error", "description"}`."""
    code, title = error.errors[0]
    body: Dict[str, Any]
    if isinstance(error, JsonApiError):
        body = {"errors": [{"status": str(error.status), "code": code, "title": title}]}
    elif error.status == 401:
        body = {"error": code, "error_description": title}
    else:
        body = {"error": code, "description": title}
    return web.json_response(body, status=error.status, headers=error.headers)


def _account(request: web.Request) -> Emulator:
    return registry(request).default


def _authenticate(request: web.Request) -> None:
    token = _account(request).support.oauth_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    valid = scheme.lower() == "bearer" and token is not None
    if not (valid and hmac.compare_digest(given.strip().encode(), str(token).encode())):
        challenge = 'Bearer realm="Zendesk", error="invalid_token"'
        raise ApiError(401, "invalid_token", INVALID_TOKEN, headers={"WWW-Authenticate": challenge})


def _guarded(handler: Handler) -> Handler:
    """`handler` as a Support API route: Bearer token, Zendesk's errors, the default app's
    request log and faults."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        return await guarded_call(request, handler, _account(request), _authenticate, zendesk_error)

    return guarded


def _not_found() -> ApiError:
    return ApiError(404, "RecordNotFound", "Not found")


def _schedule(request: web.Request) -> Schedule:
    schedule = _account(request).support.schedule
    if schedule is None or str(schedule.id) != request.match_info["schedule_id"]:
        raise _not_found()
    return schedule


async def list_schedules(request: web.Request) -> web.Response:
    schedule = _account(request).support.schedule
    return web.json_response({"schedules": [schedule.to_api()] if schedule else []})


async def show_schedule(request: web.Request) -> web.Response:
    return web.json_response({"schedule": _schedule(request).to_api()})


async def list_holidays(request: web.Request) -> web.Response:
    _schedule(request)
    holidays = _account(request).support.holidays
    return web.json_response({"holidays": [holiday.to_api() for holiday in holidays]})


def _bad_query(title: str) -> JsonApiError:
    return JsonApiError(400, "InvalidParameter", title)


def _ints(name: str, text: str) -> List[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise _bad_query(f"filter[{name}] must be a number (or numbers, comma-separated)") from None


def _matches(filters: Dict[str, str], online: bool, channels: Tuple[str, ...]) -> bool:
    """Whether the console's agent passes every filter (each checked even when one fails)."""
    status = "online" if online else "offline"
    found = True
    for name, value in filters.items():
        if name == "agent_id":
            found &= AGENT_USER_ID in _ints(name, value)
        elif name == "agent_status_id":
            wanted = (ONLINE_STATUS if online else OFFLINE_STATUS)["id"]
            found &= wanted in _ints(name, value)
        else:
            channel, _, wanted_status = value.partition(":")
            if channel not in KNOWN_CHANNELS or wanted_status not in CHANNEL_STATUSES:
                raise _bad_query(
                    "filter[channel_status] must be <channel>:<status>, e.g. messaging:online"
                )
            found &= channel in channels and wanted_status == status
    return found


def _query(request: web.Request) -> Tuple[Dict[str, str], int, Tuple[str, ...]]:
    """The filters, the page size and the channels shown (`select_channel`) of a list call."""
    query = request.query
    filters = {}
    for key, value in query.items():
        if key.startswith("filter[") and key.endswith("]"):
            name = key[len("filter[") : -1]
            if name not in FILTERS:
                raise _bad_query(f"Unsupported filter {name!r}; known: {', '.join(FILTERS)}")
            filters[name] = value
        elif key in ("page[after]", "page[before]"):
            raise _bad_query(f"{key}: not a cursor this API handed out")
    try:
        size = int(query.get("page[size]", MAX_PAGE_SIZE))
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _bad_query(f"page[size] must be a number from 1 to {MAX_PAGE_SIZE}")
    selected = query.get("select_channel")
    if selected is not None and selected not in KNOWN_CHANNELS:
        raise _bad_query(f"select_channel must be one of {', '.join(KNOWN_CHANNELS)}")
    channels = tuple(c for c in CHANNELS if selected in (None, c))
    return filters, size, channels


def _open_work_items(emulator: Emulator) -> int:
    """Conversations with Agent Workspace now: the agent's messaging work items."""
    conversations = emulator.store.conversations.values()
    return sum(1 for c in conversations if c.active is not None and c.active.is_agent_workspace)


def _availability(
    request: web.Request, channels: Tuple[str, ...]
) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """The console's agent as an `agent_availabilities` resource, and its channel resources."""
    emulator = _account(request)
    state = emulator.support
    status = "online" if state.agents_online else "offline"
    key = f"agent_availabilities|{AGENT_USER_ID}"
    included = [
        {
            "type": "channels",
            "id": f"{key}|channels|{name}",
            "attributes": {
                "name": name,
                "status": status,
                "updated_at": state.changed_at,
                "work_item_count": _open_work_items(emulator) if name == "messaging" else 0,
            },
            "relationships": {"work_items": {"data": [], "meta": {"has_more": False}}},
        }
        for name in channels
    ]
    agent_status = ONLINE_STATUS if state.agents_online else OFFLINE_STATUS
    resource = {
        "type": "agent_availabilities",
        "id": key,
        "attributes": {
            "agent_id": AGENT_USER_ID,
            "agent_status": {**agent_status, "updated_at": state.changed_at},
            "group_ids": [],
            "skills": [],
            "version": state.version,
        },
        "relationships": {
            "channels": {"data": [{"type": "channels", "id": c["id"]} for c in included]}
        },
        "links": {
            "self": f"{public_base(request, emulator.config)}{PREFIX}/agent_availabilities/"
            f"{AGENT_USER_ID}"
        },
    }
    return resource, included


async def list_agent_availabilities(request: web.Request) -> web.Response:
    """The agents (the console's agent, or none) that pass the filters, one page."""
    filters, _, channels = _query(request)  # one agent at most: any page size holds it
    state = _account(request).support
    data: List[Dict[str, Any]] = []
    included: List[Dict[str, Any]] = []
    if _matches(filters, state.agents_online, channels):
        resource, included = _availability(request, channels)
        data = [resource]
    first = f"{public_base(request, _account(request).config)}{request.path_qs}"
    return web.json_response(
        {
            "data": data,
            "included": included,
            "links": {"first": first, "next": None, "prev": None},
            "meta": {"has_more": False, "after_cursor": None, "before_cursor": None},
        }
    )


async def show_agent_availability(request: web.Request) -> web.Response:
    if int(request.match_info["agent_id"]) != AGENT_USER_ID:
        raise JsonApiError(404, "NotFound", "Agent availability not found")
    _, _, channels = _query(request)
    resource, included = _availability(request, channels)
    return web.json_response({"data": resource, "included": included})


async def unknown_endpoint(request: web.Request) -> web.Response:
    raise ApiError(404, "InvalidEndpoint", "Not found")


def add_routes(app: web.Application) -> None:
    """Register the Support API routes; Zendesk answers with and without `.json`."""
    schedule = PREFIX + "/business_hours/schedules/{schedule_id:\\d+}"
    for path, handler in (
        (PREFIX + "/business_hours/schedules", list_schedules),
        (schedule, show_schedule),
        (schedule + "/holidays", list_holidays),
        (PREFIX + "/agent_availabilities", list_agent_availabilities),
        (PREFIX + "/agent_availabilities/{agent_id:\\d+}", show_agent_availability),
    ):
        app.router.add_get(path + ".json", _guarded(handler))
        app.router.add_get(path, _guarded(handler))
    # Last: any other path under the prefix is Zendesk's 404, logged and faulted like the rest.
    app.router.add_route("*", PREFIX + "/{tail:.*}", _guarded(unknown_endpoint))
