"""Control routes of the Zendesk tickets behind handoffs: set a ticket's status as an agent
would, and configure the account's ticket-status webhooks (`?app=` picks the app).

`POST /_emulator/conversations/{id}/ticket {"status": "solved"}` sends
`zen:event-type:ticket.status_changed`; `closed` also hands the conversation back (reason
ticketClosed), as `/solve` does. `GET /_emulator/tickets` lists an app's tickets, newest first,
filtered by `?status=`, `group=`, `brand=`, `externalId=` (the requester's), `csat=` (the
rating of the `rasa_csat_<n>` tag), `tag=` and `field.<id>=` (a custom field's value).
"""

from typing import Any, Dict, Literal, Optional

from aiohttp import web
from pydantic import SecretStr, StrictStr, validator

from .apps import check_header_name
from .bodies import Body, parse_body
from .control import PREFIX, HandbackKind, WebhookConfigBody, conversation_view, webhook_urls
from .engine import Emulator
from .errors import bad_request
from .httputil import read_json
from .registry import registry
from .store import Conversation

TicketStatus = Literal["open", "pending", "hold", "solved", "closed"]


class TicketStatusBody(Body):
    status: TicketStatus
    #: With `closed`, if Agent Workspace still has the conversation: how it gives it back.
    handback: HandbackKind = "releaseControl"


class TicketWebhookConfigBody(WebhookConfigBody):
    #: The API key header (Zendesk's "API key" authentication); null turns it off.
    apiKey: Optional[SecretStr] = None
    apiKeyHeader: Optional[StrictStr] = None

    _header = validator("apiKeyHeader", allow_reuse=True)(check_header_name)

    @validator("apiKey", allow_reuse=True)
    def _key(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if value is not None and not value.get_secret_value():
            raise ValueError("must not be empty (null turns the API key off)")
        return value


def _ticket_view(emulator: Emulator, conversation: Conversation) -> Dict[str, Any]:
    return {
        "ticket": conversation.ticket.to_view() if conversation.ticket else None,
        "conversation": conversation_view(emulator, conversation),
    }


async def get_ticket(request: web.Request) -> web.Response:
    emulator, conversation = registry(request).conversation(request.match_info["conversationId"])
    return web.json_response(_ticket_view(emulator, conversation))


async def set_ticket_status(request: web.Request) -> web.Response:
    emulator, conversation = registry(request).conversation(request.match_info["conversationId"])
    body = parse_body(TicketStatusBody, await read_json(request))
    emulator.set_ticket_status(conversation, body.status, body.handback)
    return web.json_response(_ticket_view(emulator, conversation))


TICKET_FILTERS = ("status", "group", "brand", "externalId", "csat", "tag")


def _filters(request: web.Request) -> Dict[str, str]:
    filters = {}
    for name, value in request.query.items():
        if name == "app":
            continue
        custom = name.startswith("field.") and name[len("field.") :].isdigit()
        if name not in TICKET_FILTERS and not custom:
            known = ", ".join((*TICKET_FILTERS, "field.<id>"))
            raise bad_request(f"unknown ticket filter {name!r}; known: {known}")
        filters[name] = value
    return filters


async def list_tickets(request: web.Request) -> web.Response:
    emulator = registry(request).app_of(request)
    found = emulator.tickets.find(_filters(request))
    return web.json_response({"tickets": [ticket.to_view() for ticket in found]})


async def get_ticket_webhook_config(request: web.Request) -> web.Response:
    return web.json_response(registry(request).app_of(request).ticket_sender.view())


async def set_ticket_webhook_config(request: web.Request) -> web.Response:
    emulator = registry(request).app_of(request)
    body = parse_body(TicketWebhookConfigBody, await read_json(request))
    emulator.ticket_sender.configure(urls=webhook_urls(body), secret=body.secret)
    if "apiKey" in body.__fields_set__:
        emulator.ticket_format.set_api_key(body.apiKey.get_secret_value() if body.apiKey else None)
    if body.apiKeyHeader is not None:
        emulator.ticket_format.api_key_header = body.apiKeyHeader
    return web.json_response(emulator.ticket_sender.view())


def add_routes(app: web.Application) -> None:
    """Register the ticket routes."""
    r = app.router
    ticket = PREFIX + "/conversations/{conversationId}/ticket"
    r.add_get(ticket, get_ticket)
    r.add_post(ticket, set_ticket_status)
    r.add_get(PREFIX + "/tickets", list_tickets)
    r.add_get(PREFIX + "/ticket-webhook-config", get_ticket_webhook_config)
    r.add_post(PREFIX + "/ticket-webhook-config", set_ticket_webhook_config)
