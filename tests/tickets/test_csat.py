"""The CSAT rating written to the handoff's ticket in the emulator: the tag, the internal
note, the custom field; once, even when Zendesk applied a write and answered it with an
error; refused on a closed ticket, as Zendesk refuses any change to one."""

from __future__ import annotations

from typing import Any, AsyncIterator, Dict, Tuple

import pytest

from rasa_zendesk.emulator import EmulatorServer
from rasa_zendesk.tickets import csat
from rasa_zendesk.tickets.support_api import SupportApiError
from testkit.emulator_support import SunCoApi
from testkit.support_tickets import connector, emulated_account, ticket_of_handoff

pytestmark = pytest.mark.timeout(30)

FIELD = "360009999999"
Account = Tuple[EmulatorServer, SunCoApi]


@pytest.fixture
async def account() -> AsyncIterator[Account]:
    async for pair in emulated_account():
        yield pair


async def ticket(api: SunCoApi, conversation_id: str) -> Dict[str, Any]:
    return (await api.control("GET", f"/conversations/{conversation_id}/ticket"))["ticket"]


def test_the_update_carries_tag_note_and_field() -> None:
    body = csat.update(4, "Quick and kind", 360009999999)["ticket"]
    assert body["additional_tags"] == ["rasa_csat_4"]
    assert body["comment"] == {
        "body": "The user rated the conversation 4 out of 5.\nComment: Quick and kind",
        "public": False,
    }
    assert body["custom_fields"] == [{"id": 360009999999, "value": 4}]
    assert "custom_fields" not in csat.update(2, None, None)["ticket"]


async def test_the_rating_lands_on_the_ticket_once(account: Account) -> None:
    server, api = account
    conversation_id, ticket_id = await ticket_of_handoff(api)
    settings = connector(server, client_credentials=True, csat_field_id=FIELD)
    assert await csat.write(settings, ticket_id, 4, "Quick and kind", 5) is True
    assert await csat.write(settings, ticket_id, 4, "Quick and kind", 5) is False
    shown = await ticket(api, conversation_id)
    assert "rasa_csat_4" in shown["tags"] and shown["csat"] == 4
    assert shown["notes"] == [
        "The user rated the conversation 4 out of 5.\nComment: Quick and kind"
    ]
    assert shown["customFields"][FIELD] == 4
    assert shown["customFields"]["360001234567"] == "12345678"  # the routing fields stay


async def test_a_write_applied_but_answered_500_is_not_repeated(account: Account) -> None:
    server, api = account
    conversation_id, ticket_id = await ticket_of_handoff(api)
    settings = connector(server)
    fault = {"method": "PUT", "pathContains": "/api/v2/tickets/", "status": 500, "after": True}
    await api.control("POST", "/faults", fault, expect=201)
    with pytest.raises(SupportApiError) as failed:
        await csat.write(settings, ticket_id, 5, None, 5)
    assert failed.value.passing  # worth another attempt...
    assert await csat.write(settings, ticket_id, 5, None, 5) is False  # ...which sees it done
    shown = await ticket(api, conversation_id)
    assert len(shown["notes"]) == 1 and shown["csat"] == 5


async def test_a_closed_ticket_takes_no_rating(account: Account) -> None:
    server, api = account
    conversation_id, ticket_id = await ticket_of_handoff(api)
    await api.solve(conversation_id)  # closes the ticket
    with pytest.raises(SupportApiError) as refused:
        await csat.write(connector(server), ticket_id, 3, "late", 5)
    assert refused.value.status == 422 and not refused.value.passing
    assert (await ticket(api, conversation_id))["notes"] == []


async def test_a_token_without_ticket_writes_is_refused(account: Account) -> None:
    server, api = account
    conversation_id, ticket_id = await ticket_of_handoff(api)
    await api.control("POST", "/support", {"oauthTokenScopes": ["read"]})
    with pytest.raises(SupportApiError) as refused:
        await csat.write(connector(server), ticket_id, 3, None, 5)
    assert refused.value.status == 403
    assert (await ticket(api, conversation_id))["csat"] is None
