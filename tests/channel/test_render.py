"""Every SunCo content type becomes something a Rasa channel can send, in Rasa's usual shapes;
odd content never breaks delivery (it would turn a webhook into a 500 that SunCo retries for
nothing). How each platform shows them: test_rich_*.py."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from rasa_zendesk.channel.render import bot_uttered_for, file_name, render
from rasa_zendesk.sunco.models import Content, Message
from testkit.channel_harness import Handoff, RasaServer, content
from testkit.platforms import FORM, text_with


def rendered(raw: Dict[str, Any]) -> tuple:
    return render(Content.parse_obj(raw))


def test_text() -> None:
    assert rendered(content("text")) == ("Hello!", {})


def test_text_with_actions_offers_choices_and_links_as_buttons() -> None:
    raw = text_with(
        "Pick one",
        ("link", "Docs", "https://example.org/docs"),
        ("reply", "Yes", "YES"),
        ("postback", "No", "NO"),
    )

    text, data = rendered(raw)

    assert text == "Pick one"
    assert data == {
        "buttons": [
            {"title": "Docs", "url": "https://example.org/docs", "type": "web_url"},
            {"title": "Yes", "payload": "Yes"},
            {"title": "No", "payload": "No"},
        ]
    }


def test_replies_alone_are_quick_replies_whose_payload_is_the_label() -> None:
    raw = text_with("Which size?", ("reply", "Small", "SIZE_S"), ("reply", "/restart", "R"))

    assert rendered(raw) == (
        "Which size?",
        {
            "quick_replies": [
                {"title": "Small", "payload": "Small"},
                {"title": "/restart", "payload": "restart"},  # never a Rasa intent
            ]
        },
    )


def test_image() -> None:
    image = content("image")
    assert rendered(image) == (image["text"], {"image": image["mediaUrl"]})
    assert rendered({"type": "image", "mediaUrl": "https://x.org/a.png"}) == (
        None,
        {"image": "https://x.org/a.png"},
    )


def test_file_is_a_named_attachment() -> None:
    file = content("file")
    assert rendered(file) == (
        file["text"],
        {"attachment": {"type": "file", "payload": {"src": file["mediaUrl"], "title": "FAQ.pdf"}}},
    )


def test_a_file_without_alt_text_is_named_after_its_url() -> None:
    url = "https://x.org/files/Price%20list.pdf?sig=1"
    raw = {"type": "file", "mediaUrl": url, "mediaType": "application/pdf"}
    assert file_name(Content.parse_obj(raw)) == "Price list.pdf"
    payload = {"src": url, "title": "Price list.pdf", "media_type": "application/pdf"}
    assert rendered(raw) == (None, {"attachment": {"type": "file", "payload": payload}})


def test_carousel_is_cards() -> None:
    text, data = rendered(content("carousel"))

    assert text is None
    tacos, ramen = data["elements"]
    assert tacos == {
        "title": "Tacos",
        "subtitle": "Get your tacos today!",
        "image_url": "https://example.org/image.jpg",
        "buttons": [
            {"title": "Select", "payload": "Select (Tacos)"},  # which "Select" it was
            {"title": "More info", "url": "https://example.org", "type": "web_url"},
        ],
    }
    assert ramen["title"] == "Ramen"
    assert ramen["buttons"][0] == {"title": "Select", "payload": "Select (Ramen)"}


def test_location() -> None:
    raw = {
        "type": "location",
        "coordinates": {"lat": 45.5, "long": -73.6},
        "location": {"name": "Head office", "address": "1 Main St"},
    }
    text, data = rendered(raw)
    assert text == (
        "Location: Head office, 1 Main St https://www.openstreetmap.org/?mlat=45.5&mlon=-73.6"
    )
    assert data == {
        "custom": {
            "location": {"lat": 45.5, "long": -73.6, "name": "Head office", "address": "1 Main St"}
        }
    }


def test_form_and_form_response() -> None:
    form = {
        "type": "form",
        "fields": [{"type": "email", "name": "email", "label": "Your email"}, *FORM["fields"]],
    }
    answer = {
        "type": "formResponse",
        "fields": [
            {"type": "email", "name": "email", "label": "Your email", "email": "a@b.org"},
            {"type": "select", "name": "size", "label": "Size", "select": [{"label": "Large"}]},
        ],
    }
    assert rendered(form) == ("Your email\n\nSize: Small, Large", {})
    assert rendered(answer) == ("Your email: a@b.org\n\nSize: Large", {})


def test_a_form_that_asks_one_choice_offers_its_options() -> None:
    assert rendered(FORM) == (
        "Size",
        {
            "quick_replies": [
                {"title": "Small", "payload": "Small"},
                {"title": "Large", "payload": "Large"},
            ]
        },
    )


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "template", "template": {"name": "x"}},
        {"type": "hologram"},
        {"type": "carousel", "items": "not a list"},
        {"type": "carousel", "items": ["x", 3, None, {"actions": "nope"}]},
        {"type": "list", "items": []},
        {"type": "location", "location": "here", "coordinates": [1, 2]},
        {"type": "form", "fields": [1, {"options": "x"}]},
        {"type": "formResponse", "fields": {"a": 1}},
        {"type": "text", "actions": [{"text": None}, "x", {"type": "link", "uri": 5}]},
        {"type": "image"},
        {"type": "file"},
    ],
)
def test_odd_content_still_gives_something_to_show(raw: Dict[str, Any]) -> None:
    text, data = rendered(raw)
    assert isinstance(text, str) or data.get("elements")


def test_the_bot_event_carries_the_sunco_ids_and_the_agent_name() -> None:
    message = Message.parse_obj(
        {
            "id": "m1",
            "author": {
                "type": "business",
                "displayName": "Anna",
                "avatarUrl": "https://example.org/anna.png",
            },
            "content": {"type": "text", "text": "Hi"},
        }
    )
    event = bot_uttered_for(message, "e1")
    assert event.metadata == {
        "zendesk_message_id": "m1",
        "zendesk_event_id": "e1",
        "zendesk_agent_name": "Anna",
        "zendesk_agent_avatar_url": "https://example.org/anna.png",
    }
    assert event.text == "Hi"
    assert bot_uttered_for(message, "e1", "{agent_name}: ").text == "Anna: Hi"
    nameless = message.copy(update={"author": message.author.copy(update={"display_name": None})})
    assert bot_uttered_for(nameless, "e1", "[{agent_name}] ").text == "[Agent] Hi"


@pytest.mark.timeout(30)
async def test_odd_content_in_a_webhook_is_delivered_not_a_500(
    rasa: RasaServer, handoff: Handoff
) -> None:
    odd = {"type": "carousel", "items": ["x", {"title": "Only this", "actions": "nope"}]}

    answer = await rasa.post_webhook(handoff.message(odd))

    assert answer.json()["processed"] == 1
    card = {"title": "Only this", "buttons": []}
    payload = {"template_type": "generic", "elements": [card]}
    assert await handoff.chat.next_message() == {
        "attachment": {"type": "template", "payload": payload}
    }


@pytest.mark.timeout(60)
def test_a_card_choice_names_its_card() -> None:
    _, data = render(Content.parse_obj(content("carousel")))

    payloads = [
        button.get("payload") for element in data["elements"] for button in element["buttons"]
    ]
    assert payloads == ["Select (Tacos)", None, "Select (Ramen)", None]
