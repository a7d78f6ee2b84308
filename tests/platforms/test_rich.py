"""The agent's message model: what the tracker records is read back as it was sent, and the
text a platform gets for what it cannot show reads right in its link style."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest

from rasa_zendesk import constants
from rasa_zendesk.channel.render import rich_of
from rasa_zendesk.platforms.rich import (
    MARKDOWN,
    MRKDWN,
    PLAIN,
    Choice,
    Link,
    Rich,
    markdown_to,
    readable,
)
from rasa_zendesk.sunco.models import Content
from testkit.channel_harness import RasaServer, content, new_id
from testkit.platforms import ALL, LIST, PLANS, QUICK_REPLIES
from testkit.reach import agent_sends, handoff_on

CONTENTS = [content("text"), content("image"), content("file"), *ALL]


@pytest.mark.parametrize("raw", CONTENTS, ids=lambda raw: raw["type"])
def test_what_is_recorded_reads_back_as_what_was_sent(raw: Dict[str, Any]) -> None:
    sent = rich_of(Content.parse_obj(raw))
    text, data = sent.rasa()
    # As the channel hands it to the output channel: `BotUttered.message()`, metadata merged.
    message = {**data, "text": text, "timestamp": 1.0, constants.EVENT_ZENDESK_MESSAGE_ID: "m1"}

    assert Rich.from_message(message) == sent


def test_markdown_links_in_each_platforms_style() -> None:
    text = "See [the docs](https://example.org/d?a=1&b=2) & <this>, or [x](ftp://no)"

    assert markdown_to(text, MARKDOWN) == text
    assert markdown_to(text, PLAIN) == (
        "See the docs: https://example.org/d?a=1&b=2 & <this>, or [x](ftp://no)"
    )
    assert markdown_to(text, MRKDWN) == (
        "See <https://example.org/d?a=1&b=2|the docs> &amp; &lt;this&gt;, or [x](ftp://no)"
    )


def test_a_whole_message_as_text() -> None:
    message = Rich(
        text="Pick one",
        actions=(Choice("Yes", "Yes"), Link("Docs | guide", "https://example.org/docs")),
    )

    assert readable(message) == "Pick one\n- Yes\n[Docs | guide](https://example.org/docs)"
    assert readable(message, MRKDWN) == "Pick one\n- Yes\n<https://example.org/docs|Docs ¦ guide>"
    assert readable(message, PLAIN) == "Pick one\n- Yes\nDocs | guide: https://example.org/docs"


@pytest.mark.timeout(60)
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
