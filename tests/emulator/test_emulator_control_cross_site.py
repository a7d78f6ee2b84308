"""The control API refuses what a web page in the developer's browser could send it.

A page on any site can make the browser POST to `localhost` without asking (a CORS "simple"
request: form-encoded, multipart or text/plain body, no custom header). Such a request could
repoint the webhooks, which carry the secret, to the page's server. So every state-changing
control request (any method but GET/HEAD under `/_emulator/`) must say `Content-Type:
application/json`, which a page can only send after a CORS preflight the emulator never
answers: anything else is a 415 that changes nothing.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

import pytest

from rasa_zendesk.emulator import EmulatorConfig, create_app
from testkit.emulator_support import SunCoApi

pytestmark = pytest.mark.timeout(30)

HOOK = "http://attacker.example/hook"

#: A body the route accepts, per state-changing control route (None: the route takes none).
VALID_BODIES: Dict[Tuple[str, str], Optional[Dict[str, Any]]] = {
    ("POST", "/_emulator/webhooks/wait"): {"timeout": 5},
    ("POST", "/_emulator/webhooks/{eventId}/redeliver"): None,
    ("POST", "/_emulator/webhooks/{eventId}/release"): None,
    # The two held events of `held_handoff` (filled in by `body_for`).
    ("POST", "/_emulator/webhooks/release-together"): {"eventIds": []},
    ("POST", "/_emulator/webhook-mode"): {"mode": "drop"},
    ("DELETE", "/_emulator/webhook-mode"): None,
    ("POST", "/_emulator/webhook-config"): {"url": HOOK, "secret": "stolen"},
    ("POST", "/_emulator/conversations/{conversationId}/agent-message"): {"text": "hi"},
    ("POST", "/_emulator/conversations/{conversationId}/typing"): {"typing": True},
    ("POST", "/_emulator/conversations/{conversationId}/solve"): None,
    ("POST", "/_emulator/faults"): {"pathContains": "/messages", "status": 500},
    ("DELETE", "/_emulator/faults"): None,
    ("POST", "/_emulator/latency"): {"ms": 5},
    ("POST", "/_emulator/reset"): None,
    ("POST", "/_emulator/conversations/{conversationId}/ticket"): {"status": "pending"},
    ("POST", "/_emulator/ticket-webhook-config"): {"urls": [HOOK], "secret": "stolen"},
    ("POST", "/_emulator/conversations/{conversationId}/agent-rich"): {
        "kind": "location",
        "lat": 1,
        "long": 2,
    },
    ("POST", "/_emulator/apps"): {"appId": "app_evil", "keyId": "k", "keySecret": "s"},
    ("POST", "/_emulator/webhook-triggers"): {"triggers": ["conversation:message"]},
    ("POST", "/_emulator/support"): {"agentsOnline": False},
    ("POST", "/_emulator/private-attachments"): {"enabled": True},
}


def control_routes() -> List[Tuple[str, str]]:
    """(method, path template) of every route under `/_emulator/`, as the app registers them."""
    app = create_app(EmulatorConfig(port=0))
    found = []
    for resource in app.router.resources():
        canonical = resource.canonical
        if canonical.startswith("/_emulator/"):
            found += [(route.method, canonical) for route in resource if route.method != "HEAD"]
    return found


def state_changing_routes() -> List[Tuple[str, str]]:
    return [(method, path) for method, path in control_routes() if method != "GET"]


def test_every_state_changing_route_is_checked_here() -> None:
    assert sorted(state_changing_routes()) == sorted(VALID_BODIES)


async def held_handoff(api: SunCoApi) -> Dict[str, Any]:
    """Path parameters to fill in: a handed-off conversation and a held webhook event (two
    are held, for the route that releases several together)."""
    await api.control("POST", "/webhook-mode", {"mode": "hold", "count": 2}, expect=201)
    conversation = await api.handed_off()
    await api.control("POST", f"/conversations/{conversation['id']}/typing", {"typing": True})
    held = [delivery["eventId"] for delivery in await api.deliveries(status="held")]
    assert len(held) == 2, "the hold rule kept no two events back"
    return {"conversationId": conversation["id"], "eventId": held[0], "held": held}


def body_for(method: str, template: str, params: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    body = VALID_BODIES[(method, template)]
    return {"eventIds": params["held"]} if body == {"eventIds": []} else body


async def snapshot(api: SunCoApi, params: Dict[str, str]) -> Dict[str, Any]:
    """What every read-only control route shows (the settings and the data of every app)."""
    shown = {}
    for method, template in control_routes():
        if method == "GET" and "/samples/" not in template:
            path = template.removeprefix("/_emulator").format(**params)
            shown[path] = await api.control("GET", path)
            if "kind" not in path and "webhook" in path:
                shown[path + "?kind=ticket"] = await api.control("GET", path + "?kind=ticket")
    return shown


def hostile(kind: str, body: Optional[Dict[str, Any]]) -> Tuple[bytes, str]:
    """The body and content type a cross-site page can send without a preflight."""
    fields = body or {"x": "1"}
    if kind == "form":
        flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
        return urlencode(flat).encode(), "application/x-www-form-urlencoded"
    return json.dumps(fields).encode(), "text/plain;charset=UTF-8"  # JSON, labelled as text


@pytest.mark.parametrize("kind", ["form", "text"])
@pytest.mark.parametrize("method,template", sorted(VALID_BODIES))
async def test_a_simple_cross_site_request_is_refused_and_changes_nothing(
    api: SunCoApi, method: str, template: str, kind: str
) -> None:
    params = await held_handoff(api)
    before = await snapshot(api, params)
    data, content_type = hostile(kind, body_for(method, template, params))
    url = api.server.base_url + template.format(**params)
    headers = {"Content-Type": content_type}
    async with api.session.request(method, url, data=data, headers=headers) as response:
        assert response.status == 415
        error = (await response.json())["errors"][0]
    assert error["code"] == "unsupported_media_type"
    assert "application/json" in error["title"]
    assert await snapshot(api, params) == before


@pytest.mark.parametrize("method,template", sorted(VALID_BODIES))
async def test_a_bodyless_request_without_a_content_type_is_refused(
    api: SunCoApi, method: str, template: str
) -> None:
    params = await held_handoff(api)
    before = await snapshot(api, params)
    url = api.server.base_url + template.format(**params)
    async with api.session.request(method, url) as response:
        assert response.status == 415
    assert await snapshot(api, params) == before


@pytest.mark.parametrize("method,template", sorted(VALID_BODIES))
async def test_a_json_request_is_accepted(api: SunCoApi, method: str, template: str) -> None:
    params = await held_handoff(api)
    url = api.server.base_url + template.format(**params)
    body = body_for(method, template, params)
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    async with api.session.request(method, url, data=data, headers=headers) as response:
        assert response.status in (200, 201), await response.text()


async def test_the_webhook_target_stays_after_a_refused_form_post(api: SunCoApi) -> None:
    before = await api.control("GET", "/webhook-config")
    url = api.server.base_url + "/_emulator/webhook-config"
    async with api.session.post(url, data={"url": HOOK, "secret": "stolen"}) as response:
        assert response.status == 415
    after = await api.control("GET", "/webhook-config")
    assert after == before and HOOK not in json.dumps(after)


async def test_reading_routes_change_nothing(api: SunCoApi) -> None:
    params = await held_handoff(api)
    before = await snapshot(api, params)
    for method, template in control_routes():
        if method == "GET":
            name = {"name": "receipt.png"}
            url = api.server.base_url + template.format(**params, **name)
            async with api.session.get(url) as response:
                assert response.status == 200, url
    assert await snapshot(api, params) == before
