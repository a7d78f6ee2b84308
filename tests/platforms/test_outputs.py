"""An agent's text, image, file and typing reach the user on every channel Rasa can push to,
through Rasa's own output channel classes, at the right place: what each platform's API (a
loopback stand-in, `testkit.platforms`) received is checked.

A real Rasa server (`harness.start_rasa`) has the socket.io, REST and callback channels and the
Zendesk channel; the Slack, Twilio, Telegram and Messenger input channels are added as Rasa
holds them (`app.ctx.input_channels`). Each user is in a handoff begun on their channel; the
agent's side is SunCo's webhooks.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from testkit.channel_harness import (
    HANDOFF_ENDED_TEXT,
    RasaServer,
    content,
    new_id,
    open_web_chat,
    release_webhook,
)
from testkit.platforms import (
    TWILIO_NUMBER,
    CallbackServer,
    GraphApi,
    SlackApi,
    TelegramApi,
    TwilioApi,
    add_telegram,
    facebook_input,
    slack_event_metadata,
    slack_input,
    text,
    twilio_input,
    without_chat,
)
from testkit.reach import (
    agent_sends,
    agent_types,
    handoff_on,
)

pytestmark = pytest.mark.timeout(60)

IMAGE = content("image")  # "Hello!" with https://example.org/image.jpg
FILE = content("file")  # "Here's our FAQ!" with https://example.org/FAQ.pdf named FAQ.pdf


# socket.io ---------------------------------------------------------------------------------


async def test_web_chat_gets_text_image_file_and_typing(rasa: RasaServer) -> None:
    sender_id = "webchat-" + new_id()
    conversation_id = await handoff_on(rasa, sender_id, "socketio")
    chat = await open_web_chat(rasa.url, sender_id)
    try:
        await agent_types(rasa, conversation_id, sender_id)
        await agent_sends(rasa, conversation_id, sender_id, text("Hi there"), IMAGE, FILE)

        assert await chat.next_typing() == {"typing": True, "agent_name": "Anna Agent"}
        assert await chat.next_typing() == {"typing": False, "agent_name": "Anna Agent"}
        assert [await chat.next_message() for _ in range(5)] == [
            {"text": "Hi there"},
            {"text": "Hello!"},
            {"attachment": {"type": "image", "payload": {"src": IMAGE["mediaUrl"]}}},
            {"text": "Here's our FAQ!"},
            {"text": f"[FAQ.pdf]({FILE['mediaUrl']})"},
        ]
        chat.assert_no_more_messages()
    finally:
        await chat.client.disconnect()


# Slack -------------------------------------------------------------------------------------


async def test_slack_gets_them_in_the_channel_and_thread_the_user_wrote_from(
    rasa: RasaServer, slack_api: SlackApi
) -> None:
    rasa.app.ctx.input_channels.append(slack_input(use_threads=True))
    sender_id = "U0USER"
    place = slack_event_metadata("C0SUPPORT", ts="1700000100.000200", thread_ts="1700000000.000100")
    assert place == {
        "out_channel": "C0SUPPORT",
        "thread_id": "1700000000.000100",
        "users": ["U0BOT"],
    }
    conversation_id = await handoff_on(rasa, sender_id, "slack", place)

    await agent_types(rasa, conversation_id, sender_id)  # Slack's Web API shows no typing
    await agent_sends(rasa, conversation_id, sender_id, text("Hi there"), IMAGE, FILE)

    posts = slack_api.posts()
    assert {(post["channel"], post["thread_ts"]) for post in posts} == {
        ("C0SUPPORT", "1700000000.000100")
    }
    assert [(post.get("text"), post.get("blocks")) for post in posts] == [
        ("Hi there", None),
        ("Hello!", None),
        (
            IMAGE["mediaUrl"],
            [{"type": "image", "image_url": IMAGE["mediaUrl"], "alt_text": IMAGE["mediaUrl"]}],
        ),
        ("Here's our FAQ!", None),
        (f"<{FILE['mediaUrl']}|FAQ.pdf>", None),
    ]


async def test_slack_follows_the_user_to_a_dm_and_keeps_out_of_threads_unless_asked(
    rasa: RasaServer, slack_api: SlackApi
) -> None:
    rasa.app.ctx.input_channels.append(slack_input(use_threads=False))
    sender_id = "U0USER"
    in_channel = slack_event_metadata("C0SUPPORT", ts="1700000100.000200")
    in_dm = slack_event_metadata("D0DIRECT", ts="1700000200.000300")
    conversation_id = await handoff_on(rasa, sender_id, "slack", in_channel, in_dm)

    await agent_sends(rasa, conversation_id, sender_id, text("Hi there"))

    (post,) = slack_api.posts()
    assert post["channel"] == "D0DIRECT" and "thread_ts" not in post
    assert post["text"] == "Hi there"


async def test_slack_threads_per_thread_conversations(
    rasa: RasaServer, slack_api: SlackApi
) -> None:
    rasa.app.ctx.input_channels.append(slack_input(use_threads=False, granularity="thread"))
    sender_id = "U0USER_C0SUPPORT_1700000000.000100"  # Rasa's id of a thread conversation
    place = slack_event_metadata("C0SUPPORT", ts="1700000100.000200", thread_ts="1700000000.000100")
    conversation_id = await handoff_on(rasa, sender_id, "slack", place)

    await agent_sends(rasa, conversation_id, sender_id, text("In the thread"))

    (post,) = slack_api.posts()
    assert (post["channel"], post["thread_ts"]) == ("C0SUPPORT", "1700000000.000100")


# Twilio ------------------------------------------------------------------------------------


async def test_sms_users_get_them_at_their_number(rasa: RasaServer, twilio_api: TwilioApi) -> None:
    rasa.app.ctx.input_channels.append(twilio_input())
    sender_id = "+15557654321"  # what Rasa's TwilioInput takes from `From`
    conversation_id = await handoff_on(rasa, sender_id, "twilio")

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
    rasa.app.ctx.input_channels.append(twilio_input())
    sender_id = "+15557654323"
    conversation_id = await handoff_on(rasa, sender_id, "twilio")
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


# Telegram ----------------------------------------------------------------------------------


async def test_telegram_users_get_them_in_their_chat(
    rasa: RasaServer, telegram_api: TelegramApi
) -> None:
    add_telegram(rasa.app.ctx.input_channels, telegram_api)
    chat_id = "700000042"
    conversation_id = await handoff_on(rasa, chat_id, "telegram")

    await agent_types(rasa, conversation_id, chat_id)
    await agent_sends(rasa, conversation_id, chat_id, text("Hi there"), IMAGE, FILE)

    calls = telegram_api.calls()
    assert {fields["chat_id"] for _, fields in calls} == {chat_id}
    assert [(method, without_chat(fields)) for method, fields in calls] == [
        ("sendChatAction", {"action": "typing"}),  # typing:stop: Telegram's fades by itself
        ("sendMessage", {"text": "Hi there"}),
        ("sendPhoto", {"photo": IMAGE["mediaUrl"], "caption": "Hello!"}),
        ("sendMessage", {"text": "Here's our FAQ!"}),
        ("sendDocument", {"document": FILE["mediaUrl"]}),
    ]


async def test_what_telegram_cannot_fetch_becomes_a_link(
    rasa: RasaServer, telegram_api: TelegramApi
) -> None:
    add_telegram(rasa.app.ctx.input_channels, telegram_api)
    telegram_api.fail_media = True
    chat_id = "700000043"
    conversation_id = await handoff_on(rasa, chat_id, "telegram")

    await agent_sends(rasa, conversation_id, chat_id, IMAGE, FILE)

    sent = [(m, f.get("text")) for m, f in telegram_api.calls() if m == "sendMessage"]
    assert sent == [
        ("sendMessage", f"Hello!\nimage.jpg: {IMAGE['mediaUrl']}"),
        ("sendMessage", "Here's our FAQ!"),
        ("sendMessage", f"FAQ.pdf: {FILE['mediaUrl']}"),
    ]


# Facebook Messenger ------------------------------------------------------------------------


async def test_messenger_users_get_them_at_their_page_scoped_id(
    rasa: RasaServer, graph_api: GraphApi
) -> None:
    rasa.app.ctx.input_channels.append(facebook_input())
    psid = "6543210987654321"  # the page-scoped id Rasa's Messenger channel takes as sender id
    conversation_id = await handoff_on(rasa, psid, "facebook")

    await agent_types(rasa, conversation_id, psid)
    await agent_sends(rasa, conversation_id, psid, text("Hi there"), IMAGE, FILE)

    sent = graph_api.sent()
    assert {body["recipient"]["id"] for body in sent} == {psid}
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


# callback ----------------------------------------------------------------------------------


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


async def test_the_plugins_notices_go_to_the_users_slack_thread_too(
    rasa: RasaServer, slack_api: SlackApi
) -> None:
    rasa.app.ctx.input_channels.append(slack_input(use_threads=True))
    place = slack_event_metadata("C0SUPPORT", ts="1700000100.000200", thread_ts="1700000000.0001")
    conversation_id = await handoff_on(rasa, "U0USER", "slack", place)

    answer = await rasa.post_webhook(release_webhook(conversation_id, "U0USER"))

    assert answer.json()["processed"] == 1
    (post,) = slack_api.posts()
    assert (post["channel"], post["thread_ts"], post["text"]) == (
        "C0SUPPORT",
        "1700000000.0001",
        HANDOFF_ENDED_TEXT,
    )


# REST: nobody to push to -------------------------------------------------------------------


async def test_a_channel_that_cannot_push_keeps_it_in_the_tracker_and_says_so(
    rasa: RasaServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rasa_zendesk")
    sender_id = "rest-" + new_id()
    conversation_id = await handoff_on(rasa, sender_id, "rest")

    await agent_sends(rasa, conversation_id, sender_id, IMAGE)

    (uttered,) = (
        e for e in (await rasa.bot_events(sender_id)) if e.metadata.get("zendesk_message_id")
    )
    assert (uttered.text, uttered.data) == ("Hello!", {"image": IMAGE["mediaUrl"]})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(sender_id in w and "(rest) cannot push" in w for w in warnings), warnings
