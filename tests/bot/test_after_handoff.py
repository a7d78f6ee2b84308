"""The example bot's `action_after_handoff`: what it says after a handoff, by the outcome."""

from __future__ import annotations

from typing import Any, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.after_handoff import ActionAfterHandoff
from rasa_zendesk import constants
from rasa_zendesk.handoff import endings, state

pytestmark = pytest.mark.timeout(10)


async def said_after(outcome: Any) -> List[str]:
    tracker = Tracker(
        "web-1", {constants.SLOT_HANDOFF_OUTCOME: outcome}, {}, [], False, None, {}, ""
    )
    dispatcher = CollectingDispatcher()
    assert await ActionAfterHandoff().run(dispatcher, tracker, {}) == []
    return [message["response"] for message in dispatcher.messages]


@pytest.mark.parametrize(
    "reason, response",
    [
        (state.TRANSFER_TO_EMAIL, "utter_goodbye_by_email"),
        (state.AGENT_TIMEOUT, "utter_offer_faq"),
        (state.AGENT_RELEASED, "utter_ask_feedback"),
    ],
)
async def test_the_bot_answers_how_the_handoff_ended(reason: str, response: str) -> None:
    ended = state.ended(state.opened("conv-1", at=10.0), reason, at=70.0)
    assert await said_after(endings.outcome(ended)) == [response]


async def test_without_an_outcome_it_asks_for_feedback() -> None:
    assert await said_after(None) == await said_after("garbled") == ["utter_ask_feedback"]
