"""A Slack handoff stays where it began (`platforms/slack.py`, `channel/slack_input.py`): the
channel and thread are pinned in the handoff's record; in a channel the agent answers in the
thread of the user's message (started on it when it was in none), with or without
`use_threads`; a DM handoff never posts into a public channel the user mentions the bot in
later; the user's replies in the handoff's thread reach the bot without a mention while it
runs, and nothing else Rasa drops does. On the Web API stand-in, which refuses a `thread_ts`
that is not a message's `ts`."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Dict, List, Optional

import httpx
import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.slack_input import SlackHandoffInput
from rasa_zendesk.handoff import state
from rasa_zendesk.platforms.slack import PLATFORM
from testkit.channel_harness import HANDOFF_ENDED_TEXT, RasaServer, load_domain, release_webhook
from testkit.choices import Rasa, running
from testkit.platforms import (
    SLACK_SIGNING_SECRET,
    SLACK_TOKEN,
    SlackApi,
    slack_event_metadata,
    slack_input,
    slack_signed,
    text,
)
from testkit.reach import agent_sends, handoff_on

pytestmark = pytest.mark.timeout(60)

USER = "U0USER"
ASKED = "1700000100.000200"  # the ts of the user's message that began the handoff


async def pin(rasa: RasaServer, sender_id: str, metadata: Dict[str, Any]) -> None:
    """The handoff's record pinned where the message with `metadata` began it."""
    tracker = await rasa.tracker(sender_id)
    record = state.current(tracker.events)
    assert record is not None
    channel, thread = PLATFORM.pin(metadata)
    pinned = replace(record, pinned_channel=channel, pinned_thread=thread)
    tracker.update(SlotSet(constants.SLOT_HANDOFF, pinned.as_slot()))
    await rasa.store.save(tracker)


async def user_writes(rasa: RasaServer, sender_id: str, metadata: Dict[str, Any]) -> None:
    tracker = await rasa.tracker(sender_id)
    tracker.update(UserUttered("one more thing", input_channel="slack", metadata=metadata))
    await rasa.store.save(tracker)


def test_where_a_slack_handoff_is_pinned() -> None:
    in_channel = slack_event_metadata("C0SUPPORT", ts=ASKED)
    in_thread = slack_event_metadata("C0SUPPORT", ts=ASKED, thread_ts="1700000000.000100")
    in_dm = slack_event_metadata("D0DIRECT", ts=ASKED)
    assert PLATFORM.pin(in_channel) == ("C0SUPPORT", ASKED)  # a thread on the user's message
    assert PLATFORM.pin(in_thread) == ("C0SUPPORT", "1700000000.000100")
    assert PLATFORM.pin(in_dm) == ("D0DIRECT", None)
    assert PLATFORM.pin({}) == (None, None)


async def test_a_channel_handoff_answers_in_the_users_thread_wherever_they_write_next(
    rasa: RasaServer, slack_api: SlackApi
) -> None:
    began = slack_event_metadata("C0SUPPORT", ts=ASKED)
    conversation_id = await handoff_on(rasa, USER, slack_input(use_threads=False), began)
    await pin(rasa, USER, began)

    await agent_sends(rasa, conversation_id, USER, text("Hi there"))
    await user_writes(rasa, USER, slack_event_metadata("C0ELSEWHERE", ts="1700000300.000400"))
    await agent_sends(rasa, conversation_id, USER, text("Still here"))
    answer = await rasa.post_webhook(release_webhook(conversation_id, USER))
    assert answer.json()["processed"] == 1

    assert [(p["channel"], p.get("thread_ts"), p["text"]) for p in slack_api.posts()] == [
        ("C0SUPPORT", ASKED, "Hi there"),
        ("C0SUPPORT", ASKED, "Still here"),
        ("C0SUPPORT", ASKED, HANDOFF_ENDED_TEXT),
    ]


async def test_a_dm_handoff_never_posts_into_a_public_channel(
    rasa: RasaServer, slack_api: SlackApi
) -> None:
    began = slack_event_metadata("D0DIRECT", ts=ASKED)
    conversation_id = await handoff_on(rasa, USER, slack_input(use_threads=True), began)
    await pin(rasa, USER, began)
    mention = slack_event_metadata("C0PUBLIC", ts="1700000300.000400")

    await user_writes(rasa, USER, mention)  # the user mentions the bot in a public channel
    await agent_sends(rasa, conversation_id, USER, text("Only for you"))

    (post,) = slack_api.posts()
    assert (post["channel"], post.get("thread_ts"), post["text"]) == (
        "D0DIRECT",
        None,
        "Only for you",
    )


async def test_the_stand_in_refuses_a_thread_ts_that_is_no_messages_ts(slack_api: SlackApi) -> None:
    async with httpx.AsyncClient(base_url=slack_api.base_url) as http:
        answer = await http.post(
            "/api/chat.postMessage",
            headers={"Authorization": f"Bearer {SLACK_TOKEN}"},
            json={"channel": "C0SUPPORT", "text": "x", "thread_ts": "1700000000.1"},
        )
    assert answer.json() == {"ok": False, "error": "invalid_thread_ts"}


# The user's replies in the handoff's thread ----------------------------------------------


def message_event(
    channel: str, ts: str, thread_ts: Optional[str], text_: str, kind: str = "message"
) -> str:
    """Slack's Events API callback for a user's message (the bot is U0BOT)."""
    event = {"type": kind, "user": USER, "channel": channel, "ts": ts, "text": text_}
    if thread_ts:
        event["thread_ts"] = thread_ts
    event["channel_type"] = "im" if channel.startswith("D") else "channel"
    body = {
        "type": "event_callback",
        "team_id": "T0TEAM",
        "event": event,
        "authorizations": [{"user_id": "U0BOT", "is_bot": True}],
    }
    return json.dumps(body)


async def slack_rasa(stop_after: List[Rasa], handoff: Optional[state.Handoff]) -> Rasa:
    """Rasa with `SlackHandoffInput` (as credentials.yml makes it) and the user's tracker."""
    channel = SlackHandoffInput.from_credentials(
        {"slack_token": SLACK_TOKEN, "slack_signing_secret": SLACK_SIGNING_SECRET}
    )
    rasa = await running(channel)
    stop_after.append(rasa)
    domain = load_domain()
    store = InMemoryTrackerStore(domain)
    events: List[Any] = [UserUttered("I need a human", input_channel="slack")]
    if handoff is not None:
        events.append(SlotSet(constants.SLOT_HANDOFF, handoff.as_slot()))
    await store.save(DialogueStateTracker.from_events(USER, events, domain.slots))
    rasa.tracker_store = store  # type: ignore[attr-defined]  # what the agent has
    return rasa


async def post_events(rasa: Rasa, *bodies: str) -> None:
    async with httpx.AsyncClient(base_url=rasa.url) as http:
        for body in bodies:
            answer = await http.post("/webhooks/slack/webhook", **slack_signed(body))
            assert answer.status_code == 200, answer.text


THREAD = "1700000000.000100"
RUNNING = state.opened("conv_1", pinned=("C0SUPPORT", THREAD))


async def test_replies_in_the_handoffs_thread_reach_the_bot_without_a_mention(
    stop_after: List[Rasa],
) -> None:
    rasa = await slack_rasa(stop_after, RUNNING)

    await post_events(
        rasa,
        message_event("C0SUPPORT", "1700000400.000001", THREAD, "my order is 4711"),
        message_event("C0SUPPORT", "1700000400.000002", "1700000999.000100", "other thread"),
        message_event("C0SUPPORT", "1700000400.000003", None, "top level, no mention"),
        message_event("C0OTHER", "1700000400.000004", THREAD, "same ts, other channel"),
        # A mention comes twice from Slack: as `app_mention` (Rasa's) and as `message`.
        message_event("C0SUPPORT", "1700000400.000005", THREAD, "<@U0BOT> hello", "message"),
        message_event("C0SUPPORT", "1700000400.000005", THREAD, "<@U0BOT> hello", "app_mention"),
    )

    assert await rasa.picked() == ["my order is 4711", "hello"]


async def test_without_a_running_handoff_rasa_drops_them_as_ever(stop_after: List[Rasa]) -> None:
    ended = state.ended(RUNNING, state.AGENT_RELEASED)
    for handoff in (None, ended):
        rasa = await slack_rasa(stop_after, handoff)
        await post_events(rasa, message_event("C0SUPPORT", "1700000400.000001", THREAD, "hi"))
        assert await rasa.picked() == []


async def test_an_unsigned_thread_reply_is_refused(stop_after: List[Rasa]) -> None:
    rasa = await slack_rasa(stop_after, RUNNING)
    async with httpx.AsyncClient(base_url=rasa.url) as http:
        answer = await http.post(
            "/webhooks/slack/webhook",
            content=message_event("C0SUPPORT", "1700000400.000001", THREAD, "hi"),
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 400
    assert await rasa.picked() == []
