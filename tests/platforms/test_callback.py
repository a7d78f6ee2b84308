"""The callback channel (`platforms/callback.py`): Rasa's shapes posted to the callback URL
(a loopback stand-in, `testkit.platforms`)."""

from __future__ import annotations

import pytest

from testkit.channel_harness import RasaServer, new_id
from testkit.platforms import (
    CAROUSEL,
    DOCS,
    LOCATION,
    MAP,
    POSTBACK_AND_LINK,
    QUICK_REPLIES,
    CallbackServer,
    text,
)
from testkit.reach import FILE, IMAGE, agent_sends, agent_types, handoff_on

pytestmark = pytest.mark.timeout(60)


async def test_the_callback_url_gets_rasas_shapes(
    rasa: RasaServer, callback: CallbackServer
) -> None:
    sender_id = "caller-" + new_id()
    conversation_id = await handoff_on(rasa, sender_id, "callback")

    await agent_types(rasa, conversation_id, sender_id)  # no typing on a callback
    await agent_sends(rasa, conversation_id, sender_id, text("Hi there"), IMAGE, FILE)

    file_attachment = {"type": "file", "payload": {"src": FILE["mediaUrl"], "title": "FAQ.pdf"}}
    assert callback.messages() == [
        {"recipient_id": sender_id, "text": "Hi there"},
        {"recipient_id": sender_id, "text": "Hello!"},
        {"recipient_id": sender_id, "image": IMAGE["mediaUrl"]},
        {"recipient_id": sender_id, "text": "Here's our FAQ!"},
        {"recipient_id": sender_id, "attachment": file_attachment},
    ]


async def test_the_callback_url_gets_rasas_buttons_elements_and_custom_payload(
    rasa: RasaServer, callback: CallbackServer
) -> None:
    sender_id = "caller-" + new_id()
    conversation_id = await handoff_on(rasa, sender_id, "callback")

    await agent_sends(
        rasa, conversation_id, sender_id, QUICK_REPLIES, POSTBACK_AND_LINK, CAROUSEL, LOCATION
    )

    messages = [{k: v for k, v in m.items() if k != "recipient_id"} for m in callback.messages()]
    more_info = {"title": "More info", "url": "https://example.org", "type": "web_url"}
    location = {"lat": 52.52, "long": 13.405, "name": "Acme store", "address": "1 Main St"}
    assert messages == [
        {
            "text": "Which size?",
            "buttons": [
                {"title": "Small", "payload": "Small"},
                {"title": "Large", "payload": "Large"},
            ],
        },
        {
            "text": "Pick one",
            "buttons": [
                {"title": "Yes", "payload": "Yes"},
                {"title": "Docs", "url": DOCS, "type": "web_url"},
            ],
        },
        {
            "text": "Tacos : Get your tacos today!",
            "buttons": [{"title": "Select", "payload": "Select (Tacos)"}, more_info],
        },
        {
            "text": "Ramen : Get your ramen today!",
            "buttons": [{"title": "Select", "payload": "Select (Ramen)"}, more_info],
        },
        {"text": f"Location: Acme store, 1 Main St {MAP}"},
        {"custom": {"location": location}},
    ]
