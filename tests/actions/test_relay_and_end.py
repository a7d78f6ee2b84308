"""`action_zendesk_relay` and `action_zendesk_end_handoff` after a real escalation."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from tests.actions.action_calls import action_call, slots, user
from tests.actions.conftest import Zendesk

pytestmark = pytest.mark.timeout(60)

SENDER = "telegram-4242"
IMAGE = {"type": "image", "url": "https://cdn.example.com/u/photo.jpg", "name": "photo.jpg"}
FILE = {"type": "file", "url": "https://cdn.example.com/u/invoice.pdf"}


async def run(executor: ActionExecutor, action: str, turns: List[Any]) -> Dict[str, Any]:
    result = await executor.run(action_call(action, SENDER, turns))
    assert result is not None
    return result


def responses(result: Dict[str, Any]) -> List[str]:
    return [message["response"] for message in result["responses"]]


async def handed_off(zendesk: Zendesk, executor: ActionExecutor) -> Tuple[List[Any], str, int]:
    """A history after a successful escalation, the conversation id, the API calls so far."""
    turns = [*user("I need a human", "human_handoff", channel="telegram")]
    result = await run(executor, constants.ACTION_HANDOFF, turns)
    assert responses(result) == ["utter_zendesk_handoff_started"]
    conversation_id = next(
        e["value"] for e in result["events"] if e["name"] == constants.SLOT_CONVERSATION_ID
    )
    turns += slots(zendesk_handoff_active=True, zendesk_conversation_id=conversation_id)
    return turns, conversation_id, len(zendesk.api_calls())


async def test_relay_posts_text_and_attachments_as_the_user(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, conversation_id, before = await handed_off(zendesk, executor)
    turns += user(
        "here is the photo and the invoice",
        "inform",
        channel="telegram",
        metadata={"attachments": [IMAGE, FILE]},
    )
    result = await run(executor, constants.ACTION_RELAY, turns)

    assert result == {"events": [], "responses": []}
    new_calls = zendesk.api_calls()[before:]
    assert [c["path"].rsplit("/", 1)[-1] for c in new_calls] == ["messages"] * 3
    bodies = [c["body"] for c in new_calls]
    for body in bodies:
        assert body["author"] == {"type": "user", "userExternalId": SENDER}
        assert body["metadata"] == constants.ORIGIN_METADATA
    assert [b["content"] for b in bodies] == [
        {"type": "text", "text": "here is the photo and the invoice"},
        {"type": "image", "mediaUrl": IMAGE["url"], "altText": "photo.jpg"},
        {"type": "file", "mediaUrl": FILE["url"]},
    ]
    messages = zendesk.conversation(conversation_id)["messages"][-3:]
    assert [m["content"]["type"] for m in messages] == ["text", "image", "file"]
    assert all(m["author"]["type"] == "user" for m in messages)


async def test_relay_of_an_attachment_alone(zendesk: Zendesk, executor: ActionExecutor) -> None:
    turns, _, before = await handed_off(zendesk, executor)
    turns += user("", "inform", metadata={"attachments": [FILE]})
    result = await run(executor, constants.ACTION_RELAY, turns)
    assert result == {"events": [], "responses": []}
    assert [c["body"]["content"]["type"] for c in zendesk.api_calls()[before:]] == ["file"]


async def test_relay_cuts_a_long_message(zendesk: Zendesk, executor: ActionExecutor) -> None:
    turns, _, before = await handed_off(zendesk, executor)
    text = "a" * 5000
    turns += user(text, "inform")
    await run(executor, constants.ACTION_RELAY, turns)
    parts = [c["body"]["content"]["text"] for c in zendesk.api_calls()[before:]]
    assert len(parts) == 2 and "".join(parts) == text
    assert all(len(part) <= constants.MAX_TEXT_LENGTH for part in parts)


async def test_malformed_attachment_is_reported_to_the_user(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, _, before = await handed_off(zendesk, executor)
    bad = [{"type": "video", "url": "https://x.example/v.mp4"}, {"type": "image", "url": "ftp://x"}]
    turns += user("see attached", "inform", metadata={"attachments": [IMAGE, *bad]})
    result = await run(executor, constants.ACTION_RELAY, turns)
    assert result["events"] == []
    assert responses(result) == ["utter_zendesk_relay_failed"]  # never a silent loss
    kinds = [c["body"]["content"]["type"] for c in zendesk.api_calls()[before:]]
    assert kinds == ["text", "image"]  # what could be relayed was


async def test_relay_failure_tells_the_user(zendesk: Zendesk, executor: ActionExecutor) -> None:
    turns, _, before = await handed_off(zendesk, executor)
    zendesk.fault("/messages", status=503)
    turns += user("are you there?", "inform")
    result = await run(executor, constants.ACTION_RELAY, turns)
    assert result["events"] == []  # still in the handoff: the agent may come back
    assert responses(result) == ["utter_zendesk_relay_failed"]
    statuses = [c["status"] for c in zendesk.api_calls()[before:]]
    assert len(statuses) >= 2 and set(statuses) == {503}


async def test_relay_to_a_vanished_conversation_ends_the_handoff(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns = [
        *slots(zendesk_handoff_active=True, zendesk_conversation_id="conv_gone"),
        *user("hello?", "inform"),
    ]
    result = await run(executor, constants.ACTION_RELAY, turns)
    assert responses(result) == ["utter_zendesk_relay_failed"]
    assert [(e["name"], e["value"]) for e in result["events"]] == [
        (constants.SLOT_HANDOFF_ACTIVE, False),
        (constants.SLOT_CONVERSATION_ID, None),
    ]


async def test_end_handoff_notes_releases_and_clears(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, conversation_id, before = await handed_off(zendesk, executor)
    assert zendesk.conversation(conversation_id)["agentStatus"] == "open"
    turns += user("stop, I want the bot back", constants.INTENT_END_HANDOFF)
    result = await run(executor, constants.ACTION_END_HANDOFF, turns)

    assert [(e["name"], e["value"]) for e in result["events"]] == [
        (constants.SLOT_HANDOFF_ACTIVE, False),
        (constants.SLOT_CONVERSATION_ID, None),
    ]
    assert responses(result) == ["utter_zendesk_handoff_ended"]
    calls = zendesk.api_calls()[before:]
    assert [c["path"].rsplit("/", 1)[-1] for c in calls] == ["messages", "releaseControl"]
    note = calls[0]["body"]
    assert note["author"]["type"] == "business"
    assert note["metadata"] == constants.ORIGIN_METADATA
    assert "back with the bot" in note["content"]["text"]
    assert zendesk.conversation(conversation_id)["agentStatus"] != "open"


async def test_end_handoff_gives_the_bot_back_even_if_zendesk_fails(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, _, before = await handed_off(zendesk, executor)
    zendesk.fault("/conversations/", status=500)
    turns += user("bot please", constants.INTENT_END_HANDOFF)
    result = await run(executor, constants.ACTION_END_HANDOFF, turns)
    assert [(e["name"], e["value"]) for e in result["events"]] == [
        (constants.SLOT_HANDOFF_ACTIVE, False),
        (constants.SLOT_CONVERSATION_ID, None),
    ]
    assert responses(result) == ["utter_zendesk_handoff_ended"]
    tried = {c["path"].rsplit("/", 1)[-1] for c in zendesk.api_calls()[before:]}
    assert tried == {"messages", "releaseControl"}  # both tried, each after the other failed


async def test_end_handoff_without_a_conversation_only_ends_locally(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns = [*user("bot please", constants.INTENT_END_HANDOFF)]
    result = await run(executor, constants.ACTION_END_HANDOFF, turns)
    assert responses(result) == ["utter_zendesk_handoff_ended"]
    assert zendesk.api_calls() == []


async def test_relay_without_a_conversation_ends_the_handoff(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns = [*slots(zendesk_handoff_active=True), *user("hello?", "inform")]
    result = await run(executor, constants.ACTION_RELAY, turns)
    assert responses(result) == ["utter_zendesk_relay_failed"]
    assert [(e["name"], e["value"]) for e in result["events"]] == [
        (constants.SLOT_HANDOFF_ACTIVE, False),
        (constants.SLOT_CONVERSATION_ID, None),
    ]
    assert zendesk.api_calls() == []
