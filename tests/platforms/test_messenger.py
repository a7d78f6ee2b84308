"""Messenger (`platforms/messenger.py`, Rasa's `facebook`): an agent's messages at the page-scoped
id, quick replies and templates, and a postback or quick reply back as the user's words."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Dict, List

import httpx
import pytest

from rasa_zendesk import clock
from testkit.channel_harness import RasaServer
from testkit.choices import Rasa, running
from testkit.emulator_stack import EmulatorStack
from testkit.platforms import (
    ALL,
    DOCS,
    MAP,
    PLANS,
    TACO,
    GraphApi,
    facebook_input,
    point_messenger_at,
    text,
    text_with,
)
from testkit.reach import FILE, IMAGE, agent_sends, agent_types, handoff_on
from testkit.refusals import agent_writes, platform_handoff

pytestmark = pytest.mark.timeout(60)


async def test_a_messenger_postback_or_quick_reply_sends_its_label(
    offered: Dict[str, Any], stop_after: List[Rasa], monkeypatch: pytest.MonkeyPatch
) -> None:
    with GraphApi() as api:
        point_messenger_at(monkeypatch, api)  # Rasa marks the message seen, shows typing
        rasa = await running(facebook_input())
        stop_after.append(rasa)
        sender = {"id": "6543210987654323"}
        events = [
            {
                "sender": sender,
                "recipient": {"id": "PAGE"},
                "timestamp": 1,
                "postback": {"title": "Large", "payload": offered["buttons"][1]["payload"]},
            },
            {
                "sender": sender,
                "recipient": {"id": "PAGE"},
                "timestamp": 2,
                "message": {
                    "mid": "m1",
                    "text": "Small",
                    "quick_reply": {"payload": offered["buttons"][0]["payload"]},
                },
            },
        ]
        async with httpx.AsyncClient(base_url=rasa.url) as http:
            for event in events:
                body = json.dumps(
                    {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [event]}]}
                )
                signature = hmac.new(b"app-secret", body.encode(), hashlib.sha1).hexdigest()
                answer = await http.post(
                    "/webhooks/facebook/webhook",
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature": f"sha1={signature}",
                    },
                )
                assert answer.text == "success"
        picked = await rasa.picked()

    assert picked == ["Large", "Small"]


async def test_messenger_users_get_them_at_their_page_scoped_id(
    rasa: RasaServer, graph_api: GraphApi
) -> None:
    psid = "6543210987654321"  # the page-scoped id Rasa's Messenger channel takes as sender id
    graph_api.user_wrote(psid)
    conversation_id = await handoff_on(rasa, psid, facebook_input())

    await agent_types(rasa, conversation_id, psid)
    await agent_sends(rasa, conversation_id, psid, text("Hi there"), IMAGE, FILE)

    sent = graph_api.sent()
    assert {body["recipient"]["id"] for body in sent} == {psid}
    messages = [body for body in sent if "message" in body]
    assert {(body["messaging_type"], body.get("tag")) for body in messages} == {("RESPONSE", None)}
    assert [body.get("sender_action") or body["message"] for body in sent] == [
        "typing_on",
        "typing_off",
        {"text": "Hi there"},
        {"text": "Hello!"},
        {"attachment": {"type": "image", "payload": {"url": IMAGE["mediaUrl"]}}},
        {"text": "Here's our FAQ!"},
        {
            "attachment": {
                "type": "file",
                "payload": {"url": FILE["mediaUrl"], "is_reusable": False},
            }
        },
    ]


async def test_messenger_shows_quick_replies_templates_and_a_generic_template(
    rasa: RasaServer, graph_api: GraphApi
) -> None:
    psid = "6543210987654322"
    graph_api.user_wrote(psid)
    conversation_id = await handoff_on(rasa, psid, facebook_input())

    await agent_sends(rasa, conversation_id, psid, *ALL)

    messages = [body["message"] for body in graph_api.sent()]

    def quick(title: str) -> Dict[str, str]:
        return {"content_type": "text", "title": title, "payload": title}

    def template(payload: Dict[str, Any]) -> Dict[str, Any]:
        return {"attachment": {"type": "template", "payload": payload}}

    more_info = {"type": "web_url", "title": "More info", "url": "https://example.org"}
    assert messages == [
        {"text": "Which size?", "quick_replies": [quick("Small"), quick("Large")]},
        template(
            {
                "template_type": "button",
                "text": "Pick one",
                "buttons": [
                    {"type": "postback", "title": "Yes", "payload": "Yes"},
                    {"type": "web_url", "title": "Docs", "url": DOCS},
                ],
            }
        ),
        template(
            {
                "template_type": "generic",
                "elements": [
                    {
                        "title": name,
                        "subtitle": f"Get your {name.lower()} today!",
                        "image_url": TACO,
                        "buttons": [
                            {"type": "postback", "title": "Select", "payload": f"Select ({name})"},
                            more_info,
                        ],
                    }
                    for name in ("Tacos", "Ramen")
                ],
            }
        ),
        {"text": f"Location: Acme store, 1 Main St {MAP}"},
        {"text": "Size", "quick_replies": [quick("Small"), quick("Large")]},
        template(
            {
                "template_type": "generic",
                "elements": [
                    {
                        "title": "Plan A",
                        "subtitle": "10 EUR a month",
                        "buttons": [
                            {"type": "postback", "title": "Choose", "payload": "Choose (Plan A)"}
                        ],
                    }
                ],
            }
        ),
        template(
            {
                "template_type": "button",
                "text": "Please choose:",
                "buttons": [{"type": "web_url", "title": "All plans", "url": PLANS}],
            }
        ),
        {"text": "Like it?", "quick_replies": [quick("Yes"), quick("No")]},
        {"attachment": {"type": "image", "payload": {"url": TACO}}},
    ]


async def test_a_long_text_with_quick_replies_goes_in_parts_the_replies_with_the_last(
    rasa: RasaServer, graph_api: GraphApi
) -> None:
    """The Send API refuses a text over 2,000 characters, quick replies or not: the text goes
    in parts, and the replies with the last, so they stay under what the user reads last."""
    psid = "6543210987654329"
    graph_api.user_wrote(psid)
    conversation_id = await handoff_on(rasa, psid, facebook_input())
    long = " ".join(f"Sentence number {n} of the agent's long question." for n in range(100))
    asking = text_with(long, ("reply", "Yes", "YES"), ("reply", "No", "NO"))

    await agent_sends(rasa, conversation_id, psid, asking)

    messages = [body["message"] for body in graph_api.sent()]
    assert len(messages) == 3 and all(len(m["text"]) <= 2000 for m in messages)
    assert " ".join(m["text"] for m in messages) == long
    assert [m.get("quick_replies") for m in messages][:2] == [None, None]
    assert [reply["title"] for reply in messages[-1]["quick_replies"]] == ["Yes", "No"]


async def test_after_24_hours_an_agent_message_goes_with_the_human_agent_tag(
    stack: EmulatorStack, graph_api: GraphApi
) -> None:
    psid = "6543210987654324"
    wrote = clock.now() - 2 * 24 * 3600
    graph_api.user_wrote(psid, at=wrote)
    conversation_id = await platform_handoff(stack, psid, facebook_input(), user_wrote_at=wrote)

    after = await agent_writes(
        stack, conversation_id, psid, "Sorry it took long", platform="facebook", cause="-"
    )

    assert [body for body in graph_api.sent() if "message" in body] == [
        {
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "notification_type": "REGULAR",
            "recipient": {"id": psid},
            "message": {"text": "Sorry it took long"},
        }
    ]
    assert (after.told, after.answers, after.waiting) == ([], [(1, 200)], [])


async def test_within_24_hours_an_agent_message_is_a_response(
    stack: EmulatorStack, graph_api: GraphApi
) -> None:
    psid = "6543210987654325"
    wrote = clock.now() - 23 * 3600
    graph_api.user_wrote(psid, at=wrote)
    conversation_id = await platform_handoff(stack, psid, facebook_input(), user_wrote_at=wrote)

    await agent_writes(stack, conversation_id, psid, "Here I am", platform="facebook", cause="-")

    assert [(b["messaging_type"], b.get("tag")) for b in graph_api.sent() if "message" in b] == [
        ("RESPONSE", None)
    ]
