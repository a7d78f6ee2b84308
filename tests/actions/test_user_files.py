"""A user's files reach the agent through SunCo's attachments API: the relay action (rasa-sdk's
executor) fetches them from a loopback stand-in of the user's platform and uploads them to the
emulator; per channel, the real Rasa input channel class parses a realistic platform payload.

The file server is threaded, as is the Graph API's (`testkit.platforms.GraphApi`): Rasa's
Messenger client calls it with `requests` (blocking) from inside the event loop, so it must
answer from another thread.
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import httpx
import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.core.channels.facebook import Messenger
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from rasa_zendesk import constants
from rasa_zendesk.actions import user_files
from rasa_zendesk.channel.media_inputs import TwilioMediaInput
from rasa_zendesk.settings import SettingsError, Sources, UserFileSettings
from testkit.action_calls import responses, run_action, user
from testkit.action_emulator import Zendesk
from testkit.platforms import PAGE_TOKEN, GraphApi, point_messenger_at
from testkit.processes import free_ports
from testkit.user_files import (
    HOSTS_ENV,
    PDF,
    PNG,
    SENDER,
    Platform,
    handed_off,
    relay,
    relayed_since,
    sent_reasons,
    stored,
    uploads,
)

pytestmark = pytest.mark.timeout(60)
Sanic.test_mode = True  # several apps in one process (Sanic otherwise patches its classes twice)


# The web chat (socket.io metadata, as the demo page sends it) -----------------------------


async def test_an_image_and_a_pdf_reach_the_agent_as_uploaded_image_and_file(
    zendesk: Zendesk, executor: ActionExecutor, platform: Platform
) -> None:
    turns = await handed_off(executor)
    image = platform.serve("/u/receipt.png", PNG, "image/png")
    pdf = platform.serve("/u/invoice.pdf", PDF, "application/pdf")
    attachments = [
        {"type": "image", "url": image, "name": "receipt.png"},
        {"type": "file", "url": pdf, "name": "invoice.pdf"},
    ]
    turns += user("Attached: receipt.png", "inform", metadata={"attachments": attachments})
    result = await relay(executor, turns)

    assert responses(result) == []
    assert len(uploads(zendesk)) == 2
    text, photo, document = relayed_since(zendesk, turns)[-3:]
    assert text["content"]["text"] == "Attached: receipt.png"
    assert photo["content"]["type"] == "image" and photo["content"]["altText"] == "receipt.png"
    assert document["content"]["type"] == "file"
    for message, original in ((photo, PNG), (document, PDF)):
        media_url = message["content"]["mediaUrl"]
        assert "/sc/attachments/v2/" in media_url  # SunCo's copy, not the platform's address
        assert stored(zendesk, media_url) == original
        assert message["metadata"][constants.ORIGIN_KEY] == constants.ORIGIN_VALUE
    assert platform.fetched("/u/receipt.png") == platform.fetched("/u/invoice.pdf") == 1


async def test_a_file_too_large_is_refused_before_and_while_reading(
    zendesk: Zendesk,
    executor: ActionExecutor,
    platform: Platform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(user_files, "MAX_FILE_BYTES", 2 * 1024 * 1024)
    turns = await handed_off(executor)
    announced = platform.serve(
        "/u/video.mp4", b"", "video/mp4", **{"Content-Length": str(50 * 1024 * 1024 + 1)}
    )
    streamed = platform.serve("/u/scan.pdf", PDF + b"x" * (2 * 1024 * 1024), "application/pdf")
    small = platform.serve("/u/receipt.png", PNG, "image/png")
    attachments = [
        {"type": "file", "url": announced, "name": "video.mp4"},
        {"type": "file", "url": streamed},
        {"type": "image", "url": small, "name": "small.png"},
    ]
    turns += user("three files", "inform", metadata={"attachments": attachments})
    result = await relay(executor, turns)

    limit = "it is larger than Zendesk's limit of 2 MB"
    assert sent_reasons(result) == [("video.mp4", limit), ("scan.pdf", limit)]
    # What could go went: the text and the small image, and only it was uploaded.
    assert [m["content"]["type"] for m in relayed_since(zendesk, turns)[-2:]] == ["text", "image"]
    assert len(uploads(zendesk)) == 1


async def test_programs_and_unreachable_files_are_refused_with_the_reason(
    zendesk: Zendesk, executor: ActionExecutor, platform: Platform
) -> None:
    turns = await handed_off(executor)
    tool = platform.serve("/u/tool.exe", b"MZ" + b"\0" * 100, "application/x-msdownload")
    script = platform.serve("/u/notes", b"#!/bin/sh\necho hi\n", "application/x-sh")
    attachments = [
        {"type": "file", "url": tool},
        {"type": "file", "url": script, "name": "notes"},
        {"type": "file", "url": platform.url("/u/gone.pdf")},
    ]
    turns += user("", "inform", metadata={"attachments": attachments})
    result = await relay(executor, turns)

    assert sent_reasons(result) == [
        ("tool.exe", "Zendesk does not accept .exe files (programs and scripts)"),
        ("notes", "Zendesk does not accept .sh files (programs and scripts)"),
        ("gone.pdf", user_files.UNFETCHED),
    ]
    assert platform.fetched("/u/tool.exe") == 0  # refused by its name, never downloaded
    assert uploads(zendesk) == [] and relayed_since(zendesk, turns) == []


async def test_zendesk_refusing_the_upload_is_told_and_its_failure_keeps_the_message(
    zendesk: Zendesk, executor: ActionExecutor, platform: Platform
) -> None:
    turns = await handed_off(executor)
    image = platform.serve("/u/receipt.png", PNG, "image/png")
    zendesk.fault("/attachments", status=413, count=1)
    turns += user("photo", "inform", metadata={"attachments": [{"type": "image", "url": image}]})
    result = await relay(executor, turns)
    assert sent_reasons(result) == [("receipt.png", "it is larger than Zendesk's limit of 50 MB")]

    zendesk.fault("/attachments", status=503)
    turns += user("again", "inform", metadata={"attachments": [{"type": "image", "url": image}]})
    result = await run_action(executor, constants.ACTION_RELAY, SENDER, turns)
    assert responses(result) == ["utter_zendesk_relay_failed"]  # it waits for the next relay
    [record] = [e["value"] for e in result["events"] if e.get("name") == constants.SLOT_HANDOFF]
    assert record["handled_through"] != turns[-1].message_id


async def test_an_address_on_another_host_is_passed_on_unfetched(
    zendesk: Zendesk, executor: ActionExecutor, platform: Platform
) -> None:
    turns = await handed_off(executor)
    elsewhere = "https://files.example.org/u/photo.jpg"
    turns += user("x", "inform", metadata={"attachments": [{"type": "image", "url": elsewhere}]})
    await relay(executor, turns)
    content = relayed_since(zendesk, turns)[-1]["content"]
    assert (content["type"], content["mediaUrl"]) == ("image", elsewhere)
    assert uploads(zendesk) == []


# Messenger: Rasa's own parser of the Graph webhook -----------------------------------------


async def parsed_by_messenger(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, attachment: Dict[str, Any]
) -> UserMessage:
    received: List[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    webhook = {
        "object": "page",
        "entry": [
            {
                "id": "PAGE_ID",
                "time": 1700000000000,
                "messaging": [
                    {
                        "sender": {"id": "PSID-1"},
                        "recipient": {"id": "PAGE_ID"},
                        "timestamp": 1700000000000,
                        "message": {"mid": "m_1", "attachments": [attachment]},
                    }
                ],
            }
        ],
    }
    with GraphApi() as graph:
        point_messenger_at(monkeypatch, graph)
        await Messenger(PAGE_TOKEN, on_new_message).handle(webhook, None)
    (message,) = received
    return message


@pytest.mark.parametrize(
    ("kind", "media_type", "data", "expected"),
    [
        ("image", "image/png", PNG, "image"),
        ("file", "application/pdf", PDF, "file"),
        ("video", "video/mp4", b"\0\0\0\x18ftypmp42" + b"\0" * 64, "file"),
    ],
)
async def test_a_messenger_attachment_reaches_the_agent(
    zendesk: Zendesk,
    executor: ActionExecutor,
    platform: Platform,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    media_type: str,
    data: bytes,
    expected: str,
) -> None:
    name = f"{uuid.uuid4().hex}.{media_type.split('/')[1]}"
    url = platform.serve(f"/v/t39/{name}?_nc_cat=1", data, media_type)
    message = await parsed_by_messenger(
        platform, monkeypatch, {"type": kind, "payload": {"url": url}}
    )
    assert message.text == url and message.input_channel == "facebook"  # what Rasa carries

    turns = await handed_off(executor, channel="facebook")
    turns += user(message.text, "inform", channel=message.input_channel)
    result = await relay(executor, turns)
    assert responses(result) == []
    (relayed,) = relayed_since(zendesk, turns)  # the file alone: its address is not sent as text
    assert relayed["content"]["type"] == expected
    assert stored(zendesk, relayed["content"]["mediaUrl"]) == data


async def test_a_messenger_text_with_an_address_elsewhere_stays_text(
    zendesk: Zendesk, executor: ActionExecutor, platform: Platform
) -> None:
    turns = await handed_off(executor, channel="facebook")
    turns += user("https://www.example.org/order/1", "inform", channel="facebook")
    await relay(executor, turns)
    assert relayed_since(zendesk, turns)[-1]["content"]["text"] == "https://www.example.org/order/1"
    assert uploads(zendesk) == []


# Twilio MMS: the media Rasa's TwilioInput leaves out, through TwilioMediaInput ----------------


class CapturingAgent:
    def __init__(self) -> None:
        self.received: List[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)


async def post_to_twilio_channel(form: Dict[str, str]) -> UserMessage:
    """Twilio's webhook (form-encoded, as Twilio posts it) to the channel in a Sanic server."""
    channel = TwilioMediaInput("AC" + "0" * 32, "auth-token", "+15005550006")
    app = Sanic(f"twilio_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = CapturingAgent()
    register([channel], app, route="/webhooks/")
    port = free_ports(1)[0]
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    try:
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"http://127.0.0.1:{port}/webhooks/twilio/webhook", data=form
            )
        assert response.status_code == 204
    finally:
        await server.close()
    (message,) = app.ctx.agent.received
    return message


async def test_twilio_mms_media_reach_the_agent(
    zendesk: Zendesk, executor: ActionExecutor, platform: Platform
) -> None:
    photo = platform.serve("/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1", PNG, "image/png")
    pdf = platform.serve("/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME2", PDF, "application/pdf")
    form = {
        "MessageSid": "MM1",
        "AccountSid": "AC0",
        "From": "+15551230000",
        "To": "+15005550006",
        "Body": "",  # Twilio sends an empty Body with a media-only MMS
        "NumMedia": "2",
        "MediaUrl0": photo,
        "MediaContentType0": "image/png",
        "MediaUrl1": pdf,
        "MediaContentType1": "application/pdf",
    }
    message = await post_to_twilio_channel(form)
    assert message.input_channel == "twilio" and message.text == ""
    assert message.metadata == {
        "attachments": [{"type": "image", "url": photo}, {"type": "file", "url": pdf}]
    }

    turns = await handed_off(executor, channel="twilio")
    turns += user(message.text, "inform", metadata=message.metadata, channel="twilio")
    result = await relay(executor, turns)
    assert responses(result) == []
    relayed = relayed_since(zendesk, turns)
    assert [m["content"]["type"] for m in relayed] == ["image", "file"]
    assert [stored(zendesk, m["content"]["mediaUrl"]) for m in relayed] == [PNG, PDF]


async def test_a_twilio_sms_without_media_has_no_metadata() -> None:
    message = await post_to_twilio_channel(
        {"From": "+15551230000", "To": "+15005550006", "Body": "hello", "NumMedia": "0"}
    )
    assert message.text == "hello" and message.metadata is None


# What the relay reads --------------------------------------------------------------------


def test_trusted_hosts_and_their_setting() -> None:
    def files(**env: str) -> UserFileSettings:
        return UserFileSettings.read(Sources(None, env))

    listed = files(ZENDESK_USER_FILE_HOSTS="fbcdn.net, 127.0.0.1:8080")
    assert user_files.trusted("https://scontent.xx.fbcdn.net/v/photo.jpg", listed)
    assert user_files.trusted("http://127.0.0.1:8080/uploads/1/a.png", listed)
    assert not user_files.trusted("http://127.0.0.1:9090/uploads/1/a.png", listed)
    assert not user_files.trusted("https://evilfbcdn.net/a.png", listed)
    assert not user_files.trusted("ftp://fbcdn.net/a.png", listed)
    assert not user_files.trusted("http://fbcdn.net:x/a.png", listed)
    assert user_files.trusted("https://cdn.fbsbx.com/v/doc.pdf", files())  # the defaults
    with pytest.raises(SettingsError, match=HOSTS_ENV):
        files(ZENDESK_USER_FILE_HOSTS="https://fbcdn.net/x")
    # The Rasa server's attachment links, and nothing else of its origin.
    own = files(ZENDESK_PUBLIC_URL="http://127.0.0.1:5005/")
    assert user_files.trusted("http://127.0.0.1:5005/webhooks/zendesk/attachments/t/a.png", own)
    assert not user_files.trusted("http://127.0.0.1:5005/conversations/x/tracker", own)
    assert not user_files.trusted("http://127.0.0.1:5005/webhooks/zendesk/attachments/../x", own)
