"""What every action shares (`rasa_zendesk.actions.base`): the base is no action of its own,
the turn tells the user a fixed text or the domain's response, and a bot author rewords the
agent's note by subclassing."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from rasa.shared.core.events import SlotSet
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from rasa_zendesk import constants
from rasa_zendesk.actions import ActionZendeskEndHandoff, ActionZendeskHandoff
from rasa_zendesk.actions.base import Turn, ZendeskAction
from rasa_zendesk.handoff import state
from rasa_zendesk.handoff.endings import Wording, agent_notes
from testkit.action_calls import run_action, user
from testkit.action_emulator import Zendesk


def turn() -> Turn:
    tracker = Tracker("sender", {}, {}, [], False, None, {}, "")
    return Turn(CollectingDispatcher(), tracker, {"responses": {"utter_x": [{"text": "X"}]}})


def test_the_base_is_no_action_of_its_own() -> None:
    assert inspect.isabstract(ZendeskAction)
    executor = ActionExecutor()
    executor.register_package("rasa_zendesk.actions")
    assert {
        constants.ACTION_HANDOFF,
        constants.ACTION_RELAY,
        constants.ACTION_END_HANDOFF,
        constants.ACTION_LEAVE_MESSAGE,
        constants.ACTION_HAND_OUT,
    } <= set(executor.actions)


def test_the_turn_says_a_fixed_text_or_the_domains_response() -> None:
    said = turn()
    assert said.has_response("utter_x") and not said.has_response("utter_y")
    said.say(Wording("utter_x"), email="a@b.example")
    said.say(Wording("utter_x", "Fixed"))
    said.say(None)
    messages = said.dispatcher.messages
    assert [(m["response"], m["text"], m.get("email")) for m in messages] == [
        ("utter_x", None, "a@b.example"),
        (None, "Fixed", None),
    ]


def test_the_default_notes_are_the_tables() -> None:
    assert ActionZendeskEndHandoff.agent_notes == agent_notes()


async def test_a_subclass_rewords_the_agents_note(
    zendesk: Zendesk, configured: Callable[..., type]
) -> None:
    reworded = {**ActionZendeskEndHandoff.agent_notes, state.USER_ENDED: "Gone back to the bot."}
    executor = ActionExecutor()
    executor.register_action(ActionZendeskHandoff)
    executor.register_action(configured(ActionZendeskEndHandoff, agent_notes=reworded))
    turns: Any = user("I want a human", "human_handoff")
    opened = await run_action(executor, constants.ACTION_HANDOFF, "web-notes", turns)
    conversation_id = opened["events"][0]["value"]["conversation_id"]
    turns += [SlotSet(e["name"], e["value"]) for e in opened["events"]]
    turns += user("/end", "end_handoff")

    await run_action(executor, constants.ACTION_END_HANDOFF, "web-notes", turns)

    texts = [m["content"].get("text") for m in zendesk.conversation(conversation_id)["messages"]]
    assert texts[-1] == "Gone back to the bot."
