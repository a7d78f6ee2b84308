"""Twilio SMS and WhatsApp (`platforms/twilio.py`): an agent's messages at the user's number
(with the account's Basic auth), choices and links in the text, files as media on WhatsApp,
and a slow API that does not stall the server. Refusals: `test_outcome.py`."""

from __future__ import annotations

import asyncio

import pytest

from rasa_zendesk.platforms import twilio
from testkit.channel_harness import RasaServer
from testkit.platforms import (
    ALL,
    DOCS,
    MAP,
    PLANS,
    TACO,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    WHATSAPP_SENDER,
    TwilioApi,
    basic_auth,
    text,
    twilio_input,
    whatsapp_input,
)
from testkit.reach import FILE, IMAGE, agent_sends, agent_types, handoff_on

pytestmark = pytest.mark.timeout(60)


async def test_sms_users_get_them_at_their_number(rasa: RasaServer, twilio_api: TwilioApi) -> None:
    sender_id = "+15557654321"  # what Rasa's TwilioInput takes from `From`
    conversation_id = await handoff_on(rasa, sender_id, twilio_input())

    await agent_types(rasa, conversation_id, sender_id)  # SMS has no typing
    await agent_sends(rasa, conversation_id, sender_id, text("Hi there"), IMAGE, FILE)

    messages = twilio_api.messages()
    assert {(m["To"][0], m["From"][0]) for m in messages} == {(sender_id, TWILIO_NUMBER)}
    assert [(m["Body"][0], m.get("MediaUrl")) for m in messages] == [
        ("Hi there", None),
        ("Hello!", [IMAGE["mediaUrl"]]),  # one MMS: the picture and its words
        ("Here's our FAQ!", None),
        (f"FAQ.pdf: {FILE['mediaUrl']}", None),
    ]


async def test_a_slow_sms_api_does_not_stall_the_server(
    rasa: RasaServer, twilio_api: TwilioApi
) -> None:
    """Rasa's TwilioOutput blocks on HTTP inside its async methods: it runs off the loop."""
    sender_id = "+15557654323"
    conversation_id = await handoff_on(rasa, sender_id, twilio_input())
    twilio_api.delay = 0.5
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        await agent_sends(rasa, conversation_id, sender_id, text("Slow"))
    finally:
        ticker.cancel()

    assert [m["Body"] for m in twilio_api.messages()] == [["Slow"]]
    assert ticks >= 20  # the loop went on while the SMS was sent (about 50 ticks)


async def test_sms_lists_the_choices_and_links_in_the_text(
    rasa: RasaServer, twilio_api: TwilioApi
) -> None:
    number = "+15557654322"
    conversation_id = await handoff_on(rasa, number, twilio_input())

    await agent_sends(rasa, conversation_id, number, *ALL)

    sent = [(m["Body"][0], m.get("MediaUrl")) for m in twilio_api.messages()]
    assert sent == [
        ("Which size?\n- Small\n- Large", None),
        (f"Pick one\n- Yes\nDocs: {DOCS}", None),
        (
            f"Tacos\nGet your tacos today!\nimage.jpg: {TACO}\n- Select\nMore info: https://example.org",
            None,
        ),
        (
            f"Ramen\nGet your ramen today!\nimage.jpg: {TACO}\n- Select\nMore info: https://example.org",
            None,
        ),
        (f"Location: Acme store, 1 Main St {MAP}", None),
        ("Size\n- Small\n- Large", None),
        ("Plan A\n10 EUR a month\n- Choose", None),
        (f"All plans: {PLANS}", None),
        ("Like it?\n- Yes\n- No", [TACO]),  # one MMS
    ]


def test_a_twilio_media_count_in_other_digits_is_no_media() -> None:
    """`"²".isdigit()` is true, `int("²")` raises: the webhook answered 500."""
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    for count in ("²", "٣", "1" * 50, "-1", " 1"):
        assert twilio.media_of({"NumMedia": count, "MediaUrl0": url}) == []
    assert twilio.media_of({"NumMedia": "1", "MediaUrl0": url}) == [{"type": "file", "url": url}]


async def test_whatsapp_users_get_texts_pictures_and_files_as_media(
    rasa: RasaServer, twilio_api: TwilioApi
) -> None:
    address = "whatsapp:+15557654324"  # what Rasa's TwilioInput takes from `From`
    twilio_api.user_wrote(address)
    conversation_id = await handoff_on(rasa, address, whatsapp_input())

    await agent_sends(rasa, conversation_id, address, text("Hi there"), IMAGE, FILE)

    messages = twilio_api.messages()
    assert {(m["To"][0], m["From"][0]) for m in messages} == {(address, WHATSAPP_SENDER)}
    assert [(m["Body"][0], m.get("MediaUrl")) for m in messages] == [
        ("Hi there", None),
        ("Hello!", [IMAGE["mediaUrl"]]),
        ("Here's our FAQ!", None),
        ("FAQ.pdf", [FILE["mediaUrl"]]),  # a document on WhatsApp, not a link
    ]


async def test_twilio_is_called_with_the_accounts_basic_auth(
    rasa: RasaServer, twilio_api: TwilioApi
) -> None:
    number = "+15557654325"
    conversation_id = await handoff_on(rasa, number, twilio_input())

    await agent_sends(rasa, conversation_id, number, text("Hi"))

    [request] = twilio_api.received
    assert request.headers["authorization"] == basic_auth(TWILIO_SID, TWILIO_TOKEN)
    assert request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
