"""The trained example bot recognises handoff requests it never saw, and HandoffPolicy escalates.

Slow: trains the bot if its cached model is missing or stale (about a minute), then loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Tuple

import pytest
import yaml
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import SlotSet

from rasa_zendesk.constants import (
    ACTION_END_HANDOFF,
    ACTION_HANDOFF,
    ACTION_RELAY,
    INTENT_HUMAN_HANDOFF,
    SLOT_HANDOFF,
    SLOT_HANDOFF_REASON,
)
from rasa_zendesk.escalation import EscalationReason
from rasa_zendesk.handoff import state
from testkit.ordinary_messages import ORDINARY_MESSAGES

REPO = Path(__file__).resolve().parents[2]

UNSEEN_HANDOFF_REQUESTS = [
    "could a real person help me please",
    "I'd like to chat with customer service staff",
    "get me an actual human being",
    "transfer me to someone from support",
    "is there a live agent available?",
    "can you put me in touch with a person",
]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
async def agent(example_model: Path) -> AsyncIterator[Agent]:
    yield Agent.load(str(example_model))


def training_examples() -> set:
    nlu = yaml.safe_load((REPO / "data" / "nlu.yml").read_text())["nlu"]
    return {
        line.strip()[2:].strip().lower()
        for item in nlu
        if "examples" in item
        for line in item["examples"].splitlines()
        if line.strip()
    }


async def next_action(agent: Agent, sender: str, text: str) -> Tuple[str, str, dict]:
    """The action the bot would run after `text`, the policy that chose it, and the parse."""
    processor = agent.processor
    tracker = await processor.log_message(UserMessage(text, sender_id=sender))
    tracker = await processor.run_action_extract_slots(CollectingOutputChannel(), tracker)
    prediction = processor._predict_next_with_tracker(tracker)
    best = max(range(len(prediction.probabilities)), key=prediction.probabilities.__getitem__)
    reasons = [  # the slot holds the reason as data; the agent reads its text
        EscalationReason(**e.value).text
        for e in prediction.events
        if getattr(e, "key", None) == SLOT_HANDOFF_REASON
    ]
    parse = tracker.latest_message.parse_data
    action = processor.domain.action_names_or_texts[best]
    return action, prediction.policy_name, {"parse": parse, "reasons": reasons}


def test_the_phrasings_are_not_in_the_training_data() -> None:
    assert not {text.lower() for text in UNSEEN_HANDOFF_REQUESTS} & training_examples()


@pytest.mark.parametrize("text", UNSEEN_HANDOFF_REQUESTS)
async def test_unseen_handoff_requests_escalate(agent: Agent, text: str) -> None:
    action, policy, info = await next_action(agent, f"unseen-{hash(text)}", text)
    assert info["parse"]["intent"]["name"] == INTENT_HUMAN_HANDOFF, info["parse"]["intent"]
    assert (action, policy) == (ACTION_HANDOFF, "HandoffPolicy")
    assert info["reasons"] and info["reasons"][0].startswith("explicit request")


async def test_a_greeting_does_not_escalate(agent: Agent) -> None:
    action, policy, info = await next_action(agent, "greeter", "hello there, good morning")
    assert info["parse"]["intent"]["name"] == "greet"
    assert (action, policy) == ("utter_greet", "RulePolicy")


async def test_an_order_question_is_answered_by_the_bot(agent: Agent) -> None:
    action, _, info = await next_action(agent, "orders", "where is my order 24681357?")
    assert info["parse"]["intent"]["name"] == "order_status"
    assert action == "utter_order_status"
    assert not info["reasons"]


async def test_an_angry_customer_escalates_with_the_score(agent: Agent) -> None:
    text = "my parcel is late again, this is the worst service ever and I'm furious"
    action, policy, info = await next_action(agent, "angry", text)
    assert (action, policy) == (ACTION_HANDOFF, "HandoffPolicy")
    assert info["reasons"][0].startswith(("frustration: negative sentiment", "explicit request"))


async def start_handoff(agent: Agent, sender: str) -> None:
    """Leave the conversation as a successful escalation does: the handoff waits for an agent."""
    processor = agent.processor
    tracker = await processor.fetch_tracker_and_update_session(sender)
    events = [SlotSet(SLOT_HANDOFF, state.opened("conv_1").as_slot())]
    tracker.update_with_events(events, processor.domain)
    await processor.save_tracker(tracker)


# What a user may well write to an agent: none of it may end the handoff or get a bot answer.
MESSAGES_FOR_THE_AGENT = [*ORDINARY_MESSAGES, "hello", "it was a blue sweater", "asdkjh qwe"]


@pytest.mark.parametrize("text", MESSAGES_FOR_THE_AGENT)
async def test_during_a_handoff_messages_go_to_the_agent(agent: Agent, text: str) -> None:
    """Whatever the example bot's NLU makes of it: the agent gets it at once."""
    sender = f"in-handoff-{hash(text)}"
    await start_handoff(agent, sender)
    action, policy, _ = await next_action(agent, sender, text)
    assert (action, policy) == (ACTION_RELAY, "HandoffPolicy")


async def test_during_a_handoff_asking_for_the_bot_in_words_goes_to_the_agent(
    agent: Agent,
) -> None:
    """Only the gesture ends it: words are for the agent, who can tell the user how."""
    await start_handoff(agent, "wants-the-bot")
    action, policy, _ = await next_action(agent, "wants-the-bot", "please return me to the bot")
    assert (action, policy) == (ACTION_RELAY, "HandoffPolicy")


async def test_during_a_handoff_the_end_command_ends_it(agent: Agent) -> None:
    await start_handoff(agent, "ends-it")
    action, policy, _ = await next_action(agent, "ends-it", "/end")
    assert (action, policy) == (ACTION_END_HANDOFF, "HandoffPolicy")
