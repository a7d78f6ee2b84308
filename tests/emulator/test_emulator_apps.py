"""Several SunCo apps ("connectors") in one emulator: each with its own key, users,
conversations, webhooks and ticket webhooks; control calls find a conversation's app by its id.

SunCo webhooks are checked against the spec by each receiver, ticket webhooks by their shape.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass
from typing import Any, AsyncIterator, Dict

import aiohttp
import pytest

from rasa_zendesk.emulator import EmulatorConfig, EmulatorServer, run_emulator
from rasa_zendesk.emulator.apps import AppBody
from rasa_zendesk.emulator.config import parse_config
from rasa_zendesk.emulator.testing import EmulatorProcess
from rasa_zendesk.emulator.webhook_formats import zendesk_signature
from testkit.emulator_support import (
    SunCoApi,
    WebhookReceiver,
    check_ticket_event,
    start_receiver,
)

pytestmark = pytest.mark.timeout(30)


@dataclass
class Receivers:
    sunco: WebhookReceiver
    tickets: WebhookReceiver


@pytest.fixture
async def app_b() -> AsyncIterator[Receivers]:
    """The second app's own webhook receivers."""
    sunco, sunco_runner = await start_receiver()
    tickets, tickets_runner = await start_receiver(check=check_ticket_event)
    yield Receivers(sunco, tickets)
    await sunco_runner.cleanup()
    await tickets_runner.cleanup()
    assert sunco.invalid == tickets.invalid == []


def second_app(receivers: Receivers, **overrides: Any) -> AppBody:
    body: Dict[str, Any] = {
        "appId": "app_b",
        "name": "brand-b",
        "keyId": "key_b",
        "keySecret": "secret_b",
        "webhookUrls": [receivers.sunco.url],
        "webhookSecret": "whsec_b",
        "ticketWebhookUrls": [receivers.tickets.url],
        "ticketWebhookSecret": "tkwh_b",
        **overrides,
    }
    return AppBody.parse_obj(body)


@pytest.fixture
def emulator_config(emulator_config: EmulatorConfig, app_b: Receivers) -> EmulatorConfig:
    return dataclasses.replace(emulator_config, apps=[second_app(app_b)])


def client_of(api: SunCoApi, app_id: str, key_id: str, key_secret: str) -> SunCoApi:
    """A SunCo client of another app of the same emulator."""
    other = SunCoApi(api.session, api.server)
    other.auth = aiohttp.BasicAuth(key_id, key_secret)
    other.app_url = f"{api.server.api_url}/v2/apps/{app_id}"
    return other


async def test_each_app_has_its_own_conversations_and_webhooks(
    api: SunCoApi, receiver: WebhookReceiver, app_b: Receivers
) -> None:
    b = client_of(api, "app_b", "key_b", "secret_b")
    in_a = await api.handed_off("rasa-1")
    in_b = await b.handed_off("rasa-1")  # the same external id: another app, another user
    assert in_a["id"] != in_b["id"]

    await receiver.wait_for(lambda r: r.events("switchboard:passControl"))
    await app_b.sunco.wait_for(lambda r: r.events("switchboard:passControl"))
    assert {e["payload"]["conversation"]["id"] for e in receiver.events()} == {in_a["id"]}
    assert {e["payload"]["conversation"]["id"] for e in app_b.sunco.events()} == {in_b["id"]}
    assert {item.body["app"]["id"] for item in receiver.received} == {"app_demo"}
    assert {item.body["app"]["id"] for item in app_b.sunco.received} == {"app_b"}
    assert {item.headers["X-API-Key"] for item in app_b.sunco.received} == {"whsec_b"}

    # Control calls find the app by the conversation id: the agent's reply goes to B's target.
    path = f"/conversations/{in_b['id']}/agent-message"
    await api.control("POST", path, {"text": "Hello from B"}, expect=201)
    await app_b.sunco.wait_for(lambda r: r.events("conversation:message"))
    assert receiver.events("conversation:message") == []

    # Tickets: each account numbers its own, and signs with its own secret.
    state = await api.control("GET", "/state")
    tickets = {c["appId"]: c["ticket"] for c in state["conversations"]}
    assert tickets["app_demo"]["id"] == tickets["app_b"]["id"] == 1001
    await api.control("POST", f"/conversations/{in_b['id']}/ticket", {"status": "solved"})
    await app_b.tickets.wait_for(lambda r: len(r.received) == 2)  # NEW->OPEN, OPEN->SOLVED
    for item in app_b.tickets.received:
        stamp = item.headers["X-Zendesk-Webhook-Signature-Timestamp"]
        signature = zendesk_signature("tkwh_b", stamp, item.raw)
        assert item.headers["X-Zendesk-Webhook-Signature"] == signature
        assert item.headers["X-Zendesk-Account-Id"] == str(item.body["account_id"]) != "1000001"
        assert "X-API-Key" not in item.headers

    # The views name each conversation's app; `?app=` narrows them.
    assert sorted(c["appId"] for c in state["conversations"]) == ["app_b", "app_demo"]
    only_b = await api.control("GET", "/state?app=app_b")
    assert [c["id"] for c in only_b["conversations"]] == [in_b["id"]]
    assert only_b["app"] == {"id": "app_b"}
    queue = await api.control("GET", "/queue")
    assert {(c["id"], c["appId"]) for c in queue["conversations"]} == {
        (in_a["id"], "app_demo"),
        (in_b["id"], "app_b"),
    }
    b_deliveries = await api.control("GET", "/webhooks?app=app_b")
    assert {d["appId"] for d in b_deliveries["deliveries"]} == {"app_b"}
    await api.control("GET", "/state?app=nope", expect=404)


async def test_an_apps_key_opens_that_app_only(api: SunCoApi) -> None:
    b = client_of(api, "app_b", "key_b", "secret_b")
    conversation_a = await api.handed_off("rasa-1")
    await b.create_user("rasa-b")

    # A's key on B's path, and B's on A's: 401.
    a_on_b = client_of(api, "app_b", "key_demo", "secret_demo")
    b_on_a = client_of(api, "app_demo", "key_b", "secret_b")
    for client in (a_on_b, b_on_a):
        status, body = await client.call("GET", "/users/rasa-b")
        assert status == 401 and body["errors"][0]["code"] == "unauthorized"
    # An app nobody has: 404 for a valid key of some app, 401 without one.
    nobody = client_of(api, "app_nobody", "key_b", "secret_b")
    assert (await nobody.call("GET", "/users/x"))[0] == 404
    nobody.auth = aiohttp.BasicAuth("key_b", "wrong")
    assert (await nobody.call("GET", "/users/x"))[0] == 401

    # A conversation or user of A is not reachable through B's path.
    cid = conversation_a["id"]
    for method, path, body in [
        ("GET", f"/conversations/{cid}", None),
        ("GET", f"/conversations/{cid}/messages", None),
        ("POST", f"/conversations/{cid}/releaseControl", {}),
        ("POST", f"/conversations/{cid}/messages", {"author": {"type": "business"}}),
    ]:
        kwargs = {} if body is None else {"json_body": body}
        status, error = await b.call(method, path, **kwargs)
        assert status in (400, 404), (path, status)
        if method == "GET" or path.endswith("releaseControl"):
            assert status == 404 and error["errors"][0]["code"] == "conversation_not_found"
    assert (await b.call("GET", "/users/rasa-1"))[0] == 404
    query = "/conversations?filter[userExternalId]=rasa-1"
    assert (await b.call("GET", query))[0] == 404
    # ... and it is still with Agent Workspace in A.
    assert (await api.ok("GET", f"/conversations/{cid}"))["conversation"][
        "activeSwitchboardIntegration"
    ]["name"] == "zd-agentWorkspace"


async def test_attachments_and_requests_belong_to_their_app(api: SunCoApi) -> None:
    b = client_of(api, "app_b", "key_b", "secret_b")
    form = aiohttp.FormData()
    form.add_field("source", b"%PDF-1.4 b", filename="b.pdf", content_type="application/pdf")
    _, body = await b.call("POST", "/attachments?access=public", data=form, expect=201)
    async with api.session.get(body["attachment"]["mediaUrl"]) as response:
        assert response.status == 200 and await response.read() == b"%PDF-1.4 b"
    only_b = (await api.control("GET", "/requests?app=app_b"))["requests"]
    assert [r["appId"] for r in only_b] == ["app_b", "app_b"]
    assert {r["appId"] for r in (await api.control("GET", "/requests"))["requests"]} == {"app_b"}


async def test_settings_are_per_app(api: SunCoApi, app_b: Receivers) -> None:
    b = client_of(api, "app_b", "key_b", "secret_b")
    await api.control(
        "POST", "/faults?app=app_b", {"pathContains": "/users", "status": 503}, expect=201
    )
    assert (await api.control("GET", "/faults"))["faults"] == []
    await api.create_user("in-a")  # no fault in A
    assert (await b.call("POST", "/users", json_body={"externalId": "in-b"}))[0] == 503
    config = await api.control("POST", "/webhook-config?app=app_b", {"secret": "whsec_b2"})
    assert config["secretSet"] and "whsec_b2" not in json.dumps(config)
    await b.create_user("in-b")
    await b.create_conversation("in-b")
    await app_b.sunco.wait_for(lambda r: r.received)
    assert app_b.sunco.received[-1].headers["X-API-Key"] == "whsec_b2"
    ticket_config = await api.control("GET", "/ticket-webhook-config?app=app_b")
    assert ticket_config["urls"] == [app_b.tickets.url]
    assert (await api.control("GET", "/ticket-webhook-config"))["urls"] == []

    await api.control("POST", "/reset")
    state = await api.control("GET", "/state")
    assert state["users"] == [] and len(state["apps"]) == 2


async def test_apps_can_be_added_while_running(api: SunCoApi, app_b: Receivers) -> None:
    apps = (await api.control("GET", "/apps"))["apps"]
    assert [a["id"] for a in apps] == ["app_demo", "app_b"]
    assert apps[1]["name"] == "brand-b" and apps[1]["keyId"] == "key_b"
    assert apps[1]["ticketWebhook"]["accountId"] == 1000002
    shown = json.dumps(apps)
    for secret in ("secret_b", "whsec_b", "tkwh_b", "secret_demo", "whsec_demo", "tkwh_demo"):
        assert secret not in shown

    body = {
        "appId": "app_c",
        "keyId": "key_c",
        "keySecret": "secret_c",
        "webhookUrls": [app_b.sunco.url],
        "ticketWebhookUrls": [app_b.tickets.url],
        "ticketWebhookApiKey": "c-api-key",
        "accountId": 777,
    }
    added = await api.control("POST", "/apps", body, expect=201)
    assert added["app"]["id"] == "app_c" and added["app"]["ticketWebhook"]["apiKeySet"]
    c = client_of(api, "app_c", "key_c", "secret_c")
    cid = (await c.handed_off("rasa-c"))["id"]
    await api.solve(cid)
    await app_b.tickets.wait_for(lambda r: r.received)
    (item,) = app_b.tickets.received
    assert item.headers["X-API-Key"] == "c-api-key" and item.body["account_id"] == 777
    await app_b.sunco.wait_for(lambda r: r.events("switchboard:releaseControl"))
    assert {i.headers["X-API-Key"] for i in app_b.sunco.received} == {"whsec_demo"}

    await api.control("POST", "/apps", body, expect=409)  # the app id is taken
    await api.control("POST", "/apps", {**body, "appId": "app_d"}, expect=409)  # the key id
    for bad in (
        {**body, "appId": "app e"},
        {**body, "appId": "app_e", "keyId": "key_e", "extra": 1},
        {"appId": "app_e", "keyId": "key_e"},
        {**body, "appId": "app_e", "keyId": "key_e", "webhookUrls": ["nope"]},
    ):
        await api.control("POST", "/apps", bad, expect=400)


def test_the_apps_file(tmp_path: Any) -> None:
    path = tmp_path / "apps.json"
    path.write_text(
        json.dumps(
            [{"appId": "app_b", "keyId": "key_b", "keySecret": "s-b", "ticketWebhookUrls": []}]
        )
    )
    config, _ = parse_config(["--apps-file", str(path)])
    (app,) = config.apps
    assert (app.appId, app.keyId, app.keySecret.get_secret_value()) == ("app_b", "key_b", "s-b")
    assert "s-b" not in repr(config) and "s-b" not in repr(app)
    for content in (
        "{",
        "{}",
        '[{"appId": "x"}]',
        '[{"appId": "a", "keyId": "k", "keySecret": ""}]',
    ):
        path.write_text(content)
        with pytest.raises(SystemExit):
            parse_config(["--apps-file", str(path)])


@pytest.mark.timeout(60)
async def test_the_process_serves_the_apps_of_its_config(app_b: Receivers) -> None:
    config = EmulatorConfig(apps=[second_app(app_b)], webhook_retry_delays=(0.05,))
    emulator = EmulatorProcess(config=config)
    await asyncio.to_thread(emulator.start)
    try:
        async with aiohttp.ClientSession(auth=aiohttp.BasicAuth("key_b", "secret_b")) as session:
            base = f"{emulator.api_url}/v2/apps/app_b"
            async with session.post(base + "/users", json={"externalId": "u1"}) as response:
                assert response.status == 201
            body = {"type": "personal", "participants": [{"userExternalId": "u1"}]}
            async with session.post(base + "/conversations", json=body) as response:
                assert response.status == 201
        await app_b.sunco.wait_for(lambda r: r.events("conversation:create"))
        assert app_b.sunco.received[0].headers["X-API-Key"] == "whsec_b"
        apps = emulator.control("GET", "/apps")["apps"]
        assert [a["id"] for a in apps] == ["app_demo", "app_b"]
    finally:
        await asyncio.to_thread(emulator.stop)
    output = emulator.output()
    assert "Also app 'app_b' (key id 'key_b')" in output
    assert "secret_b" not in output and "whsec_b" not in output and "tkwh_b" not in output


async def test_an_emulator_server_exposes_its_apps() -> None:
    async with run_emulator() as server:
        assert isinstance(server, EmulatorServer)
        assert [e.app_id for e in server.apps] == ["app_demo"]
        assert server.apps.get("app_demo") is server.emulator
