"""Bad input gets the spec's 4xx and error body, never a 500, and the emulator keeps serving."""

from __future__ import annotations

import base64
import warnings
from typing import Any, Dict

import aiohttp
import jwt
import pytest

from testkit.emulator_support import SunCoApi


def assert_error(body: Dict[str, Any], code: str) -> str:
    assert isinstance(body, dict) and isinstance(body.get("errors"), list), body
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "title"} and error["title"], error
    assert body["errors"][0]["code"] == code, body
    return body["errors"][0]["title"]


async def still_serving(api: SunCoApi) -> None:
    await api.create_user("still-here-" + str(len(api.server.emulator.store.users)))


async def test_broken_json_is_a_400(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    paths = [
        "/users",
        "/conversations",
        f"/conversations/{conversation['id']}/messages",
        f"/conversations/{conversation['id']}/activity",
        f"/conversations/{conversation['id']}/passControl",
        f"/conversations/{conversation['id']}/releaseControl",
    ]
    headers = {"Content-Type": "application/json"}
    for path in paths:
        for raw in (b'{"author": ', b"\xff\xfe", b"[1, 2]", b'"text"', b"null"):
            status, body = await api.call("POST", path, data=raw, headers=headers)
            assert status == 400, (path, raw, status, body)
            assert_error(body, "bad_request")
    await still_serving(api)


@pytest.mark.parametrize(
    "path, body, fragment",
    [
        ("/users", {"externalId": 5}, "externalId"),
        ("/users", {"externalId": ""}, "externalId"),
        ("/users", {"externalId": "u", "profile": {"email": "not-an-email"}}, "email"),
        ("/users", {"externalId": "u", "metadata": {"nested": {"no": 1}}}, "metadata"),
        ("/conversations", {}, "type"),
        ("/conversations", {"type": "group"}, "type"),
        ("/conversations", {"type": "personal"}, "one participant"),
        (
            "/conversations",
            {"type": "personal", "participants": [{"userId": "a"}, {"userId": "b"}]},
            "one participant",
        ),
        ("/conversations", {"type": "personal", "participants": [{}]}, "userId"),
        ("/conversations", {"type": "personal", "participants": "u"}, "participants"),
        ("{c}/messages", {}, "author"),
        ("{c}/messages", {"author": {"type": "business"}}, "content"),
        (
            "{c}/messages",
            {"author": {"type": "bot"}, "content": {"type": "text", "text": "x"}},
            "author",
        ),
        (
            "{c}/messages",
            {"author": {"type": "user"}, "content": {"type": "text", "text": "x"}},
            "userId",
        ),
        ("{c}/messages", {"author": {"type": "business"}, "content": {"type": "text"}}, "text"),
        (
            "{c}/messages",
            {"author": {"type": "business"}, "content": {"type": "image"}},
            "mediaUrl",
        ),
        (
            "{c}/messages",
            {"author": {"type": "business"}, "content": {"type": "file", "mediaUrl": "nope"}},
            "mediaUrl",
        ),
        ("{c}/messages", {"author": {"type": "business"}, "content": {"type": "video"}}, "video"),
        ("{c}/messages", {"author": {"type": "business"}, "content": "hello"}, "content"),
        (
            "{c}/messages",
            {
                "author": {"type": "business"},
                "content": {"type": "text", "text": "x"},
                "metadata": [],
            },
            "metadata",
        ),
        ("{c}/activity", {"type": "typing:start"}, "author"),
        ("{c}/activity", {"type": "dancing", "author": {"type": "business"}}, "type"),
        ("{c}/passControl", {}, "switchboardIntegration"),
        ("{c}/passControl", {"switchboardIntegration": ""}, "switchboardIntegration"),
        ("{c}/passControl", {"switchboardIntegration": 3}, "switchboardIntegration"),
        ("{c}/offerControl", {"metadata": {}}, "switchboardIntegration"),
        ("{c}/releaseControl", {"metadata": "x"}, "metadata"),
    ],
)
async def test_an_invalid_body_is_a_400_naming_the_field(
    api: SunCoApi, path: str, body: Dict[str, Any], fragment: str
) -> None:
    conversation = await api.handed_off()
    path = path.replace("{c}", f"/conversations/{conversation['id']}")
    _, error = await api.call("POST", path, json_body=body, expect=400)
    titles = " ".join(e["title"] for e in error["errors"])
    assert_error(error, "bad_request")
    assert fragment in titles, titles
    await still_serving(api)


async def test_several_problems_are_reported_together(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    body = {"author": {"type": "user"}, "content": {"type": "image"}, "metadata": {"a": [1]}}
    path = f"/conversations/{conversation['id']}/messages"
    _, error = await api.call("POST", path, json_body=body, expect=400)
    assert len(error["errors"]) == 3, error


def basic(user: str, password: str) -> Dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(payload: Dict[str, Any], secret: Any, kid: Any, algorithm: str = "HS256") -> Dict:
    headers = {"kid": kid} if kid is not None else {}
    with warnings.catch_warnings():  # short test secrets
        warnings.simplefilter("ignore")
        token = jwt.encode(payload, secret, algorithm=algorithm, headers=headers)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("key_demo", "wrong"),
        basic("wrong", "secret_demo"),
        basic("key_demo", ""),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Token key_demo:secret_demo"},
        {"Authorization": "Bearer not.a.jwt"},
        bearer({"scope": "app"}, "wrong-secret", "key_demo"),
        bearer({"scope": "app"}, "secret_demo", "other_key"),
        bearer({"scope": "app"}, "secret_demo", None),
        bearer({"scope": "integration"}, "secret_demo", "key_demo"),
        bearer({"scope": "app"}, "secret_demo", "key_demo", algorithm="HS512"),
        bearer({"scope": "app"}, None, "key_demo", algorithm="none"),
    ],
)
async def test_bad_or_missing_auth_is_a_401(api: SunCoApi, headers: Dict[str, str]) -> None:
    for method, path in (("POST", "/users"), ("GET", "/conversations/x"), ("GET", "/switchboards")):
        body = {"externalId": "intruder"} if method == "POST" else None
        status, error = await api.call(
            method, path, json_body=body, auth=None, headers=headers, expect=401
        )
        assert_error(error, "unauthorized")
    assert api.server.emulator.store.find_user(external_id="intruder") is None
    await still_serving(api)


async def test_unknown_things_are_404s(api: SunCoApi) -> None:
    missing = "000000000000000000000000"
    for method, path in [
        ("GET", f"/conversations/{missing}"),
        ("GET", f"/conversations/{missing}/messages"),
        ("POST", f"/conversations/{missing}/messages"),
        ("POST", f"/conversations/{missing}/activity"),
        ("POST", f"/conversations/{missing}/passControl"),
        ("POST", f"/conversations/{missing}/offerControl"),
        ("POST", f"/conversations/{missing}/acceptControl"),
        ("POST", f"/conversations/{missing}/releaseControl"),
    ]:
        status, error = await api.call(method, path, json_body={}, expect=404)
        assert error == {
            "errors": [{"code": "conversation_not_found", "title": "Conversation not found"}]
        }
    _, error = await api.call("GET", "/users/nobody", expect=404)
    assert_error(error, "user_not_found")
    body = {"type": "personal", "participants": [{"userExternalId": "nobody"}]}
    _, error = await api.call("POST", "/conversations", json_body=body, expect=404)
    assert_error(error, "user_not_found")
    _, error = await api.call("GET", "/conversations?filter[userExternalId]=nobody", expect=404)
    assert_error(error, "user_not_found")
    other_app = api.server.api_url + "/v2/apps/other_app/users"
    _, error = await api.call("POST", other_app, json_body={"externalId": "x"}, expect=404)
    assert_error(error, "app_not_found")


async def test_a_user_of_another_conversation_cannot_post_as_a_participant(api: SunCoApi) -> None:
    conversation = await api.handed_off("rasa-1")
    await api.create_user("rasa-2")
    body = {
        "author": {"type": "user", "userExternalId": "rasa-2"},
        "content": {"type": "text", "text": "not mine"},
    }
    path = f"/conversations/{conversation['id']}/messages"
    _, error = await api.call("POST", path, json_body=body, expect=400)
    assert "participant" in assert_error(error, "bad_request")


async def test_bad_query_parameters_are_400s(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    for path in (
        "/conversations",
        "/conversations?filter[userId]=a&filter[userExternalId]=b",
        "/conversations?filter[userExternalId]=rasa-1&page[size]=0",
        "/conversations?filter[userExternalId]=rasa-1&page[size]=many",
        f"/conversations/{conversation['id']}/messages?page[after]=nope",
    ):
        _, error = await api.call("GET", path, expect=400)
        assert_error(error, "bad_request")


async def test_bad_uploads_are_400s(api: SunCoApi) -> None:
    await api.handed_off()

    def form(name: str = "source") -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field(name, b"abc", filename="a.txt", content_type="text/plain")
        return data

    for query, data in [
        ("", form()),  # access is required
        ("?access=private", form()),
        ("?access=public", form("file")),  # the field must be `source`
        ("?access=public&for=message", form()),  # conversationId is then required
        ("?access=public", b"not multipart"),
    ]:
        _, error = await api.call("POST", "/attachments" + query, data=data, expect=400)
        assert_error(error, "bad_request")
    query = "?access=public&for=message&conversationId=000000000000000000000000"
    _, error = await api.call("POST", "/attachments" + query, data=form(), expect=404)
    assert_error(error, "conversation_not_found")
    # Broken multipart bodies: refused, never a crash.
    for content_type, raw in [
        ("multipart/form-data", b"no boundary given"),
        ("multipart/form-data; boundary=xyz", b"does not start with the boundary"),
    ]:
        status, error = await api.call(
            "POST", "/attachments?access=public", data=raw, headers={"Content-Type": content_type}
        )
        assert status == 400, (status, error)
        assert_error(error, "bad_request")
    # A body cut before its closing boundary is read up to its end, as aiohttp does.
    cut = b'--xyz\r\nContent-Disposition: form-data; name="source"\r\n\r\nabc'
    headers = {"Content-Type": "multipart/form-data; boundary=xyz"}
    status, _ = await api.call("POST", "/attachments?access=public", data=cut, headers=headers)
    assert status in (201, 400)
    await still_serving(api)


async def test_unknown_routes_and_methods_get_json_errors(api: SunCoApi) -> None:
    async with api.session.get(api.app_url + "/nothing-here", auth=api.auth) as response:
        assert response.status == 404
        assert_error(await response.json(), "not_found")
    async with api.session.put(api.app_url + "/users", auth=api.auth, json={}) as response:
        assert response.status == 405
        assert_error(await response.json(), "method_not_allowed")
    answer = await api.control("POST", "/conversations/nope/solve", expect=404)
    assert_error(answer, "conversation_not_found")
    await still_serving(api)


async def test_oversized_json_is_refused(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    body = {
        "author": {"type": "business"},
        "content": {"type": "text", "text": "x"},
        "destination": {"padding": "y" * 200_000},
    }
    path = f"/conversations/{conversation['id']}/messages"
    status, error = await api.call("POST", path, json_body=body)
    assert status == 413
    assert_error(error, "payload_too_large")
    await still_serving(api)


async def test_bad_control_api_input_is_a_400(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    base = f"/conversations/{conversation['id']}"
    for path, body in [
        (base + "/agent-message", {}),
        (base + "/agent-message", {"type": "image"}),
        (base + "/agent-message", {"type": "file", "mediaUrl": "ftp://x"}),
        (base + "/agent-message", {"text": ""}),
        (base + "/typing", {"typing": "yes"}),
        (base + "/solve", {"handback": "sideways"}),
        ("/faults", {"pathContains": "/messages"}),
        ("/faults", {"pathContains": "/messages", "status": 200}),
        ("/faults", {"pathContains": "/messages", "status": 500, "hang": True}),
        ("/faults", {"status": 500}),
        ("/faults", {"pathContains": "/messages", "status": 500, "after": "yes"}),
        ("/faults", {"pathContains": "/messages", "status": 429, "after": True}),
        ("/webhook-mode", {}),
        ("/webhook-mode", {"mode": "shuffle"}),
        ("/webhook-mode", {"mode": "duplicate", "count": 0}),
        ("/webhook-mode", {"mode": "duplicate", "count": "2"}),
        ("/webhook-mode", {"mode": "reorder", "maxWait": -1}),
        ("/webhook-mode", {"mode": "hold", "type": ""}),
        ("/webhook-mode", {"mode": "drop", "eventType": "conversation:message"}),
        ("/latency", {"ms": -1}),
        ("/webhook-config", {"url": "not a url"}),
        ("/webhook-config", {"urls": ["http://ok.io/x", 3]}),
    ]:
        error = await api.control("POST", path, body, expect=400)
        assert_error(error, "bad_request")
    # Solving a conversation that is not with Agent Workspace is a conflict.
    await api.pass_control(conversation["id"], "rasa")
    error = await api.control("POST", base + "/solve", {}, expect=409)
    assert_error(error, "conflict")
