"""Slack (`platforms/slack.py`): an agent's messages and the plugin's notices in the user's
channel or DM and thread, Block Kit choices, and a button click back as the user's words."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import httpx
import pytest

from testkit.channel_harness import HANDOFF_ENDED_TEXT, RasaServer, release_webhook
from testkit.choices import Rasa, running
from testkit.platforms import (
    ALL,
    DOCS,
    MAP,
    PLANS,
    TACO,
    SlackApi,
    slack_event_metadata,
    slack_input,
    slack_signed,
    text,
)
from testkit.reach import FILE, IMAGE, agent_sends, agent_types, handoff_on

pytestmark = pytest.mark.timeout(60)


async def test_a_slack_button_sends_its_label_and_a_link_button_nothing(
    offered: Dict[str, Any], stop_after: List[Rasa]
) -> None:
    rasa = await running(slack_input())
    stop_after.append(rasa)

    def click(action: Dict[str, Any]) -> Dict[str, Any]:
        payload = {
            "type": "block_actions",
            "user": {"id": "U0USER"},
            "channel": {"id": "C0SUPPORT"},
            "message": {"ts": "1700000300.000400", "thread_ts": "1700000000.000100"},
            "actions": [action],
        }
        body = str(httpx.QueryParams({"payload": json.dumps(payload)}))
        return slack_signed(body, "application/x-www-form-urlencoded")

    large = offered["buttons"][1]["payload"]
    async with httpx.AsyncClient(base_url=rasa.url) as http:
        for action in (
            {"type": "button", "action_id": "zendesk_1", "value": large},
            {"type": "button", "action_id": "zendesk_2", "url": "https://example.org/sizes"},
        ):
            answer = await http.post("/webhooks/slack/webhook", **click(action))
            assert answer.status_code == 200, answer.text

    assert await rasa.picked() == ["Large"]


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
    sender_id = "U0USER_C0SUPPORT_1700000000.000100"  # Rasa's id of a thread conversation
    place = slack_event_metadata("C0SUPPORT", ts="1700000100.000200", thread_ts="1700000000.000100")
    conversation_id = await handoff_on(
        rasa, sender_id, slack_input(use_threads=False, granularity="thread"), place
    )

    await agent_sends(rasa, conversation_id, sender_id, text("In the thread"))

    (post,) = slack_api.posts()
    assert (post["channel"], post["thread_ts"]) == ("C0SUPPORT", "1700000000.000100")


async def test_the_plugins_notices_go_to_the_users_slack_thread_too(
    rasa: RasaServer, slack_api: SlackApi
) -> None:
    place = slack_event_metadata("C0SUPPORT", ts="1700000100.000200", thread_ts="1700000000.000100")
    conversation_id = await handoff_on(rasa, "U0USER", slack_input(use_threads=True), place)

    answer = await rasa.post_webhook(release_webhook(conversation_id, "U0USER"))

    assert answer.json()["processed"] == 1
    (post,) = slack_api.posts()
    assert (post["channel"], post["thread_ts"], post["text"]) == (
        "C0SUPPORT",
        "1700000000.000100",
        HANDOFF_ENDED_TEXT,
    )


async def test_slack_shows_block_kit_buttons_in_the_users_thread(
    rasa: RasaServer, slack_api: SlackApi
) -> None:
    place = slack_event_metadata("C0SUPPORT", ts="1700000100.000200", thread_ts="1700000000.000100")
    conversation_id = await handoff_on(rasa, "U0USER", slack_input(use_threads=True), place)

    await agent_sends(rasa, conversation_id, "U0USER", *ALL)

    posts = slack_api.posts()
    assert {(p["channel"], p["thread_ts"]) for p in posts} == {("C0SUPPORT", "1700000000.000100")}

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
        "thread_ts": "1700000000.000100",
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
