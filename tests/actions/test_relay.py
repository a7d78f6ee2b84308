"""`action_zendesk_relay` and `action_zendesk_end_handoff` after a real escalation."""

from __future__ import annotations

import re
import time
from typing import Any, Dict, List, Tuple

import pytest
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.actions import relay
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.text import MAX_TEXT_LENGTH
from testkit.action_calls import handoff_closed, handoff_opened, is_ours, responses, user
from testkit.action_emulator import (
    SENDER,
    Zendesk,
    answered,
    applied_then_500,
    assert_each_once,
    ended_with,
    failed_posts,
    handed_off,
    handled_through,
    run,
)

pytestmark = pytest.mark.timeout(60)

IMAGE = {"type": "image", "url": "https://cdn.example.com/u/photo.jpg", "name": "photo.jpg"}
FILE = {"type": "file", "url": "https://cdn.example.com/u/invoice.pdf"}


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

    assert responses(result) == []
    assert handled_through(result) == turns[-1].message_id
    new_calls = zendesk.api_calls()[before:]
    assert [c["path"].rsplit("/", 1)[-1] for c in new_calls] == ["messages"] * 3
    bodies = [c["body"] for c in new_calls]
    for body in bodies:
        assert body["author"] == {"type": "user", "userExternalId": SENDER}
        assert is_ours(body["metadata"])
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
    assert responses(result) == [] and handled_through(result) == turns[-1].message_id
    assert [c["body"]["content"]["type"] for c in zendesk.api_calls()[before:]] == ["file"]


async def test_relay_cuts_a_long_message(zendesk: Zendesk, executor: ActionExecutor) -> None:
    turns, _, before = await handed_off(zendesk, executor)
    text = "a" * 5000
    turns += user(text, "inform")
    await run(executor, constants.ACTION_RELAY, turns)
    parts = [c["body"]["content"]["text"] for c in zendesk.api_calls()[before:]]
    assert len(parts) == 2 and "".join(parts) == text
    assert all(len(part) <= MAX_TEXT_LENGTH for part in parts)


async def test_malformed_attachment_is_reported_to_the_user(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, _, before = await handed_off(zendesk, executor)
    bad = [{"type": "video", "url": "https://x.example/v.mp4"}, {"type": "image", "url": "ftp://x"}]
    turns += user("see attached", "inform", metadata={"attachments": [IMAGE, *bad]})
    result = await run(executor, constants.ACTION_RELAY, turns)
    assert handled_through(result) == turns[-1].message_id
    assert responses(result) == ["utter_zendesk_attachment_refused"]  # never a silent loss
    kinds = [c["body"]["content"]["type"] for c in zendesk.api_calls()[before:]]
    assert kinds == ["text", "image"]  # what could be relayed was


async def test_relay_failure_tells_the_user(zendesk: Zendesk, executor: ActionExecutor) -> None:
    turns, _, before = await handed_off(zendesk, executor)
    zendesk.fault("/messages", status=503)
    turns += user("are you there?", "inform")
    result = await run(executor, constants.ACTION_RELAY, turns)
    # Still in the handoff (the agent may come back), the message not dealt with yet.
    assert handled_through(result) is None and ended_with(result) is None
    assert responses(result) == ["utter_zendesk_relay_failed"]
    statuses = [c["status"] for c in zendesk.api_calls()[before:]]
    assert len(statuses) >= 2 and set(statuses) == {503}


def events_after_the_first(result: Dict[str, Any]) -> List[Tuple[str, Any]]:
    """The action's events after its first, each as (kind, name or text)."""
    return [(e["event"], e.get("name") or e.get("text")) for e in result["events"][1:]]


def assert_gone_and_given_back(result: Dict[str, Any], text: str) -> None:
    """The handoff ended as `conversation_gone`, the user was told, and the bot answers the
    message: it is given to Rasa again, in a fresh session that carries the ended record
    and its outcome over, after listening."""
    assert responses(result) == ["utter_zendesk_handoff_ended"]
    assert ended_with(result) == state.CONVERSATION_GONE
    assert events_after_the_first(result) == [
        ("slot", constants.SLOT_HANDOFF_OUTCOME),
        ("session_started", None),
        ("slot", constants.SLOT_HANDOFF),
        ("slot", constants.SLOT_HANDOFF_OUTCOME),
        ("action", "action_listen"),
        ("user", text),
    ]


async def test_relay_to_a_vanished_conversation_ends_the_handoff(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns = [*handoff_opened("conv_gone"), *user("hello?", "inform")]
    result = await run(executor, constants.ACTION_RELAY, turns)
    assert_gone_and_given_back(result, "hello?")


async def test_relay_after_the_handoff_ended_keeps_the_message_with_the_bot(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns = [*handoff_opened("conv_1")]
    turns += [*handoff_closed(turns), *user("hello?", "inform")]
    result = await run(executor, constants.ACTION_RELAY, turns)
    assert responses(result) == ["utter_zendesk_relay_failed"]
    assert ended_with(result) is None
    assert zendesk.api_calls() == []


async def test_a_rewound_end_is_still_the_end(zendesk: Zendesk, executor: ActionExecutor) -> None:
    """A fallback's rewind in the bot undid the release in Rasa's replay: nothing goes to the
    solved Zendesk conversation, the message stays with the bot."""
    turns = [*handoff_opened("conv_1"), *user("hello?", "greet")]
    turns += [*handoff_closed(turns), ActionExecuted("action_default_fallback")]
    turns += [UserUtteranceReverted(), *user("hello?", "greet")]
    result = await run(executor, constants.ACTION_RELAY, turns)
    assert responses(result) == ["utter_zendesk_relay_failed"]
    assert zendesk.api_calls() == []


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("no", "deny"),
        ("No!", "deny"),
        ("stop, I want the bot back", constants.INTENT_END_HANDOFF),
        ("I want to go back", constants.INTENT_END_HANDOFF),
    ],
)
async def test_every_message_reaches_the_agent_unchanged_whatever_the_nlu_read(
    zendesk: Zendesk, executor: ActionExecutor, text: str, intent: str
) -> None:
    turns, conversation_id, before = await handed_off(zendesk, executor)
    turns += user(text, intent)

    result = await run(executor, constants.ACTION_RELAY, turns)

    assert responses(result) == [] and handled_through(result) == turns[-1].message_id
    posted = [c["body"]["content"]["text"] for c in zendesk.api_calls()[before:]]
    assert posted == [text]
    texts = [m["content"]["text"] for m in zendesk.conversation(conversation_id)["messages"]]
    assert texts[-1] == text


async def test_a_message_that_could_not_go_goes_with_the_next_relay_marked_late(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    """SunCo (or the action server) was down for the first message: it is kept, and goes
    before the next one, once, in order, marked as sent late."""
    turns, conversation_id, before = await handed_off(zendesk, executor)
    zendesk.fault("/messages", status=503)
    turns += user("first, while Zendesk was down", "inform")
    failed = await run(executor, constants.ACTION_RELAY, turns)
    assert responses(failed) == ["utter_zendesk_relay_failed"]
    turns += [ActionExecuted(constants.ACTION_RELAY), *answered(failed)]
    zendesk.control("DELETE", "/faults")

    turns += user("second, Zendesk is back", "inform")
    result = await run(executor, constants.ACTION_RELAY, turns)

    assert responses(result) == [] and handled_through(result) == turns[-1].message_id
    texts = [m["content"]["text"] for m in zendesk.conversation(conversation_id)["messages"]]
    first, second = texts[-2:]
    assert re.match(r"\[written at .* UTC, sent late\] first, while Zendesk was down$", first)
    assert second == "second, Zendesk is back"
    assert sum("first, while" in text for text in texts) == 1


async def test_a_message_posted_by_a_relay_that_died_is_not_posted_twice(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    """The relay posted, then its answer was lost (the action server died): Rasa kept the
    message as pending. The next relay finds it in the conversation by our id."""
    turns, conversation_id, _ = await handed_off(zendesk, executor)
    turns += user("posted, but nobody heard back", "inform")
    await run(executor, constants.ACTION_RELAY, turns)  # its answer never reaches Rasa
    turns += [ActionExecuted(constants.ACTION_RELAY), *user("and this one", "inform")]

    result = await run(executor, constants.ACTION_RELAY, turns)

    assert responses(result) == []
    texts = [m["content"]["text"] for m in zendesk.conversation(conversation_id)["messages"]]
    assert sum("posted, but nobody heard back" in text for text in texts) == 1
    assert texts[-1] == "and this one"


async def test_a_lost_hand_back_is_found_out_by_the_next_relay(
    zendesk: Zendesk, executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agents closed the ticket, and every try of the hand-back webhook failed. The user
    writes later: the relay asks Zendesk, ends the handoff, and the bot answers the message."""
    turns, conversation_id, before = await handed_off(zendesk, executor)
    zendesk.control("POST", f"/conversations/{conversation_id}/solve")
    monkeypatch.setattr(relay.clock, "now", lambda: time.time() + relay.STALE_AFTER_SECONDS + 1)
    turns += user("hello, anyone?", "greet")

    result = await run(executor, constants.ACTION_RELAY, turns)

    assert_gone_and_given_back(result, "hello, anyone?")
    posts = [c for c in zendesk.api_calls()[before:] if c["method"] == "POST"]
    assert not [c for c in posts if c["path"].endswith("/messages")], "nothing relayed"


async def test_a_choice_the_bot_took_is_not_passed_on(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    """After no agent came, the user's "/wait" was the bot's (the policy recorded it as
    dealt with); the next relay sends only what came after it."""
    turns, _, before = await handed_off(zendesk, executor)
    running = state.active(turns)
    assert running is not None
    turns += [SlotSet(constants.SLOT_HANDOFF, state.agent_timed_out(running).as_slot())]
    turns += user("/wait", "inform")
    waited = state.handled(state.keep_waiting(running), turns[-1].message_id)
    turns += [SlotSet(constants.SLOT_HANDOFF, waited.as_slot())]
    turns += user("still here, my order is late", "inform")

    result = await run(executor, constants.ACTION_RELAY, turns)

    assert handled_through(result) == turns[-1].message_id
    posted = [c["body"]["content"]["text"] for c in zendesk.api_calls()[before:]]
    assert posted == ["still here, my order is late"]


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
