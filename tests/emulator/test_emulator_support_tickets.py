"""The emulator's Support API for what comes after a handoff, as Zendesk answers it: the
ticket read and updated (tags, internal notes, custom fields; a closed ticket refuses any
change with Zendesk's 422; a token without ticket writes gets 403), `POST /oauth/tokens`
(`client_credentials` only, OAuth's errors), `GET /api/v2/oauth/tokens/current.json`; the
same unkind modes as every API call; tickets routed by group, brand, custom fields and the
requester's external id, listed and filtered by the control API."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Dict, Optional, Tuple

import aiohttp
import pytest

from rasa_zendesk.emulator import EmulatorServer
from rasa_zendesk.emulator.config import (
    DEFAULT_SUPPORT_OAUTH_CLIENT_ID,
    DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET,
    DEFAULT_SUPPORT_OAUTH_TOKEN,
)
from testkit.emulator_control import wait_for
from testkit.emulator_support import SunCoApi
from testkit.support_tickets import ROUTED, emulated_account, ticket_of_handoff

pytestmark = pytest.mark.timeout(30)

Account = Tuple[EmulatorServer, SunCoApi]
CLIENT = {
    "grant_type": "client_credentials",
    "client_id": DEFAULT_SUPPORT_OAUTH_CLIENT_ID,
    "client_secret": DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET,
    "scope": "read tickets:write",
}


@pytest.fixture
async def account() -> AsyncIterator[Account]:
    async for pair in emulated_account():
        yield pair


async def call(
    api: SunCoApi,
    method: str,
    path: str,
    body: Any = None,
    token: Optional[str] = DEFAULT_SUPPORT_OAUTH_TOKEN,
) -> Tuple[int, Dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = api.server.base_url + path
    async with api.session.request(method, url, json=body, headers=headers) as answer:
        return answer.status, await answer.json()


async def test_the_ticket_is_routed_and_takes_the_rating(account: Account) -> None:
    _, api = account
    _, ticket_id = await ticket_of_handoff(api, "rasa-routed")
    status, shown = await call(api, "GET", f"/api/v2/tickets/{ticket_id}.json")
    assert status == 200
    ticket = shown["ticket"]
    assert (ticket["group_id"], ticket["brand_id"]) == (360000111, 360000222)
    assert {"id": 360001234567, "value": "12345678"} in ticket["custom_fields"]
    update = {
        "ticket": {
            "additional_tags": ["rasa_csat_4"],
            "comment": {"body": "Rated 4", "public": False},
            "custom_fields": [{"id": 360009999999, "value": 4}],
        }
    }
    status, updated = await call(api, "PUT", f"/api/v2/tickets/{ticket_id}", update)
    assert status == 200
    assert "rasa_csat_4" in updated["ticket"]["tags"]
    assert updated["audit"]["events"][0]["public"] is False
    assert {"id": 360009999999, "value": 4} in updated["ticket"]["custom_fields"]


async def test_bad_updates_get_zendesks_errors_and_change_nothing(account: Account) -> None:
    _, api = account
    conversation_id, ticket_id = await ticket_of_handoff(api)
    path = f"/api/v2/tickets/{ticket_id}.json"
    status, body = await call(api, "PUT", path, {"ticket": {"comment": {"body": " "}}})
    assert status == 422 and body["error"] == "RecordInvalid" and "comment" in body["details"]
    status, body = await call(api, "PUT", path, {"nothing": 1})
    assert status == 400
    status, body = await call(api, "PUT", "/api/v2/tickets/99999.json", {"ticket": {}})
    assert (status, body["error"]) == (404, "RecordNotFound")
    status, body = await call(api, "PUT", path, {"ticket": {}}, token="not-a-token")
    assert (status, body["error"]) == (401, "invalid_token")
    await api.solve(conversation_id)  # closed
    status, body = await call(api, "PUT", path, {"ticket": {"additional_tags": ["x"]}})
    assert status == 422
    assert body["details"]["status"][0]["description"] == "Status: closed prevents ticket update"
    assert "x" not in (await call(api, "GET", path))[1]["ticket"]["tags"]


async def test_scopes_decide_what_a_token_may_do(account: Account) -> None:
    _, api = account
    _, ticket_id = await ticket_of_handoff(api)
    status, issued = await call(api, "POST", "/oauth/tokens", {**CLIENT, "scope": "tickets:read"})
    assert status == 200 and issued["token_type"] == "bearer"
    token = issued["access_token"]
    path = f"/api/v2/tickets/{ticket_id}.json"
    assert (await call(api, "GET", path, token=token))[0] == 200
    status, body = await call(api, "PUT", path, {"ticket": {}}, token=token)
    assert (status, body["error"]) == (403, "Forbidden")
    status, body = await call(api, "GET", "/api/v2/business_hours/schedules", token=token)
    assert status == 403
    status, current = await call(api, "GET", "/api/v2/oauth/tokens/current.json", token=token)
    assert status == 200 and current["token"]["scopes"] == ["tickets:read"]
    assert current["token"]["token"] == token[:10] and current["token"]["expires_at"]


async def test_the_token_endpoint_answers_like_zendesks(account: Account) -> None:
    _, api = account
    status, issued = await call(api, "POST", "/oauth/tokens", {**CLIENT, "expires_in": 600})
    assert status == 200
    assert set(issued) == {"access_token", "token_type", "scope", "expires_in"}
    assert (issued["scope"], issued["expires_in"]) == ("read tickets:write", 600)
    for body, wanted in (
        ({**CLIENT, "grant_type": "password"}, (400, "unsupported_grant_type")),
        ({**CLIENT, "client_secret": "wrong"}, (401, "invalid_client")),
        ({**CLIENT, "client_id": "nobody"}, (401, "invalid_client")),
        ({**CLIENT, "scope": "admin:write"}, (400, "invalid_scope")),
        ({**CLIENT, "scope": ""}, (400, "invalid_request")),
        ({**CLIENT, "expires_in": 60}, (400, "invalid_request")),
    ):
        status, refused = await call(api, "POST", "/oauth/tokens", body, token=None)
        assert (status, refused["error"]) == wanted, body
        assert set(refused) == {"error", "error_description"}
    log = (await api.control("GET", "/requests?pathContains=/oauth/tokens"))["requests"]
    assert log and all(r["body"]["client_secret"] == "<hidden>" for r in log)
    assert DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET not in str(log)


async def test_the_token_and_ticket_calls_are_as_unkind_as_the_rest(account: Account) -> None:
    _, api = account
    conversation_id, ticket_id = await ticket_of_handoff(api)
    await api.control("POST", "/faults", {"pathContains": "/oauth/tokens", "status": 503}, 201)
    assert (await call(api, "POST", "/oauth/tokens", CLIENT))[0] == 503
    assert (await call(api, "POST", "/oauth/tokens", CLIENT))[0] == 200
    after = {"method": "PUT", "pathContains": "/tickets/", "status": 500, "after": True}
    await api.control("POST", "/faults", after, 201)
    update = {"ticket": {"additional_tags": ["applied_anyway"]}}
    assert (await call(api, "PUT", f"/api/v2/tickets/{ticket_id}", update))[0] == 500
    shown = await api.control("GET", f"/conversations/{conversation_id}/ticket")
    assert "applied_anyway" in shown["ticket"]["tags"]  # applied, then answered 500
    await api.control("POST", "/latency", {"ms": 300})
    with pytest.raises(asyncio.TimeoutError):  # slow: the latency holds every call
        async with api.session.get(
            api.server.base_url + f"/api/v2/tickets/{ticket_id}.json",
            headers={"Authorization": f"Bearer {DEFAULT_SUPPORT_OAUTH_TOKEN}"},
            timeout=aiohttp.ClientTimeout(total=0.1),
        ):
            pass

    async def answered() -> bool:  # the slow call ends before the emulator stops
        log = await api.control("GET", "/requests?method=GET&pathContains=/tickets/")
        return all(r["status"] is not None for r in log["requests"])

    await wait_for(answered, "the slow call's answer", timeout=5)


async def test_tickets_filter_by_routing_and_outcome(account: Account) -> None:
    _, api = account
    await ticket_of_handoff(api, "rasa-a", ROUTED)
    other = {**ROUTED, "dataCapture.systemField.group_id": "360000999"}
    other.pop("dataCapture.ticketField.360007654321")
    _, rated = await ticket_of_handoff(api, "rasa-b", other)
    await call(
        api,
        "PUT",
        f"/api/v2/tickets/{rated}.json",
        {
            "ticket": {
                "additional_tags": ["rasa_csat_5"],
                "comment": {"body": "Great", "public": False},
            }
        },
    )

    async def ids(query: str) -> list:
        return [t["id"] for t in (await api.control("GET", "/tickets" + query))["tickets"]]

    everyone = await ids("")
    assert len(everyone) == 2
    assert await ids("?group=360000999") == [int(rated)]
    assert await ids("?brand=360000222") == everyone
    assert await ids("?externalId=rasa-b") == [int(rated)]
    assert await ids("?csat=5") == [int(rated)]
    assert await ids("?field.360007654321=billing") == [everyone[1]]
    assert await ids("?tag=rasa_csat_5&group=360000111") == []
    (shown,) = (await api.control("GET", "/tickets?csat=5"))["tickets"]
    assert shown["notes"] == ["Great"] and shown["requester"]["externalId"] == "rasa-b"
    refused = await api.control("GET", "/tickets?colour=red", expect=400)
    assert "colour" in str(refused)
