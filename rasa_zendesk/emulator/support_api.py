"""The Zendesk Support API calls the plugin makes: before a handoff the business-hours
schedules, a schedule's holidays, and the agents' availability (JSON:API, as Zendesk's); after
one a ticket read and updated (the CSAT rating: tags, an internal note, a custom field); and
what its OAuth token is (`GET /api/v2/oauth/tokens/current.json`: scopes, expiry).

Served under `/api/v2/` (a `.json` suffix works too) from the default app's account
(`support_state`), with `Authorization: Bearer <OAuth access token>` (the configured token, or
one issued to an OAuth client, unexpired, with the scope the call needs: `read` or
`<resource>:read` to read, `write` or `tickets:write` to update a ticket) and Zendesk's error
bodies.
Each call goes through the same request log and fault injector as the SunCo API
(`middleware.guarded_call`, the default app's), so tests can make Zendesk fail or hang.
"""

from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from .engine import Emulator
from .errors import ApiError
from .httputil import public_base, read_json
from .middleware import Handler, guarded_call
from .registry import registry
from .support_state import AccessToken, Schedule
from .tickets import AGENT_USER_ID, PRIORITIES, Ticket, parse_tags

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


FORBIDDEN = (
    "You do not have access to this page. Please contact the account owner of this help desk "
    "for further help."
)
TOKEN = "support_token"
TICKET_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")


class JsonApiError(ApiError):
    """An error of a JSON:API route (agent availability): answered as JSON:API errors."""


class RecordInvalid(ApiError):
    """Zendesk's 422: the record's validation failed, with `details` per field."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(422, "RecordInvalid", "Record validation errors")
        self.details = {field: [{"description": description}]}


def zendesk_error(error: ApiError) -> web.Response:
    """Zendesk's error bodies: OAuth's for a 401, JSON:API's for agent availability, else
    the Support API's `{"error", "description"}` (and `details` of a 422)."""
    code, title = error.errors[0]
    body: Dict[str, Any]
    if isinstance(error, JsonApiError):
        body = {"errors": [{"status": str(error.status), "code": code, "title": title}]}
    elif error.status == 401:
        body = {"error": code, "error_description": title}
    else:
        body = {"error": code, "description": title}
        if isinstance(error, RecordInvalid):
            body["details"] = error.details
    return web.json_response(body, status=error.status, headers=error.headers)


def _account(request: web.Request) -> Emulator:
    return registry(request).default


def _authenticate(request: web.Request, resource: Optional[str]) -> None:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    token = (
        _account(request).support.accepted(given.strip()) if scheme.lower() == "bearer" else None
    )
    if token is None:
        challenge = 'Bearer realm="Zendesk", error="invalid_token"'
        raise ApiError(401, "invalid_token", INVALID_TOKEN, headers={"WWW-Authenticate": challenge})
    access = "read" if request.method in ("GET", "HEAD") else "write"
    scoped = resource is not None and f"{resource}:{access}" not in token.scopes
    if scoped and access not in token.scopes:
        raise ApiError(403, "Forbidden", FORBIDDEN)
    request[TOKEN] = token


def _guarded(handler: Handler, resource: Optional[str] = "read") -> Handler:
    """`handler` as a Support API route: Bearer token with the scope the call needs on
    `resource` (None: any valid token), Zendesk's errors, the default app's request log and
    faults."""

    def authenticate(request: web.Request) -> None:
        _authenticate(request, resource)

    async def guarded(request: web.Request) -> web.StreamResponse:
        return await guarded_call(request, handler, _account(request), authenticate, zendesk_error)

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


async def current_token(request: web.Request) -> web.Response:
    """The token the call came with: scopes, expiry, the first 10 characters."""
    token: AccessToken = request[TOKEN]
    base = public_base(request, _account(request).config)
    return web.json_response({"token": token.to_api(base)})


def _ticket(request: web.Request) -> Ticket:
    ticket = _account(request).tickets.tickets.get(int(request.match_info["ticket_id"]))
    if ticket is None:
        raise _not_found()
    return ticket


def _ticket_answer(request: web.Request, ticket: Ticket, **extra: Any) -> web.Response:
    base = public_base(request, _account(request).config)
    return web.json_response({"ticket": ticket.to_api(base), **extra})


async def show_ticket(request: web.Request) -> web.Response:
    return _ticket_answer(request, _ticket(request))


def _ids(value: Any, name: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise RecordInvalid(name, f"{name} must be a number")
    return value


def _custom_fields(value: Any) -> Dict[int, Any]:
    if not isinstance(value, list):
        raise RecordInvalid("custom_fields", "custom_fields must be a list of {id, value}")
    fields = {}
    for item in value:
        if not isinstance(item, dict) or "id" not in item:
            raise RecordInvalid("custom_fields", "each custom field needs an id and a value")
        fields[_ids(item["id"], "custom_fields.id") or 0] = item.get("value")
    return fields


def _comment(value: Any) -> Tuple[str, bool]:
    if not isinstance(value, dict):
        raise RecordInvalid("comment", "comment must be an object with a body")
    body = value.get("body") or value.get("html_body")
    if not isinstance(body, str) or not body.strip():
        raise RecordInvalid("comment", "Comment: body cannot be blank")
    public = value.get("public", True)
    if not isinstance(public, bool):
        raise RecordInvalid("comment", "public must be true or false")
    return body, public


async def update_ticket(request: web.Request) -> web.Response:
    """`PUT /api/v2/tickets/{id}`: every change checked first, then all applied (a closed
    ticket takes none: 422, as Zendesk's)."""
    emulator = _account(request)
    ticket = _ticket(request)
    body = await read_json(request)
    given = body.get("ticket") if isinstance(body, dict) else None
    if not isinstance(given, dict):
        raise ApiError(400, "InvalidParameter", "The request body needs a ticket object")
    if ticket.status == "closed":
        raise RecordInvalid("status", "Status: closed prevents ticket update")
    status = given.get("status")
    if status is not None and status not in TICKET_STATUSES:
        raise RecordInvalid("status", f"Status: {status} is not a valid status")
    priority = given.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise RecordInvalid("priority", f"Priority: {priority} is not a valid priority")
    comment = _comment(given["comment"]) if "comment" in given else None
    fields = _custom_fields(given["custom_fields"]) if "custom_fields" in given else {}
    group_id = _ids(given.get("group_id"), "group_id")
    brand_id = _ids(given.get("brand_id"), "brand_id")
    tags = list(ticket.tags)
    if "tags" in given:
        tags = parse_tags(",".join(map(str, given["tags"] or [])))
    tags += [
        t
        for t in parse_tags(",".join(map(str, given.get("additional_tags") or [])))
        if t not in tags
    ]
    removed = set(parse_tags(",".join(map(str, given.get("remove_tags") or []))))
    ticket.tags = [t for t in tags if t not in removed]
    ticket.custom_fields.update(fields)
    ticket.group_id = group_id or ticket.group_id
    ticket.brand_id = brand_id or ticket.brand_id
    ticket.priority = priority or ticket.priority
    events: List[Dict[str, Any]] = []
    if comment is not None:
        made = emulator.tickets.comment(ticket, comment[0], comment[1], AGENT_USER_ID)
        events.append(made.to_api())
    ticket.touch()
    conversation = emulator.store.conversations.get(ticket.conversation_id)
    if status is not None and status != ticket.status and conversation is not None:
        emulator.set_ticket_status(conversation, status)
    audit = {"ticket_id": ticket.id, "author_id": AGENT_USER_ID, "events": events}
    return _ticket_answer(request, ticket, audit=audit)


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
    for path in (PREFIX + "/oauth/tokens/current", PREFIX + "/oauth/tokens/current.json"):
        app.router.add_get(path, _guarded(current_token, None))  # a token reads itself
    ticket = PREFIX + "/tickets/{ticket_id:\\d+}"
    for path in (ticket, ticket + ".json"):
        app.router.add_get(path, _guarded(show_ticket, "tickets"))
        app.router.add_put(path, _guarded(update_ticket, "tickets"))
    # Last: any other path under the prefix is Zendesk's 404, logged and faulted like the rest.
    app.router.add_route("*", PREFIX + "/{tail:.*}", _guarded(unknown_endpoint))
