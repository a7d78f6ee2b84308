"""Messages a REST user's channel could not push: the policy hands them out first in the next
turn, the action says them again as they were, once and in order, and the turn then goes on as
if the hand-out had not run. Real Rasa code on both sides: the policy on a Rasa tracker, the
action through rasa-sdk's executor on the JSON Rasa sends, its answer turned into events by
Rasa's `RemoteAction`, and the events applied as Rasa's processor logs them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUtteranceReverted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.actions import ActionZendeskHandOut
from rasa_zendesk.handoff import deadlines, pending, state
from rasa_zendesk.policy.handoff_policy import HandoffPolicy, check_domain, recent_user_turns
from testkit.action_calls import action_call
from testkit.policy_trackers import (
    LISTEN,
    create_policy,
    example_domain,
    handoff_ended,
    handoff_started,
    predicted_action,
    session_start,
    user,
)

pytestmark = pytest.mark.timeout(60)

IMAGE = "https://example.com/receipt.png"
BUTTONS = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
CUSTOM = {"type": "file", "url": "https://example.com/invoice.pdf", "name": "invoice.pdf"}


@pytest.fixture
def policy(tmp_path: Path) -> HandoffPolicy:
    return create_policy(HandoffPolicy, tmp_path)


def pushed_nowhere(text: Optional[str], **data: Any) -> BotUttered:
    """An agent message as the channel records it for a user whose channel cannot push."""
    message = BotUttered(text, data=data, metadata={constants.EVENT_ZENDESK_MESSAGE_ID: "m"})
    pending.mark([message])
    return message


def rest_conversation() -> List[Event]:
    """A handoff whose agent wrote three messages (text, image with buttons, a file) to a REST
    user, who then writes again."""
    return [
        *session_start(),
        user("I want to talk to a human", constants.INTENT_HUMAN_HANDOFF),
        *handoff_started(),
        pushed_nowhere("Hi, Alex here."),
        pushed_nowhere("Is this your receipt?", image=IMAGE, buttons=BUTTONS),
        pushed_nowhere(None, custom=CUSTOM),
    ]


def tracker_of(events: List[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("rest-user", events, slots=example_domain().slots)


async def hand_out(events: List[Event]) -> List[Event]:
    """Run the action as Rasa would: the request, the answer turned into events by Rasa's
    RemoteAction, logged after the action's `ActionExecuted`."""
    executor = ActionExecutor()
    executor.register_action(ActionZendeskHandOut)
    body = action_call(constants.ACTION_HAND_OUT, "rest-user", events[3:])
    result = await executor.run(body)
    assert result is not None
    domain = example_domain()
    uttered = await RemoteAction._utter_responses(
        result["responses"],
        CollectingOutputChannel(),
        TemplatedNaturalLanguageGenerator(domain.responses),
        tracker_of(events),
    )
    reverted = [Event.from_parameters(event) for event in result["events"]]
    return [ActionExecuted(constants.ACTION_HAND_OUT), *uttered, *reverted]


def predict(policy: HandoffPolicy, events: List[Event]) -> Optional[str]:
    return predicted_action(
        policy.predict_action_probabilities(tracker_of(events), example_domain())
    )


async def test_the_next_message_gets_the_pending_ones_first_as_they_were_then_the_relay(
    policy: HandoffPolicy,
) -> None:
    events = [*rest_conversation(), user("thanks, that's it", "affirm")]
    assert predict(policy, events) == constants.ACTION_HAND_OUT

    handed = await hand_out(events)
    copies = [event for event in handed if isinstance(event, BotUttered)]
    assert [copy.text for copy in copies] == ["Hi, Alex here.", "Is this your receipt?", None]
    assert copies[1].data["image"] == IMAGE and copies[1].data["buttons"] == BUTTONS
    assert copies[2].data["custom"] == CUSTOM
    originals = [e for e in events if isinstance(e, BotUttered)]
    assert [c.metadata[constants.EVENT_HANDED_OUT] for c in copies] == [
        o.metadata[constants.EVENT_PENDING] for o in originals
    ]

    events += handed
    tracker = tracker_of(events)
    # The hand-out reverted itself: the bot's other policies see the user's message just read.
    assert tracker.latest_action_name == LISTEN
    assert tracker.latest_message is not None and tracker.latest_message.text.startswith("thanks")
    assert predict(policy, events) == constants.ACTION_RELAY
    assert pending.not_handed_out(events) == []


async def test_after_the_end_the_notice_comes_first_then_the_bot_answers(
    policy: HandoffPolicy,
) -> None:
    events = rest_conversation()
    events += [*handoff_ended(events), pushed_nowhere("You're back with the bot.")]
    events += [ActionExecuted(LISTEN), user("hello", "greet")]
    assert predict(policy, events) == constants.ACTION_HAND_OUT
    events += await hand_out(events)
    copies = [e.text for e in events if constants.EVENT_HANDED_OUT in (e.metadata or {})]
    assert copies[-1] == "You're back with the bot." and len(copies) == 4
    assert predict(policy, events) is None  # the bot's own policies answer "hello"


async def test_a_rewind_after_the_hand_out_does_not_hand_anything_out_again(
    policy: HandoffPolicy,
) -> None:
    events = [*rest_conversation(), user("asdkjh qwe", "nlu_fallback", 0.2)]
    events += await hand_out(events)
    # rasa init's fallback rewinds the message; the user writes again.
    events += [
        ActionExecuted("action_default_fallback"),
        UserUtteranceReverted(),
        ActionExecuted(LISTEN),
        user("still broken", "deny"),
    ]
    assert pending.not_handed_out(events) == []
    assert predict(policy, events) == constants.ACTION_RELAY


async def test_a_message_that_arrives_later_is_handed_out_at_the_next_turn(
    policy: HandoffPolicy,
) -> None:
    events = [*rest_conversation(), user("ok", "affirm")]
    events += await hand_out(events)
    events += [ActionExecuted(constants.ACTION_RELAY), ActionExecuted(LISTEN)]
    events += [pushed_nowhere("One more thing."), user("yes?", "affirm")]
    assert [e.text for e in pending.not_handed_out(events)] == ["One more thing."]
    again = await hand_out(events)
    assert [e.text for e in again if isinstance(e, BotUttered)] == ["One more thing."]


async def test_a_poll_gets_only_the_hand_out_and_reaches_nobody(policy: HandoffPolicy) -> None:
    poll = user(pending.POLL_COMMAND, constants.INTENT_POLL, 1.0)
    events = [*rest_conversation(), poll]
    assert predict(policy, events) == constants.ACTION_HAND_OUT
    events += await hand_out(events)
    assert predict(policy, events) == LISTEN  # nothing for the agent, nothing from the bot
    for _ in range(3):
        events += [ActionExecuted(LISTEN), user(pending.POLL_COMMAND, constants.INTENT_POLL, 1.0)]
        assert predict(policy, events) == LISTEN

    handoff = state.active(events)
    assert handoff is not None
    assert state.pending_messages(events, handoff) == []  # the relay passes no poll on
    assert recent_user_turns(tracker_of(events), 5) == []  # no poll is a frustration signal
    agent_wrote_last = [e for e in events if isinstance(e, BotUttered)][2].timestamp
    assert deadlines.last_message_at(events) == agent_wrote_last  # a poll is no activity


def test_a_hand_out_that_failed_lets_the_turn_go_on(policy: HandoffPolicy) -> None:
    """The action server did not run it (not registered, down): no second try this turn, the
    message still goes to the agent, and a poll still reaches nobody."""
    events = [*rest_conversation(), user("still there?", "affirm")]
    failed = [ActionExecuted(constants.ACTION_HAND_OUT)]
    assert predict(policy, [*events, *failed]) == constants.ACTION_RELAY
    poll = user(pending.POLL_COMMAND, constants.INTENT_POLL, 1.0)
    assert predict(policy, [*rest_conversation(), poll, *failed]) == LISTEN


def test_nothing_pending_means_no_hand_out(policy: HandoffPolicy) -> None:
    events = [*session_start(), user("hello", "greet")]
    assert predict(policy, events) is None
    plain = BotUttered("pushed to a socket", metadata={constants.EVENT_ZENDESK_MESSAGE_ID: "m"})
    assert pending.not_handed_out([*events, plain]) == []


def test_training_asks_for_the_hand_out_entries() -> None:
    domain = Domain.from_dict(
        {
            **example_domain().as_dict(),
            "actions": [a for a in example_domain().user_actions if a != constants.ACTION_HAND_OUT],
        }
    )
    with pytest.raises(InvalidConfigException, match=constants.ACTION_HAND_OUT):
        check_domain(domain)


def _as_dicts(events: List[Event]) -> List[Dict[str, Any]]:
    return [event.as_dict() for event in events]


def test_the_action_server_reads_what_the_rasa_server_wrote() -> None:
    """The same answer from event objects (Rasa server) and their JSON (action server)."""
    events = rest_conversation()
    objects = [e.text for e in pending.not_handed_out(events)]
    dicts = [e["text"] for e in pending.not_handed_out(_as_dicts(events))]
    assert objects == dicts == ["Hi, Alex here.", "Is this your receipt?", None]
