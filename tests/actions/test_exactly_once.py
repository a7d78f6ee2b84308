"""The actions against a Zendesk that applies writes and then answers 500: nothing twice.

Real SunCo sometimes stores a message or a conversation and still answers 5xx (or nothing).
The client retries such failures; these tests make every `POST .../messages` and
`POST /conversations` of the actions fail that way, and check that the ticket holds each
message once and that there is one conversation.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List

import pytest
from rasa.shared.core.events import SlotSet
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.constants import WRITE_ID_KEY
from testkit.action_calls import bot, responses, run_action, user
from testkit.action_emulator import Zendesk

pytestmark = pytest.mark.timeout(60)

SENDER = "web-exactly-once"
IMAGE = {"type": "image", "url": "https://cdn.example.com/u/photo.jpg", "name": "photo.jpg"}


async def run(executor: ActionExecutor, action: str, turns: List[Any]) -> Dict[str, Any]:
    return await run_action(executor, action, SENDER, turns)


def applied_then_500(zendesk: Zendesk, path_contains: str, count: int = 1000) -> None:
    zendesk.fault(path_contains, status=500, count=count, method="POST", after=True)


def failed_posts(zendesk: Zendesk, path_end: str, since: int = 0) -> List[Dict[str, Any]]:
    """The POSTs (from API call `since` on) that were all applied and then answered 500."""
    calls = zendesk.api_calls()[since:]
    posts = [c for c in calls if c["method"] == "POST" and c["path"].endswith(path_end)]
    assert posts and all((c["status"], c["faultAfter"]) == (500, True) for c in posts), posts
    return posts


def assert_each_once(messages: List[Dict[str, Any]]) -> None:
    """No message of the plugin is in the ticket twice (each carries its own write id)."""
    write_ids = Counter(m["metadata"][WRITE_ID_KEY] for m in messages)
    assert all(count == 1 for count in write_ids.values()), write_ids
    contents = Counter(repr(m["content"]) for m in messages)
    assert all(count == 1 for count in contents.values()), contents


async def test_escalation_creates_one_conversation_and_posts_each_message_once(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    applied_then_500(zendesk, "/conversations", count=1)  # the first POST under it: creation
    applied_then_500(zendesk, "/messages")
    turns = [
        *user("hi there", "greet"),
        *bot("Hello! How can I help?"),
        *user("I want to talk to a person", "human_handoff"),
    ]

    result = await run(executor, constants.ACTION_HANDOFF, turns)

    assert responses(result) == ["utter_zendesk_handoff_started"]
    (conversation,) = zendesk.conversations()
    assert len(failed_posts(zendesk, "/conversations")) == 1
    posts = failed_posts(zendesk, "/messages")
    messages = conversation["messages"]
    assert len(messages) == len(posts)  # every POST was applied, none was sent twice
    assert_each_once(messages)
    assert "hi there" in "".join(m["content"]["text"] for m in messages)  # the transcript
    assert conversation["agentStatus"] == "open"  # and the handoff went through
    assert conversation["metadata"][constants.CONVERSATION_SENDER_ID] == SENDER


async def test_relay_posts_each_part_once(zendesk: Zendesk, executor: ActionExecutor) -> None:
    turns = [*user("I need a human", "human_handoff")]
    escalated = await run(executor, constants.ACTION_HANDOFF, turns)
    assert responses(escalated) == ["utter_zendesk_handoff_started"]
    turns += [SlotSet(e["name"], e["value"]) for e in escalated["events"]]
    (conversation,) = zendesk.conversations()
    before, calls_before = len(conversation["messages"]), len(zendesk.api_calls())

    applied_then_500(zendesk, "/messages")
    turns += user("here is the photo", "inform", metadata={"attachments": [IMAGE]})
    result = await run(executor, constants.ACTION_RELAY, turns)

    assert responses(result) == []  # the user is not told it failed: it did not
    assert len(failed_posts(zendesk, "/messages", since=calls_before)) == 2
    messages = zendesk.conversation(conversation["id"])["messages"]
    relayed = messages[before:]
    assert [(m["author"]["type"], m["content"]["type"]) for m in relayed] == [
        ("user", "text"),
        ("user", "image"),
    ]
    assert relayed[0]["content"]["text"] == "here is the photo"
    assert_each_once(messages)
    for message in relayed:
        assert message["metadata"][constants.ORIGIN_KEY] == constants.ORIGIN_VALUE
