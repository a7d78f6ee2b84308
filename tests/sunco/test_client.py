"""The SunCo client against the real emulator: every call, its wire shape, retries and errors.

Each request the client sends is read back from the emulator's request log and validated against
the official OpenAPI spec, so the client is checked against SunCo, not against our emulator.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, AsyncIterator, Dict, List

import httpx
import pytest

from rasa_zendesk.emulator import EmulatorConfig, EmulatorServer, run_emulator
from rasa_zendesk.settings import ZendeskSettings
from rasa_zendesk.sunco.client import WRITE_ID_KEY, SunCoClient, run_deadline, time_left
from rasa_zendesk.sunco.errors import SunCoError, SunCoTimeout, SunCoUnavailable
from rasa_zendesk.sunco.models import Author, Content, Profile
from testkit import spec
from testkit.emulator_control import CONTROL_HEADERS

SECRET = "s3cr3t-key-never-logged"


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorServer]:
    config = EmulatorConfig(port=0, key_secret=SECRET, hang_seconds=5.0)
    async with run_emulator(config) as server:
        yield server


def make_client(server: EmulatorServer, **options: Any) -> SunCoClient:
    settings = ZendeskSettings(
        subdomain="acme",
        app_id=server.config.app_id,
        key_id=server.config.key_id,
        key_secret=SECRET,
        webhook_secret="whsec",
        api_url=server.api_url,
    )
    return SunCoClient.from_settings(settings, **options)


@pytest.fixture
async def client(emulator: EmulatorServer) -> AsyncIterator[SunCoClient]:
    async with make_client(emulator, deadline=5.0) as sunco:
        yield sunco


async def control(server: EmulatorServer, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=server.base_url + "/_emulator") as http:
        response = await http.request(method, path, json=body, headers=CONTROL_HEADERS)
        response.raise_for_status()
        return response.json()


async def api_requests(server: EmulatorServer) -> List[Dict[str, Any]]:
    return (await control(server, "GET", "/requests"))["requests"]


async def assert_requests_match_spec(server: EmulatorServer) -> List[Dict[str, Any]]:
    """Every request the client sent is valid per the spec; returns them for further checks.

    (The emulator's own tests validate its responses against the spec.)
    """
    requests = await api_requests(server)
    assert requests, "the client sent nothing"
    for request in requests:
        path = request["path"].split("/sc", 1)[1]
        if path.endswith("/attachments"):
            continue  # multipart: checked by its own test
        spec.validate_request(request["method"], path, request.get("body"))
    return requests


async def test_handoff_calls_in_order_match_the_spec(
    client: SunCoClient, emulator: EmulatorServer
) -> None:
    user = await client.get_or_create_user(
        "rasa-sender-1", Profile(given_name="Jane", email="jane@example.com")
    )
    assert user.external_id == "rasa-sender-1" and user.id
    conversation = await client.create_conversation(
        "rasa-sender-1", metadata={"rasa_sender_id": "rasa-sender-1"}
    )
    assert conversation.metadata == {
        "rasa_sender_id": "rasa-sender-1",
        WRITE_ID_KEY: conversation.metadata[WRITE_ID_KEY],
    }
    first = await client.post_message(
        conversation.id, Author.business("Support bot"), "Summary", {"rasa_zendesk_origin": "rasa"}
    )
    await client.post_message(conversation.id, Author.end_user("rasa-sender-1"), "help me")
    await client.post_message(
        conversation.id,
        Author.end_user("rasa-sender-1"),
        Content.of_media("image", emulator.base_url + "/_emulator/samples/receipt.png"),
    )
    await client.pass_control(conversation.id, "zd-agentWorkspace", {"first_message_id": first.id})
    fetched = await client.get_conversation(conversation.id)
    assert fetched.active_switchboard_integration is not None
    assert fetched.active_switchboard_integration.name == "zd-agentWorkspace"
    page = await client.list_messages(conversation.id)
    assert [m.content.text for m in page.messages][:2] == ["Summary", "help me"]
    assert page.messages[0].metadata == {
        "rasa_zendesk_origin": "rasa",
        WRITE_ID_KEY: page.messages[0].metadata[WRITE_ID_KEY],
    }
    write_ids = [m.metadata[WRITE_ID_KEY] for m in page.messages if m.metadata]
    assert len(write_ids) == 3 and len(set(write_ids)) == 3  # one of its own on each
    await client.release_control(conversation.id, {"reason_note": "user asked"})

    requests = await assert_requests_match_spec(emulator)
    calls = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in requests]
    assert calls[0] == ("POST", "users")
    assert calls[1] == ("POST", "conversations")
    assert ("POST", "passControl") in calls and ("POST", "releaseControl") in calls
    assert all(r["status"] < 400 for r in requests)


async def test_existing_user_409_then_fetch(client: SunCoClient, emulator: EmulatorServer) -> None:
    first = await client.get_or_create_user("same-person")
    again = await client.get_or_create_user("same-person")
    assert again.id == first.id
    statuses = [(r["method"], r["status"]) for r in await api_requests(emulator)]
    assert statuses == [("POST", 201), ("POST", 409), ("GET", 200)]


async def test_4xx_fails_at_once_with_code_and_title(
    client: SunCoClient, emulator: EmulatorServer
) -> None:
    with pytest.raises(SunCoError) as raised:
        await client.get_conversation("does-not-exist")
    error = raised.value
    assert not isinstance(error, SunCoUnavailable)
    assert error.status == 404 and error.code == "conversation_not_found" and error.title
    assert "404" in str(error) and "conversation_not_found" in str(error)
    assert len(await api_requests(emulator)) == 1  # not retried


async def test_wrong_secret_is_401_and_the_secret_is_nowhere(
    emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = ZendeskSettings(
        "acme",
        emulator.config.app_id,
        emulator.config.key_id,
        "wrong-" + SECRET,
        "whsec",
        emulator.api_url,
    )
    async with SunCoClient.from_settings(settings) as sunco:
        with pytest.raises(SunCoError) as raised:
            await sunco.get_or_create_user("someone")
        assert "wrong-" + SECRET not in repr(sunco)
    assert raised.value.status == 401 and raised.value.code == "unauthorized"
    text = f"{raised.value!s} {raised.value!r} {raised.value.__dict__} {caplog.text}"
    assert SECRET not in text
    assert SECRET not in repr(settings)


async def test_429_with_retry_after_then_success_delivers_once(
    client: SunCoClient, emulator: EmulatorServer
) -> None:
    await client.get_or_create_user("u-429")
    conversation = await client.create_conversation("u-429")
    await control(
        emulator,
        "POST",
        "/faults",
        {"pathContains": "/messages", "method": "POST", "status": 429, "count": 2, "retryAfter": 1},
    )
    started = time.monotonic()
    await client.post_message(conversation.id, Author.end_user("u-429"), "once please")
    assert time.monotonic() - started >= 2.0  # honoured Retry-After twice
    posts = [
        r
        for r in await api_requests(emulator)
        if r["method"] == "POST" and r["path"].endswith("/messages")
    ]
    assert [r["status"] for r in posts] == [429, 429, 201]
    page = await client.list_messages(conversation.id)
    assert [m.content.text for m in page.messages] == ["once please"]


async def test_500_forever_ends_in_a_clear_error_within_the_deadline(
    emulator: EmulatorServer,
) -> None:
    await control(
        emulator, "POST", "/faults", {"pathContains": "/users", "status": 500, "count": 1000}
    )
    async with make_client(emulator, deadline=2.0, backoff_base=0.05) as sunco:
        started = time.monotonic()
        with pytest.raises(SunCoUnavailable) as raised:
            await sunco.get_or_create_user("u-500")
        elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert raised.value.status == 500 and raised.value.attempts > 2
    assert "500" in str(raised.value) and "attempts" in str(raised.value)


async def test_a_hang_hits_the_timeout_and_is_retried_until_the_deadline(
    emulator: EmulatorServer,
) -> None:
    await control(
        emulator, "POST", "/faults", {"pathContains": "/users", "hang": True, "count": 10}
    )
    async with make_client(emulator, timeout=0.5, deadline=1.6, backoff_base=0.05) as sunco:
        started = time.monotonic()
        with pytest.raises(SunCoTimeout) as raised:
            await sunco.get_or_create_user("u-hang")
        elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 2.5
    assert raised.value.attempts >= 2 and "timed out" in str(raised.value)


async def test_a_hang_then_recovery_succeeds(emulator: EmulatorServer) -> None:
    await control(emulator, "POST", "/faults", {"pathContains": "/users", "hang": True, "count": 1})
    async with make_client(emulator, timeout=0.5, deadline=5.0, backoff_base=0.05) as sunco:
        user = await sunco.get_or_create_user("u-recover")
    assert user.external_id == "u-recover"


# Writes SunCo applied although it answered an error, or nothing -------------------------------


def calls(requests: List[Dict[str, Any]], method: str, path_end: str) -> List[Dict[str, Any]]:
    return [r for r in requests if r["method"] == method and r["path"].endswith(path_end)]


async def a_conversation(client: SunCoClient, external_id: str) -> str:
    await client.get_or_create_user(external_id)
    return (await client.create_conversation(external_id)).id


@pytest.mark.timeout(20)
@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 503}, {"hang": True}])
async def test_a_message_applied_before_the_failure_is_posted_once(
    emulator: EmulatorServer, fault: Dict[str, Any]
) -> None:
    async with make_client(emulator, timeout=0.5, deadline=5.0, backoff_base=0.05) as sunco:
        conversation_id = await a_conversation(sunco, "u-once")
        await control(
            emulator,
            "POST",
            "/faults",
            {"method": "POST", "pathContains": "/messages", "after": True, **fault},
        )
        started = time.monotonic()
        message = await sunco.post_message(
            conversation_id, Author.end_user("u-once"), "only once", {"rasa_zendesk_origin": "rasa"}
        )
        assert time.monotonic() - started < 3.0
        page = await sunco.list_messages(conversation_id)

    assert [(m.id, m.content.text) for m in page.messages] == [(message.id, "only once")]
    assert message.metadata is not None and message.metadata["rasa_zendesk_origin"] == "rasa"
    requests = await assert_requests_match_spec(emulator)
    posts = calls(requests, "POST", "/messages")
    assert [(r["fault"], r["faultAfter"]) for r in posts] == [(fault.get("status", "hang"), True)]
    assert len(calls(requests, "GET", "/messages")) == 2  # the lookup, then the test's own


@pytest.mark.timeout(20)
@pytest.mark.parametrize("fault", [{"status": 500}, {"hang": True}])
async def test_a_conversation_applied_before_the_failure_is_created_once(
    emulator: EmulatorServer, fault: Dict[str, Any]
) -> None:
    async with make_client(emulator, timeout=0.5, deadline=5.0, backoff_base=0.05) as sunco:
        await sunco.get_or_create_user("u-conv")
        earlier = await sunco.create_conversation("u-conv", {"rasa_sender_id": "u-conv"})
        await control(
            emulator,
            "POST",
            "/faults",
            {"method": "POST", "pathContains": "/conversations", "after": True, **fault},
        )
        conversation = await sunco.create_conversation("u-conv", {"rasa_sender_id": "u-conv"})

    listed = await control(emulator, "GET", "/state")
    ids = [c["id"] for c in listed["conversations"]]
    assert ids == [earlier.id, conversation.id]  # the earlier one is not taken for it
    assert conversation.metadata is not None
    assert conversation.metadata["rasa_sender_id"] == "u-conv"
    requests = await assert_requests_match_spec(emulator)
    posts = calls(requests, "POST", "/conversations")
    assert [r["faultAfter"] for r in posts] == [False, True]
    (lookup,) = calls(requests, "GET", "/conversations")
    assert lookup["query"] == {"filter[userExternalId]": "u-conv", "page[size]": "100"}


async def test_a_429_is_retried_without_a_lookup(client: SunCoClient, emulator: EmulatorServer):
    conversation_id = await a_conversation(client, "u-429-once")
    await control(
        emulator,
        "POST",
        "/faults",
        {"method": "POST", "pathContains": "/messages", "status": 429, "retryAfter": 0},
    )
    await client.post_message(conversation_id, Author.end_user("u-429-once"), "hello")
    requests = await api_requests(emulator)
    assert [r["status"] for r in calls(requests, "POST", "/messages")] == [429, 201]
    assert calls(requests, "GET", "/messages") == []


async def test_a_failing_lookup_lets_the_retry_go_ahead(emulator: EmulatorServer) -> None:
    async with make_client(emulator, deadline=5.0, backoff_base=0.05) as sunco:
        conversation_id = await a_conversation(sunco, "u-lookup")
        # Not applied this time, and the lookup fails too: the retry must still be made.
        await control(
            emulator,
            "POST",
            "/faults",
            {"method": "POST", "pathContains": "/messages", "status": 500},
        )
        await control(
            emulator,
            "POST",
            "/faults",
            {"method": "GET", "pathContains": "/messages", "status": 503},
        )
        message = await sunco.post_message(conversation_id, Author.end_user("u-lookup"), "again")
        page = await sunco.list_messages(conversation_id)
    assert [m.id for m in page.messages] == [message.id]
    requests = await api_requests(emulator)
    in_order = [(r["method"], r["status"]) for r in requests if r["path"].endswith("/messages")]
    assert in_order == [("POST", 500), ("GET", 503), ("POST", 201), ("GET", 200)]


async def test_the_write_id_keeps_the_callers_metadata_and_own_id(
    client: SunCoClient, emulator: EmulatorServer
) -> None:
    conversation_id = await a_conversation(client, "u-meta")
    mine = await client.post_message(
        conversation_id, Author.business(), "mine", {"k": "v", WRITE_ID_KEY: "caller-chosen"}
    )
    assert mine.metadata == {"k": "v", WRITE_ID_KEY: "caller-chosen"}
    ours = await client.post_message(conversation_id, Author.business(), "ours")
    assert ours.metadata is not None and list(ours.metadata) == [WRITE_ID_KEY]
    assert len(ours.metadata[WRITE_ID_KEY]) == 32
    await assert_requests_match_spec(emulator)


@pytest.mark.timeout(20)
async def test_lookups_stay_within_the_deadline(emulator: EmulatorServer) -> None:
    await control(
        emulator, "POST", "/faults", {"pathContains": "/conversations", "hang": True, "count": 100}
    )
    async with make_client(emulator, timeout=0.4, deadline=1.2, backoff_base=0.05) as sunco:
        started = time.monotonic()
        with pytest.raises(SunCoTimeout):
            await sunco.create_conversation("u-slow")
        elapsed = time.monotonic() - started
    assert elapsed < 2.0  # a lookup with its own deadline would take it past 2.4 s
    requests = await api_requests(emulator)
    assert calls(requests, "GET", "/conversations"), "no lookup was tried"


class _Streamed(httpx.AsyncBaseTransport):
    """Reads each request's body as it is streamed, keeping only the sizes of its chunks;
    the first `failures` answers are 503, then SunCo's upload answer."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.bodies: List[List[int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        self.bodies.append([len(chunk) async for chunk in request.stream])
        if len(self.bodies) <= self.failures:
            return httpx.Response(503, json={"errors": [{"code": "unavailable"}]})
        attachment = {"mediaUrl": "https://sc.example/a/big.pdf", "mediaType": "application/pdf"}
        return httpx.Response(201, json={"attachment": attachment})


def _streaming_client(transport: httpx.AsyncBaseTransport) -> SunCoClient:
    return SunCoClient(
        app_id="app",
        key_id="key",
        key_secret=SECRET,
        base_url="https://sc.example",
        backoff_base=0.001,
        transport=transport,
    )


async def test_an_upload_is_streamed_from_its_file_and_each_try_sends_it_whole(
    tmp_path: Any,
) -> None:
    size = 5 * 1024 * 1024
    path = tmp_path / "big.pdf"
    path.write_bytes(b"\x00" * size)
    transport = _Streamed(failures=1)
    async with _streaming_client(transport) as sunco:
        with path.open("rb") as source:
            uploaded = await sunco.upload_attachment(source, "big.pdf", "application/pdf", "c1")
    assert uploaded.media_url == "https://sc.example/a/big.pdf"
    assert len(transport.bodies) == 2  # the 503, then the retry, from the start again
    for chunks in transport.bodies:
        assert sum(chunks) > size  # the whole file, and the multipart framing
        assert max(chunks) <= 64 * 1024  # in chunks, never the whole file at once


class _Hanging(httpx.AsyncBaseTransport):
    """SunCo that never answers."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@pytest.mark.timeout(20)
async def test_a_run_deadline_bounds_every_call_whatever_the_client_timeouts() -> None:
    """The client would wait 60 s a try and retry for an hour; the run has 0.5 s left."""
    async with SunCoClient(
        app_id="app",
        key_id="key",
        key_secret=SECRET,
        base_url="https://sc.example",
        timeout=60.0,
        deadline=3600.0,
        transport=_Hanging(),
    ) as sunco:
        with run_deadline(0.5):
            with pytest.raises(SunCoTimeout):
                await sunco.get_conversation("c1")
            assert time_left() == 0.0
            with pytest.raises(SunCoTimeout, match="no time left"):
                await sunco.get_conversation("c1")
        assert time_left() is None
