"""The example bot's `action_after_handoff`: what it says after a handoff, by the outcome."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.after_handoff import ActionAfterHandoff
from rasa_zendesk import constants
from rasa_zendesk.handoff import endings, state

pytestmark = pytest.mark.timeout(10)


async def after(outcome: Any) -> Tuple[List[str], List[Dict[str, Any]]]:
    """What the action says and the events it returns."""
    tracker = Tracker(
        "web-1", {constants.SLOT_HANDOFF_OUTCOME: outcome}, {}, [], False, None, {}, ""
    )
    dispatcher = CollectingDispatcher()
    events = await ActionAfterHandoff().run(dispatcher, tracker, {})
    return [message["response"] for message in dispatcher.messages], events


async def said_after(outcome: Any) -> List[str]:
    said, events = await after(outcome)
    assert events == []
    return said


@pytest.mark.parametrize(
    "reason, response",
    [
        (state.TRANSFER_TO_EMAIL, "utter_goodbye_by_email"),
        (state.AGENT_TIMEOUT, "utter_offer_faq"),
        (state.AGENT_RELEASED, "utter_ask_feedback"),
        (state.TICKET_SOLVED, "utter_ask_feedback"),  # no agent came: nobody to rate
    ],
)
async def test_the_bot_answers_how_the_handoff_ended(reason: str, response: str) -> None:
    ended = state.ended(state.opened("conv-1", at=10.0), reason, at=70.0)
    assert await said_after(endings.outcome(ended)) == [response]


async def test_without_an_outcome_it_asks_for_feedback() -> None:
    assert await said_after(None) == await said_after("garbled") == ["utter_ask_feedback"]


async def test_a_ticket_an_agent_solved_starts_the_csat_form() -> None:
    joined = state.agent_joined(state.opened("conv-1", at=10.0), "Alex", at=40.0)
    said, events = await after(endings.outcome(state.ended(joined, state.TICKET_SOLVED, at=70.0)))
    assert said == ["utter_ask_zendesk_csat_rating"]
    assert events == [
        {"event": "active_loop", "timestamp": None, "name": "zendesk_csat_form"},
        {
            "event": "slot",
            "timestamp": None,
            "name": "requested_slot",
            "value": "zendesk_csat_rating",
        },
    ]
