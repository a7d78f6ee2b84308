"""The agent's rich messages (replies, postbacks, links, carousel, list, location, form, image
with actions) as each platform's API receives them, through Rasa's own output channel classes:
buttons and quick replies where the platform has them, text with links where it has not.

Every test sends the same SunCo contents (`testkit.platforms.ALL`), as webhooks, to a user in a
handoff on one platform, and checks what the platform's loopback stand-in received
(`testkit.platforms`).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest

from testkit.channel_harness import RasaServer, new_id, open_web_chat
from testkit.platforms import (
    ALL,
    CAROUSEL,
    DOCS,
    LIST,
    LOCATION,
    MAP,
    PLANS,
    POSTBACK_AND_LINK,
    QUICK_REPLIES,
    TACO,
    CallbackServer,
    GraphApi,
    SlackApi,
    TelegramApi,
    TwilioApi,
    add_telegram,
    facebook_input,
    slack_event_metadata,
    slack_input,
    twilio_input,
    without_chat,
)
from testkit.reach import (
    agent_sends,
    handoff_on,
)

pytestmark = pytest.mark.timeout(60)


async def test_web_chat_shows_quick_replies_link_buttons_and_a_carousel(rasa: RasaServer) -> None:
    sender_id = "webchat-" + new_id()
    conversation_id = await handoff_on(rasa, sender_id, "socketio")
    chat = await open_web_chat(rasa.url, sender_id)
    try:
        await agent_sends(rasa, conversation_id, sender_id, *ALL)
        received = [await chat.next_message() for _ in range(9)]
        chat.assert_no_more_messages()
    finally:
        await chat.client.disconnect()

    def reply(title: str, payload: str = "") -> Dict[str, str]:
        return {"content_type": "text", "title": title, "payload": payload or title}

    def card(title: str, subtitle: str, image: str, *buttons: Dict[str, str]) -> Dict[str, Any]:
        return {"title": title, "subtitle": subtitle, "image_url": image, "buttons": list(buttons)}

    def carousel(*cards: Dict[str, Any]) -> Dict[str, Any]:
        payload = {"template_type": "generic", "elements": list(cards)}
        return {"attachment": {"type": "template", "payload": payload}}

    more_info = {"type": "web_url", "title": "More info", "url": "https://example.org"}
    tacos = card(
        "Tacos",
        "Get your tacos today!",
        TACO,
        {"type": "postback", "title": "Select", "payload": "Select (Tacos)"},
        more_info,
    )
    ramen = card(
        "Ramen",
        "Get your ramen today!",
        TACO,
        {"type": "postback", "title": "Select", "payload": "Select (Ramen)"},
        more_info,
    )
    plan = {
        "title": "Plan A",
        "subtitle": "10 EUR a month",
        "buttons": [{"type": "postback", "title": "Choose", "payload": "Choose (Plan A)"}],
    }
    assert received == [
        {"text": "Which size?", "quick_replies": [reply("Small"), reply("Large")]},
        {  # postbacks stay (`buttons`), replies go with the next message (`quick_replies`)
            "text": "Pick one",
            "buttons": [
                {"type": "postback", "title": "Yes", "payload": "Yes"},
                {"type": "web_url", "title": "Docs", "url": DOCS},
            ],
        },
        carousel(tacos, ramen),
        {"text": f"Location: Acme store, 1 Main St {MAP}"},
        {"text": "Size", "quick_replies": [reply("Small"), reply("Large")]},
        carousel(plan),
        {
            "text": "Please choose:",
            "buttons": [{"type": "web_url", "title": "All plans", "url": PLANS}],
        },
        {"text": "Like it?", "quick_replies": [reply("Yes"), reply("No")]},
        {"attachment": {"type": "image", "payload": {"src": TACO}}},
    ]


async def test_slack_shows_block_kit_buttons_in_the_users_thread(
    rasa: RasaServer, slack_api: SlackApi
) -> None:
    rasa.app.ctx.input_channels.append(slack_input(use_threads=True))
    place = slack_event_metadata("C0SUPPORT", ts="1700000100.000200", thread_ts="1700000000.0001")
    conversation_id = await handoff_on(rasa, "U0USER", "slack", place)

    await agent_sends(rasa, conversation_id, "U0USER", *ALL)

    posts = slack_api.posts()
    assert {(p["channel"], p["thread_ts"]) for p in posts} == {("C0SUPPORT", "1700000000.0001")}

    def button(title: str, index: int, prefix: str = "zendesk", **target: str) -> Dict[str, Any]:
        return {
            "type": "button",
            "action_id": f"{prefix}_{index}",
            "text": {"type": "plain_text", "text": title, "emoji": True},
            **target,
        }

    def offer(text: str, *buttons: Dict[str, Any]) -> List[Dict[str, Any]]:
        section = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        return [section, {"type": "actions", "elements": list(buttons)}]

    quick, postback, carousel, location, form, plans, list_actions, liked, image = posts
    assert quick["blocks"] == offer(
        "Which size?", button("Small", 0, value="Small"), button("Large", 1, value="Large")
    )
    assert quick["text"] == "Which size?\n- Small\n- Large"  # the notification's words
    assert postback["blocks"] == offer(
        "Pick one", button("Yes", 0, value="Yes"), button("Docs", 1, url=DOCS)
    )
    assert postback["text"] == f"Pick one\n- Yes\n<{DOCS}|Docs>"
    tacos_section = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "*Tacos*\nGet your tacos today!"},
        "accessory": {"type": "image", "image_url": TACO, "alt_text": "Tacos"},
    }
    assert carousel["blocks"][:3] == [
        tacos_section,
        {
            "type": "actions",
            "elements": [
                button("Select", 0, "zendesk_card_0", value="Select (Tacos)"),
                button("More info", 1, "zendesk_card_0", url="https://example.org"),
            ],
        },
        {"type": "divider"},
    ]
    assert len(carousel["blocks"]) == 5
    assert location == {
        "channel": "C0SUPPORT",
        "thread_ts": "1700000000.0001",
        "as_user": True,
        "text": f"Location: Acme store, 1 Main St <{MAP}|map>",
        "type": "mrkdwn",
    }
    assert form["blocks"] == offer(
        "Size", button("Small", 0, value="Small"), button("Large", 1, value="Large")
    )
    assert plans["blocks"][1]["elements"] == [
        button("Choose", 0, "zendesk_card_0", value="Choose (Plan A)")
    ]
    assert list_actions["blocks"] == offer("Please choose:", button("All plans", 0, url=PLANS))
    assert liked["blocks"] == offer(
        "Like it?", button("Yes", 0, value="Yes"), button("No", 1, value="No")
    )
    assert image["blocks"] == [{"type": "image", "image_url": TACO, "alt_text": TACO}]


async def test_telegram_shows_keyboards_photos_and_a_venue(
    rasa: RasaServer, telegram_api: TelegramApi
) -> None:
    add_telegram(rasa.app.ctx.input_channels, telegram_api)
    chat_id = "700000044"
    conversation_id = await handoff_on(rasa, chat_id, "telegram")

    await agent_sends(rasa, conversation_id, chat_id, *ALL)

    calls = [(method, without_chat(fields)) for method, fields in telegram_api.calls()]

    def keys(*labels: str) -> Dict[str, Any]:
        rows = [[{"text": label}] for label in labels]
        return {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}

    def inline(*buttons: Dict[str, str]) -> Dict[str, Any]:
        return {"inline_keyboard": [[button] for button in buttons]}

    more_info = {"text": "More info", "url": "https://example.org"}
    assert calls == [
        ("sendMessage", {"text": "Which size?", "reply_markup": keys("Small", "Large")}),
        (
            "sendMessage",
            {
                "text": "Pick one",
                "reply_markup": inline(
                    {"text": "Yes", "callback_data": "Yes"}, {"text": "Docs", "url": DOCS}
                ),
            },
        ),
        (
            "sendPhoto",
            {
                "photo": TACO,
                "caption": "Tacos\nGet your tacos today!",
                "reply_markup": inline(
                    {"text": "Select", "callback_data": "Select (Tacos)"}, more_info
                ),
            },
        ),
        (
            "sendPhoto",
            {
                "photo": TACO,
                "caption": "Ramen\nGet your ramen today!",
                "reply_markup": inline(
                    {"text": "Select", "callback_data": "Select (Ramen)"}, more_info
                ),
            },
        ),
        (
            "sendVenue",
            {
                "latitude": "52.52",
                "longitude": "13.405",
                "title": "Acme store",
                "address": "1 Main St",
            },
        ),
        ("sendMessage", {"text": "Size", "reply_markup": keys("Small", "Large")}),
        (
            "sendMessage",
            {
                "text": "Plan A\n10 EUR a month",
                "reply_markup": inline({"text": "Choose", "callback_data": "Choose (Plan A)"}),
            },
        ),
        (
            "sendMessage",
            {"text": "Please choose:", "reply_markup": inline({"text": "All plans", "url": PLANS})},
        ),
        ("sendPhoto", {"photo": TACO, "caption": "Like it?", "reply_markup": keys("Yes", "No")}),
    ]


async def test_telegram_puts_choices_too_long_for_callback_data_on_a_reply_keyboard(
    rasa: RasaServer, telegram_api: TelegramApi
) -> None:
    add_telegram(rasa.app.ctx.input_channels, telegram_api)
    chat_id = "700000045"
    conversation_id = await handoff_on(rasa, chat_id, "telegram")
    long_label = "Yes, please send the replacement parcel to my office address instead"
    assert len(long_label.encode()) > 64  # more than Telegram's callback_data holds
    offer = {
        "type": "text",
        "text": "Where to?",
        "actions": [
            {"type": "postback", "text": long_label, "payload": "OFFICE"},
            {"type": "link", "text": "Docs", "uri": DOCS},
        ],
    }

    await agent_sends(rasa, conversation_id, chat_id, offer)

    ((method, fields),) = telegram_api.calls()
    assert (method, fields["text"]) == ("sendMessage", f"Where to?\nDocs: {DOCS}")
    assert fields["reply_markup"]["keyboard"] == [[{"text": long_label}]]


async def test_messenger_shows_quick_replies_templates_and_a_generic_template(
    rasa: RasaServer, graph_api: GraphApi
) -> None:
    rasa.app.ctx.input_channels.append(facebook_input())
    psid = "6543210987654322"
    conversation_id = await handoff_on(rasa, psid, "facebook")

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


async def test_sms_lists_the_choices_and_links_in_the_text(
    rasa: RasaServer, twilio_api: TwilioApi
) -> None:
    rasa.app.ctx.input_channels.append(twilio_input())
    number = "+15557654322"
    conversation_id = await handoff_on(rasa, number, "twilio")

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


async def test_the_tracker_records_rasas_shapes(rasa: RasaServer) -> None:
    sender_id = "rest-" + new_id()
    conversation_id = await handoff_on(rasa, sender_id, "rest")

    await agent_sends(rasa, conversation_id, sender_id, QUICK_REPLIES, LIST)

    quick, listing = (
        e for e in await rasa.bot_events(sender_id) if e.metadata.get("zendesk_message_id")
    )
    assert (quick.text, quick.data) == (
        "Which size?",
        {
            "quick_replies": [
                {"title": "Small", "payload": "Small"},
                {"title": "Large", "payload": "Large"},
            ]
        },
    )
    assert json.loads(json.dumps(listing.data)) == {
        "buttons": [{"title": "All plans", "url": PLANS, "type": "web_url"}],
        "elements": [
            {
                "title": "Plan A",
                "subtitle": "10 EUR a month",
                "buttons": [{"title": "Choose", "payload": "Choose (Plan A)"}],
            }
        ],
    }
    assert listing.text == "Please choose:"
