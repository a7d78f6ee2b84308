"""No agent can answer (here: a holiday, all day): the escalation says when agents are back and
offers to leave a message; `action_zendesk_leave_message` takes the answer and the address,
then opens the Zendesk conversation for the agents to answer later, and the bot is back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Tuple

import pytest
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import clock, constants
from rasa_zendesk.actions.handoff_metadata import REQUESTER_EMAIL, TAGS
from rasa_zendesk.handoff import offer, state
from testkit.action_calls import responses, run_action, slots, user
from testkit.action_emulator import Zendesk

pytestmark = pytest.mark.timeout(60)

SENDER = "web-closed-4411"


@pytest.fixture
def closed_today(zendesk: Zendesk, monkeypatch: pytest.MonkeyPatch) -> Zendesk:
    """Open around the clock, except that today is a holiday."""
    today = datetime.fromtimestamp(clock.now(), timezone.utc).date()
    monkeypatch.setenv("ZENDESK_BUSINESS_HOURS", "UTC; mon-sun 00:00-24:00")
    monkeypatch.setenv("ZENDESK_HOLIDAYS", today.isoformat())
    return zendesk


def asking() -> List[Any]:
    return [*user("hi", "greet"), *user("I want to talk to a person", "human_handoff")]


async def asks_for_a_person(
    executor: ActionExecutor, *before: Any
) -> Tuple[List[Any], Dict[str, Any]]:
    """The user asks for a person (after the `before` events): the turns, the action's result."""
    turns = [*before, *asking()]
    return turns, await run_action(executor, constants.ACTION_HANDOFF, SENDER, turns)


def offer_in(result: Dict[str, Any]) -> Any:
    values = [e["value"] for e in result["events"] if e.get("name") == constants.SLOT_OFFER]
    return offer.Offer.from_slot(values[-1]) if values else None


def record_in(result: Dict[str, Any]) -> state.Handoff:
    values = [e["value"] for e in result["events"] if e.get("name") == constants.SLOT_HANDOFF]
    handoff = state.Handoff.from_slot(values[-1]) if values else None
    assert handoff is not None, result
    return handoff


async def answer(
    executor: ActionExecutor, turns: List[Any], result: Dict[str, Any], text: str
) -> Dict[str, Any]:
    """The user's next message after `result`, answered by the leave-message action."""
    turns.extend(slots(**{constants.SLOT_OFFER: offer_in(result).as_slot()}))
    turns.extend(user(text, "nlu_fallback"))
    return await run_action(executor, constants.ACTION_LEAVE_MESSAGE, SENDER, turns)


async def test_closed_the_user_hears_when_agents_are_back_and_nothing_goes_to_zendesk(
    closed_today: Zendesk, executor: ActionExecutor
) -> None:
    result = await run_action(executor, constants.ACTION_HANDOFF, SENDER, asking())
    assert responses(result) == [constants.UTTER_CLOSED]
    assert result["responses"][0]["next_opening"] == "tomorrow at 0:00"
    made = offer_in(result)
    assert made is not None and made.reason == "holiday" and made.state == offer.OFFERED
    tomorrow = datetime.fromtimestamp(clock.now(), timezone.utc).date() + timedelta(days=1)
    assert made.next_opening == datetime(*tomorrow.timetuple()[:3], tzinfo=timezone.utc).timestamp()
    assert closed_today.api_calls() == []  # no user, no conversation, no passControl
    assert not [e for e in result["events"] if e.get("name") == constants.SLOT_HANDOFF]


async def test_leaving_a_message_asks_the_address_then_opens_the_ticket(
    closed_today: Zendesk, executor: ActionExecutor
) -> None:
    turns, offered = await asks_for_a_person(executor)
    asked = await answer(executor, turns, offered, "/leave_message")
    assert responses(asked) == [constants.UTTER_ASK_EMAIL]
    assert offer_in(asked).state == offer.ASKING_EMAIL
    wrong = await answer(executor, turns, asked, "my email is jane at example")
    assert responses(wrong) == [constants.UTTER_EMAIL_INVALID, constants.UTTER_ASK_EMAIL]
    assert closed_today.api_calls() == []

    taken = await answer(executor, turns, wrong, "it's Jane.Doe@example.org.")
    assert responses(taken) == [constants.UTTER_MESSAGE_TAKEN]
    assert taken["responses"][0]["email"] == "Jane.Doe@example.org"
    handoff = record_in(taken)
    assert (handoff.state, handoff.end_reason) == (state.ENDED, state.LEFT_MESSAGE)
    assert offer_in(taken) is None  # the offer is closed
    assert {"name": "email", "value": "Jane.Doe@example.org"}.items() <= next(
        e for e in taken["events"] if e.get("name") == "email"
    ).items()
    calls = closed_today.api_calls()
    assert calls[-1]["path"].endswith("/passControl")
    metadata = calls[-1]["body"]["metadata"]
    assert metadata[REQUESTER_EMAIL] == "Jane.Doe@example.org"
    tags = metadata[TAGS].split(",")
    assert "rasa_left_message" in tags and "holiday" in tags
    assert tags[0] == f"rasa_zendesk_conversation_{handoff.conversation_id}"


async def test_a_known_address_is_not_asked(
    closed_today: Zendesk, executor: ActionExecutor
) -> None:
    turns, offered = await asks_for_a_person(executor, *slots(email="known@example.com"))
    taken = await answer(executor, turns, offered, "Leave a message")
    assert responses(taken) == [constants.UTTER_MESSAGE_TAKEN]
    assert taken["responses"][0]["email"] == "known@example.com"
    metadata = closed_today.api_calls()[-1]["body"]["metadata"]
    assert metadata[REQUESTER_EMAIL] == "known@example.com"


async def test_three_wrong_addresses_and_the_bot_gives_up(
    closed_today: Zendesk, executor: ActionExecutor
) -> None:
    turns, result = await asks_for_a_person(executor)
    result = await answer(executor, turns, result, "/leave_message")
    said = []
    for wrong in ("no", "jane@", "a@b@c.com"):
        result = await answer(executor, turns, result, wrong)
        said.append(responses(result))
    assert said == [
        [constants.UTTER_EMAIL_INVALID, constants.UTTER_ASK_EMAIL],
        [constants.UTTER_EMAIL_INVALID, constants.UTTER_ASK_EMAIL],
        [constants.UTTER_MESSAGE_NOT_TAKEN],
    ]
    assert offer_in(result) is None
    assert closed_today.api_calls() == []


@pytest.mark.parametrize("first", ["/bot", "/leave_message"])
async def test_back_to_the_bot_at_any_point(
    closed_today: Zendesk, executor: ActionExecutor, first: str
) -> None:
    turns, result = await asks_for_a_person(executor)
    if first == "/leave_message":
        result = await answer(executor, turns, result, first)
    declined = await answer(executor, turns, result, "/bot")
    assert responses(declined) == [constants.UTTER_OFFER_DECLINED]
    assert offer_in(declined) is None
    assert closed_today.api_calls() == []


async def test_open_hours_hand_off_as_always(
    zendesk: Zendesk, executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    tomorrow = datetime.fromtimestamp(clock.now(), timezone.utc).date() + timedelta(days=1)
    monkeypatch.setenv("ZENDESK_BUSINESS_HOURS", "UTC; mon-sun 00:00-24:00")
    monkeypatch.setenv("ZENDESK_HOLIDAYS", tomorrow.isoformat())
    result = await run_action(executor, constants.ACTION_HANDOFF, SENDER, asking())
    assert responses(result) == [constants.UTTER_HANDOFF_STARTED]
    assert record_in(result).state == state.WAITING
