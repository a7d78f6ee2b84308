"""The agent's rich messages (`POST /_emulator/conversations/{id}/agent-rich`): quick replies, a
link button, a carousel and a location reach the bot as SunCo sends them (every webhook is
checked against the spec by the receiver), are listed by the messages API, and bad input is a
400 that posts nothing."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from testkit import spec
from testkit.emulator_support import SunCoApi, WebhookReceiver
from testkit.platforms import text_with

pytestmark = pytest.mark.timeout(30)
LINK_WITHOUT_URI = {"type": "link", "text": "a"}


async def send_rich(api: SunCoApi, conversation_id: str, body: Dict[str, Any]) -> Dict[str, Any]:
    answer = await api.control("POST", f"/conversations/{conversation_id}/agent-rich", body, 201)
    message = answer["message"]
    assert message["author"]["type"] == "business"
    assert message["source"]["type"] == "zd:agentWorkspace"
    spec.validate_schema("message", message)
    return message


async def delivered_content(receiver: WebhookReceiver, message_id: str) -> Dict[str, Any]:
    def arrived(r: WebhookReceiver) -> bool:
        return any(
            e["payload"]["message"]["id"] == message_id for e in r.events("conversation:message")
        )

    await receiver.wait_for(arrived)
    (event,) = (
        e
        for e in receiver.events("conversation:message")
        if e["payload"]["message"]["id"] == message_id
    )
    return event["payload"]["message"]["content"]


async def test_quick_replies_are_text_with_reply_actions(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    conversation = await api.handed_off()
    body = {
        "kind": "quickReplies",
        "text": "Which size?",
        "replies": [{"text": "Small"}, {"text": "Large", "payload": "size_large"}],
        "agentName": "Sam",
    }
    message = await send_rich(api, conversation["id"], body)
    assert message["author"]["displayName"] == "Sam"
    expected = text_with(
        "Which size?", ("reply", "Small", "Small"), ("reply", "Large", "size_large")
    )
    assert await delivered_content(receiver, message["id"]) == expected
    listed = await api.ok("GET", f"/conversations/{conversation['id']}/messages")
    assert listed["messages"][-1]["content"] == expected


async def test_link_carousel_and_location(api: SunCoApi, receiver: WebhookReceiver) -> None:
    conversation = await api.handed_off()
    link = await send_rich(
        api,
        conversation["id"],
        {
            "kind": "link",
            "text": "Track it here",
            "buttonText": "Track",
            "uri": "https://www.example.com/t/1",
        },
    )
    assert await delivered_content(receiver, link["id"]) == {
        "type": "text",
        "text": "Track it here",
        "actions": [{"type": "link", "text": "Track", "uri": "https://www.example.com/t/1"}],
    }

    items = [
        {
            "title": "Box",
            "description": "2 kg",
            "mediaUrl": "/_emulator/samples/receipt.png",
            "actions": [
                {"type": "postback", "text": "Choose", "payload": "box"},
                {"type": "link", "text": "Details", "uri": "https://www.example.com/box"},
            ],
        },
        {"title": "Pallet", "actions": [{"type": "postback", "text": "Pick", "payload": "p"}]},
    ]
    carousel = await send_rich(api, conversation["id"], {"kind": "carousel", "items": items})
    content = await delivered_content(receiver, carousel["id"])
    assert content["type"] == "carousel" and len(content["items"]) == 2
    first = content["items"][0]
    assert first["mediaUrl"] == api.server.base_url + "/_emulator/samples/receipt.png"
    assert first["actions"] == items[0]["actions"] and first["description"] == "2 kg"
    assert content["items"][1] == items[1]

    location = await send_rich(
        api,
        conversation["id"],
        {"kind": "location", "lat": 52.52, "long": 13.405, "name": "Acme store"},
    )
    assert await delivered_content(receiver, location["id"]) == {
        "type": "location",
        "coordinates": {"lat": 52.52, "long": 13.405},
        "location": {"name": "Acme store"},
    }


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"kind": "quickReplies", "text": "Which?"}, "quickReplies needs replies"),
        ({"kind": "quickReplies", "text": "Which?", "replies": []}, "replies"),
        ({"kind": "link", "text": "x", "buttonText": "Go", "uri": "javascript:alert(1)"}, "uri"),
        ({"kind": "carousel", "items": [{"title": "x", "actions": []}]}, "actions"),
        (
            {"kind": "carousel", "items": [{"title": "x", "actions": [LINK_WITHOUT_URI]}]},
            "a link action needs uri",
        ),
        ({"kind": "location", "lat": 91, "long": 0}, "lat"),
        ({"kind": "poll"}, "kind"),
        ({"kind": "location", "lat": "north", "long": 0}, "lat"),
    ],
)
async def test_bad_rich_input_is_a_400_and_posts_nothing(
    api: SunCoApi, body: Dict[str, Any], says: str
) -> None:
    conversation = await api.handed_off()
    path = f"/conversations/{conversation['id']}/agent-rich"
    answer = await api.control("POST", path, body, 400)
    assert says in answer["errors"][0]["title"]
    listed = await api.ok("GET", f"/conversations/{conversation['id']}/messages")
    assert [m for m in listed["messages"] if m["author"]["type"] == "business"] == []


async def test_an_unknown_conversation_is_a_404(api: SunCoApi) -> None:
    body = {"kind": "location", "lat": 1, "long": 2}
    await api.control("POST", "/conversations/nope/agent-rich", body, 404)
