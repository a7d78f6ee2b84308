"""Fault and latency injection, and reset, through the control API."""

from __future__ import annotations

import asyncio
import time

import pytest

from testkit.emulator_support import SunCoApi, WebhookReceiver


async def test_429_with_retry_after_for_the_next_n_matching_calls(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    path = f"/conversations/{conversation['id']}/messages"
    fault = await api.control(
        "POST",
        "/faults",
        {"method": "POST", "pathContains": "/messages", "status": 429, "count": 2, "retryAfter": 3},
        expect=201,
    )
    assert fault["fault"]["remaining"] == 2
    body = {"author": {"type": "business"}, "content": {"type": "text", "text": "hi"}}
    for _ in range(2):
        async with api.session.post(api.app_url + path, json=body, auth=api.auth) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "3"
            assert (await response.json())["errors"][0]["code"] == "too_many_requests"
    # Other methods on the same path are not affected, and the third POST goes through.
    await api.ok("GET", path)
    await api.post_text(conversation["id"], "third time lucky")
    faults = (await api.control("GET", "/faults"))["faults"]
    assert [(f["hits"], f["remaining"]) for f in faults] == [(2, 0)]
    # Faulted calls did not change anything.
    messages = (await api.ok("GET", path))["messages"]
    assert [m["content"]["text"] for m in messages] == ["third time lucky"]
    log = (await api.control("GET", "/requests?pathContains=/messages&method=POST"))["requests"]
    assert [(r["status"], r["fault"]) for r in log] == [(429, 429), (429, 429), (201, None)]


async def test_500_then_success(api: SunCoApi) -> None:
    await api.control("POST", "/faults", {"pathContains": "/users", "status": 500}, expect=201)
    status, body = await api.call("POST", "/users", json_body={"externalId": "u"})
    assert status == 500 and body["errors"][0]["code"] == "internal_error"
    await api.create_user("u")  # the call was not applied: no conflict now


@pytest.mark.timeout(20)
async def test_a_hang_outlasts_the_client_timeout_and_ends_when_it_leaves(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    await api.control("POST", "/faults", {"pathContains": "/passControl", "hang": True}, expect=201)
    path = f"/conversations/{conversation['id']}/passControl"
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await api.call("POST", path, json_body={"switchboardIntegration": "rasa"}, timeout=0.5)
    assert time.monotonic() - started < 2

    # The hung handler notices the client left and ends long before its 10 s.
    deadline = time.monotonic() + 3
    while True:
        log = (await api.control("GET", "/requests?pathContains=/passControl"))["requests"]
        hung = [r for r in log if r["fault"] == "hang"]
        if hung and hung[0]["status"] is not None:
            break
        assert time.monotonic() < deadline, "the hung call never ended"
        await asyncio.sleep(0.05)
    assert hung[0]["status"] == 504
    # Nothing was applied, and the emulator keeps serving.
    current = (await api.ok("GET", f"/conversations/{conversation['id']}"))["conversation"]
    assert current["activeSwitchboardIntegration"]["name"] == "zd-agentWorkspace"
    await api.pass_control(conversation["id"], "rasa")


async def test_latency_is_added_to_every_api_call(api: SunCoApi) -> None:
    await api.control("POST", "/latency", {"ms": 150})
    started = time.monotonic()
    await api.create_user("slow")
    assert time.monotonic() - started >= 0.15
    await api.control("POST", "/latency", {"ms": 0})
    started = time.monotonic()
    await api.ok("GET", "/users/slow")
    assert time.monotonic() - started < 0.15
    assert (await api.control("GET", "/faults"))["latencyMs"] == 0


async def test_faults_can_be_cleared(api: SunCoApi) -> None:
    await api.control("POST", "/faults", {"pathContains": "/users", "status": 503}, expect=201)
    await api.control("DELETE", "/faults")
    assert (await api.control("GET", "/faults"))["faults"] == []
    await api.create_user("fine")


async def test_reset_forgets_everything_but_the_webhook_target(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    await api.handed_off()
    await api.control("POST", "/faults", {"pathContains": "/nothing", "status": 500}, expect=201)
    await api.control("POST", "/latency", {"ms": 5})
    await api.deliveries()
    await api.control("POST", "/reset")

    state = await api.control("GET", "/state")
    assert state["users"] == [] and state["conversations"] == []
    assert (await api.control("GET", "/requests"))["requests"] == []
    assert (await api.control("GET", "/webhooks"))["deliveries"] == []
    assert await api.control("GET", "/faults") == {"faults": [], "latencyMs": 0}
    assert (await api.control("GET", "/queue"))["conversations"] == []
    # Same ids can be used again, and webhooks still go to the same place.
    await api.handed_off()
    assert len(await api.deliveries(status="delivered")) == 2
    assert receiver.received


@pytest.mark.timeout(20)
async def test_after_applies_the_call_then_answers_the_error(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    conversation = await api.handed_off()
    await api.deliveries()
    fault = await api.control(
        "POST",
        "/faults",
        {"method": "POST", "pathContains": "/messages", "status": 500, "after": True},
        expect=201,
    )
    assert fault["fault"]["after"] is True
    path = f"/conversations/{conversation['id']}/messages"
    body = {"author": {"type": "business"}, "content": {"type": "text", "text": "stored anyway"}}
    status, error = await api.call("POST", path, json_body=body)
    assert status == 500 and error["errors"][0]["code"] == "internal_error"

    # It was applied: stored, and echoed by webhook as usual.
    messages = (await api.ok("GET", path))["messages"]
    assert [m["content"]["text"] for m in messages] == ["stored anyway"]
    (echo,) = await api.deliveries(eventType="conversation:message")
    assert echo["status"] == "delivered"
    assert echo["payload"]["events"][0]["payload"]["message"]["id"] == messages[0]["id"]
    log = (await api.control("GET", "/requests?pathContains=/messages&method=POST"))["requests"]
    assert [(r["status"], r["fault"], r["faultAfter"]) for r in log] == [(500, 500, True)]
    listed = (await api.control("GET", "/faults"))["faults"]
    assert [(f["after"], f["hits"], f["remaining"]) for f in listed] == [(True, 1, 0)]


@pytest.mark.timeout(20)
async def test_after_with_hang_applies_the_call_and_never_answers(api: SunCoApi) -> None:
    await api.create_user("u")
    await api.control(
        "POST",
        "/faults",
        {"method": "POST", "pathContains": "/conversations", "hang": True, "after": True},
        expect=201,
    )
    body = {"type": "personal", "participants": [{"userExternalId": "u"}]}
    with pytest.raises(asyncio.TimeoutError):
        await api.call("POST", "/conversations", json_body=body, timeout=0.5)
    listed = await api.ok("GET", "/conversations?filter[userExternalId]=u")
    assert len(listed["conversations"]) == 1  # created although the client heard nothing

    deadline = time.monotonic() + 5
    while True:  # the hung handler ends once it sees the client gone
        log = await api.control("GET", "/requests?pathContains=/conversations&method=POST")
        (entry,) = log["requests"]
        if entry["status"] is not None:
            break
        assert time.monotonic() < deadline, "the hung call never ended"
        await asyncio.sleep(0.05)
    assert (entry["status"], entry["fault"], entry["faultAfter"]) == (504, "hang", True)


async def test_an_after_fault_waits_for_a_call_that_is_applied(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    await api.control(
        "POST",
        "/faults",
        {"method": "POST", "pathContains": "/messages", "status": 503, "after": True},
        expect=201,
    )
    path = f"/conversations/{conversation['id']}/messages"
    refused = {"author": {"type": "business"}, "content": {"type": "text"}}
    status, _ = await api.call("POST", path, json_body=refused)
    assert status == 400  # refused, nothing applied: the fault stays armed
    listed = (await api.control("GET", "/faults"))["faults"]
    assert [(f["hits"], f["remaining"]) for f in listed] == [(0, 1)]
    body = {"author": {"type": "business"}, "content": {"type": "text", "text": "kept"}}
    status, _ = await api.call("POST", path, json_body=body)
    assert status == 503
    messages = (await api.ok("GET", path))["messages"]
    assert [m["content"]["text"] for m in messages] == ["kept"]
