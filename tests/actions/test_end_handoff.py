"""`action_zendesk_end_handoff` after a real escalation (the emulator process as Zendesk)."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.handoff import endings, state
from testkit.action_calls import (
    DOMAIN,
    handoff_closed,
    handoff_opened,
    is_ours,
    responses,
    run_action,
    user,
)
from testkit.action_emulator import (
    SENDER,
    Zendesk,
    end_record,
    ended_with,
    followups,
    handed_off,
    run,
)

pytestmark = pytest.mark.timeout(60)


async def test_end_handoff_notes_releases_and_clears(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, conversation_id, before = await handed_off(zendesk, executor)
    assert zendesk.conversation(conversation_id)["agentStatus"] == "open"
    turns += user("stop, I want the bot back", constants.INTENT_END_HANDOFF)
    result = await run(executor, constants.ACTION_END_HANDOFF, turns)

    assert ended_with(result) == state.USER_ENDED
    assert responses(result) == ["utter_zendesk_handoff_ended"]
    calls = zendesk.api_calls()[before:]
    assert [c["path"].rsplit("/", 1)[-1] for c in calls] == ["messages", "releaseControl"]
    note = calls[0]["body"]
    assert note["author"]["type"] == "business"
    assert is_ours(note["metadata"])
    assert "back with the bot" in note["content"]["text"]
    assert zendesk.conversation(conversation_id)["agentStatus"] != "open"


async def test_end_handoff_gives_the_bot_back_even_if_zendesk_fails(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, _, before = await handed_off(zendesk, executor)
    zendesk.fault("/conversations/", status=500)
    turns += user("bot please", constants.INTENT_END_HANDOFF)
    result = await run(executor, constants.ACTION_END_HANDOFF, turns)
    assert ended_with(result) == state.USER_ENDED
    assert responses(result) == ["utter_zendesk_handoff_ended"]
    tried = {c["path"].rsplit("/", 1)[-1] for c in zendesk.api_calls()[before:]}
    assert tried == {"messages", "releaseControl"}  # both tried, each after the other failed


async def test_the_end_starts_a_fresh_session_carrying_the_slots_over(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    """As Rasa's `action_session_start` does: the session starts, the slots of the ending
    session (the ended record among them) are set again, and the bot listens."""
    turns, _, _ = await handed_off(zendesk, executor)
    turns += [SlotSet("email", "ada@example.com"), *user("/end", "end_handoff")]
    result = await run(executor, constants.ACTION_END_HANDOFF, turns)

    events = [(e["event"], e.get("name")) for e in result["events"]]
    assert events[:3] == [
        ("slot", constants.SLOT_HANDOFF),
        ("slot", constants.SLOT_HANDOFF_OUTCOME),
        ("session_started", None),
    ]
    assert events[-1] == ("action", "action_listen") and followups(result) == []
    carried = {e["name"]: e["value"] for e in result["events"][3:-1]}
    assert carried == {
        "email": "ada@example.com",
        constants.SLOT_HANDOFF: end_record(result).as_slot(),
        constants.SLOT_HANDOFF_OUTCOME: endings.outcome(end_record(result)),
    }
    assert end_record(result).end_reason == state.USER_ENDED


async def test_end_handoff_after_the_handoff_ended_changes_nothing(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns = [*handoff_opened("conv_1")]
    turns += [*handoff_closed(turns), *user("/end", "end_handoff")]
    result = await run(executor, constants.ACTION_END_HANDOFF, turns)
    assert responses(result) == ["utter_zendesk_handoff_ended"]
    assert ended_with(result) is None
    assert zendesk.api_calls() == []


async def test_a_restart_ends_the_handoff_then_rasa_restarts(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, conversation_id, before = await handed_off(zendesk, executor)
    turns += user("/restart", "restart")
    result = await run(executor, constants.ACTION_END_HANDOFF, turns)
    assert end_record(result).end_reason == state.RESTART
    assert followups(result) == ["action_restart"]
    assert responses(result) == []  # Rasa's restart speaks for itself
    release = [c for c in zendesk.api_calls()[before:] if c["path"].endswith("releaseControl")]
    assert release[0]["body"]["metadata"] == {"rasa_zendesk_end_reason": "restart"}
    assert zendesk.conversation(conversation_id)["agentStatus"] != "open"


async def test_back_to_the_bot_after_no_agent_came_says_why(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, _, before = await handed_off(zendesk, executor)
    running = state.active(turns)
    assert running is not None
    turns += [SlotSet(constants.SLOT_HANDOFF, state.agent_timed_out(running).as_slot())]
    turns += user("/bot", "inform")
    result = await run(executor, constants.ACTION_END_HANDOFF, turns)
    assert end_record(result).end_reason == state.AGENT_TIMEOUT
    calls = zendesk.api_calls()[before:]
    assert "No agent answered in time" in calls[0]["body"]["content"]["text"]
    assert calls[-1]["body"]["metadata"] == {"rasa_zendesk_end_reason": "agent_timeout"}


async def test_the_after_handoff_action_follows_the_end(
    zendesk: Zendesk, executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENDESK_AFTER_HANDOFF_ACTION", "utter_ask_feedback")
    turns, _, _ = await handed_off(zendesk, executor)
    result = await run(executor, constants.ACTION_END_HANDOFF, [*turns, *user("/end", "x")])
    assert end_record(result).end_reason == state.USER_ENDED
    assert followups(result) == ["utter_ask_feedback"]
    assert responses(result) == ["utter_zendesk_handoff_ended"]


async def test_a_bot_that_carries_no_slots_over_still_gets_the_record_and_the_outcome(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    data = DOMAIN.as_dict()
    data["session_config"] = {"carry_over_slots_to_new_session": False}
    domain = Domain.from_dict(data)
    turns, _, _ = await handed_off(zendesk, executor)
    turns += [SlotSet("email", "ada@example.com"), *user("/end", "end_handoff")]
    result = await run_action(executor, constants.ACTION_END_HANDOFF, SENDER, turns, domain)
    kinds = [e["event"] for e in result["events"]]
    carried = {e["name"] for e in result["events"][kinds.index("session_started") :] if "name" in e}
    assert carried >= {constants.SLOT_HANDOFF, constants.SLOT_HANDOFF_OUTCOME}
    assert "email" not in carried
