"""HandoffPolicy on real Rasa trackers of the example domain, alone and in a real ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    BotUttered,
    Event,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from rasa.shared.exceptions import InvalidConfigException

from rasa_zendesk import escalation
from rasa_zendesk.constants import (
    ACTION_END_HANDOFF,
    ACTION_HANDOFF,
    ACTION_LEAVE_MESSAGE,
    ACTION_RELAY,
    SLOT_HANDOFF,
    SLOT_HANDOFF_REASON,
    SLOT_OFFER,
    UTTER_CONNECTING,
    UTTER_HANDOFF_FAILED,
    UTTER_KEEP_WAITING,
    UTTER_MESSAGE_LEFT,
    UTTER_RELAY_FAILED,
)
from rasa_zendesk.escalation import EscalationReason
from rasa_zendesk.handoff import offer, state, watch
from rasa_zendesk.policy.handoff_policy import HandoffPolicy, recent_user_turns
from testkit.ordinary_messages import ORDINARY_MESSAGES
from testkit.policy_trackers import (
    LISTEN,
    REPO,
    bot_turn,
    create_policy,
    example_domain,
    example_training_trackers,
    handoff_ended,
    handoff_started,
    predicted_action,
    session_start,
    tracker_from,
    user,
)

ANGRY = "This is useless, I'm so angry"


@pytest.fixture
def policy(tmp_path: Path) -> HandoffPolicy:
    return create_policy(HandoffPolicy, tmp_path)


def predict(policy: HandoffPolicy, events: List[Event]) -> PolicyPrediction:
    return policy.predict_action_probabilities(tracker_from(events), example_domain())


def reason_of(prediction: PolicyPrediction) -> Optional[str]:
    """The reason the policy set, as the agent reads it (the slot holds it as data)."""
    for event in prediction.optional_events:
        if isinstance(event, SlotSet) and event.key == SLOT_HANDOFF_REASON:
            assert prediction.diagnostic_data["handoff_reason"] == event.value
            reason = EscalationReason.from_slot(event.value)
            assert reason is not None and reason.as_slot() == event.value, event.value
            return reason.text
    return None


def assert_escalates(prediction: PolicyPrediction, reason_start: str) -> str:
    assert predicted_action(prediction) == ACTION_HANDOFF
    assert prediction.max_confidence == 1.0
    reason = reason_of(prediction)
    assert reason is not None and reason.startswith(reason_start), reason
    return reason


# --- escalation -----------------------------------------------------------------------------


def test_explicit_request_escalates(policy: HandoffPolicy) -> None:
    events = [
        *session_start(),
        user("hi", "greet"),
        *bot_turn("utter_greet"),
        user("can I talk to a real person?", "human_handoff", 0.97),
    ]
    prediction = predict(policy, events)
    reason = assert_escalates(prediction, "explicit request")
    assert "confidence 0.97" in reason
    assert prediction.policy_priority == 7
    assert prediction.diagnostic_data["handoff_signal"] == "explicit_request"


def test_listens_after_the_escalation(policy: HandoffPolicy) -> None:
    base = [*session_start(), user("human please", "human_handoff")]
    # SunCo was down: no slot set, the user was told so.
    failed = [*base, ActionExecuted(ACTION_HANDOFF), said(UTTER_HANDOFF_FAILED)]
    succeeded = [*base, *handoff_started()[:-1]]
    for events in (failed, succeeded):
        prediction = predict(policy, events)
        assert predicted_action(prediction) == LISTEN
        assert reason_of(prediction) is None


def said(response: str) -> BotUttered:
    return BotUttered("...", metadata={"utter_action": response})


@pytest.mark.parametrize("told_first", [True, False])
def test_an_escalation_whose_answer_was_lost_tells_the_user_from_rasa(
    policy: HandoffPolicy, told_first: bool
) -> None:
    """The action server died during the SunCo work (after the user heard "connecting"),
    or before it: Rasa logged the run with no events, no handoff is open."""
    events = [*session_start(), user("human please", "human_handoff")]
    if told_first:
        events += [
            ActionExecuted(ACTION_HANDOFF),
            said(UTTER_CONNECTING),
            FollowupAction(ACTION_HANDOFF),
        ]
    events.append(ActionExecuted(ACTION_HANDOFF))
    assert predicted_action(predict(policy, events)) == UTTER_HANDOFF_FAILED
    events += [ActionExecuted(UTTER_HANDOFF_FAILED), said(UTTER_HANDOFF_FAILED)]
    assert predicted_action(predict(policy, events)) == LISTEN


def test_the_timers_are_told_of_a_handoff_the_plugin_just_wrote_or_that_runs(
    policy: HandoffPolicy,
) -> None:
    """The Rasa server's timers and metrics learn of records the action server wrote from
    the policy (`handoff.watch`): right after the escalation, while the handoff runs, and
    right after a plugin action ended it; not for a chat that never had one."""
    noted: List[str] = []
    watch.listen(noted.append)
    try:
        base = [*session_start(), user("human please", "human_handoff")]
        opened = [*base, *handoff_started()[:-1]]
        predict(policy, opened)
        assert noted == ["test-user"]
        running = [*opened, ActionExecuted(LISTEN), user("hello?", "greet")]
        predict(policy, running)
        assert len(noted) == 2
        ended = [*running, ActionExecuted(ACTION_END_HANDOFF), *handoff_ended(running)]
        predict(policy, ended)
        assert len(noted) == 3
        predict(policy, [*ended, ActionExecuted(LISTEN), user("thanks", "greet")])
        predict(policy, base)
        assert len(noted) == 3
    finally:
        watch.listen(None)


def test_very_negative_message_escalates(policy: HandoffPolicy) -> None:
    events = [*session_start(), user(ANGRY, "order_status", 0.9)]
    reason = assert_escalates(predict(policy, events), "frustration: negative sentiment -0.75")
    assert "threshold -0.60" in reason


def test_negative_window_escalates_once_the_mean_is_low_enough(tmp_path: Path) -> None:
    policy = create_policy(
        HandoffPolicy, tmp_path, {"sentiment_threshold": -0.9, "sentiment_window_threshold": -0.3}
    )
    first = [*session_start(), user("that didn't help", "order_status")]
    assert predicted_action(predict(policy, first)) is None  # one message is not a window
    second = [*first, *bot_turn("utter_default"), user("not helpful", "order_status")]
    assert_escalates(predict(policy, second), "frustration: mean sentiment -0.32 over the last 2")


def test_default_window_catches_sustained_complaints(policy: HandoffPolicy) -> None:
    first = [*session_start(), user("I hate this", "order_status")]
    assert predicted_action(predict(policy, first)) is None  # -0.57 alone is above -0.60
    second = [*first, *bot_turn("utter_order_status"), user("terrible", "order_status")]
    assert_escalates(predict(policy, second), "frustration: mean sentiment -0.52")


def test_consecutive_fallbacks_escalate(policy: HandoffPolicy) -> None:
    one = [*session_start(), user("blorp zing", "nlu_fallback", 0.6)]
    assert predicted_action(predict(policy, one)) is None
    two = [*one, *bot_turn("utter_default"), user("qwertz uiop", "greet", 0.12)]
    assert_escalates(predict(policy, two), "repeated fallbacks")


def test_shouting_escalates(policy: HandoffPolicy) -> None:
    events = [*session_start(), user("WHERE IS MY ORDER!!!", "order_status")]
    assert_escalates(predict(policy, events), "frustration: the user is shouting")


def test_the_same_message_three_times_escalates(policy: HandoffPolicy) -> None:
    events = [*session_start()]
    for _ in range(2):
        events += [user("where is my order", "order_status"), *bot_turn("utter_ask_order_number")]
    assert predicted_action(predict(policy, events[:-2])) is None
    events.append(user("Where is my order?", "order_status"))
    assert_escalates(predict(policy, events), "repeated message")


# --- nothing to do --------------------------------------------------------------------------


def test_abstains_when_the_user_is_calm(policy: HandoffPolicy) -> None:
    events = [
        *session_start(),
        user("hi", "greet"),
        *bot_turn("utter_greet"),
        user("where is order 12345678", "order_status"),
    ]
    prediction = predict(policy, events)
    assert predicted_action(prediction) is None
    assert prediction.probabilities == [0.0] * example_domain().num_actions
    assert prediction.optional_events == []


def test_abstains_after_a_bot_action_when_inactive(policy: HandoffPolicy) -> None:
    events = [*session_start(), user("human please", "human_handoff"), ActionExecuted("utter_x")]
    assert predicted_action(predict(policy, events)) is None


def test_end_handoff_without_a_handoff_is_left_to_the_bot(policy: HandoffPolicy) -> None:
    events = [*session_start(), user("I want the bot back", "end_handoff")]
    assert predicted_action(predict(policy, events)) is None


# --- during a handoff -----------------------------------------------------------------------


def in_handoff() -> List[Event]:
    return [*session_start(), user("human please", "human_handoff"), *handoff_started()]


def test_relays_every_user_message_then_listens(policy: HandoffPolicy) -> None:
    events = in_handoff()
    # Even messages the bot would answer, or that look frustrated, go to the agent.
    for message in (user("hi", "greet"), user(ANGRY, "order_status"), user("bla", "nlu_fallback")):
        events.append(message)
        assert predicted_action(predict(policy, events)) == ACTION_RELAY
        events += [ActionExecuted(ACTION_RELAY), *relay_answered(events)]
        assert predicted_action(predict(policy, events)) == LISTEN
        events.append(ActionExecuted(LISTEN))


def relay_answered(events: List[Event]) -> List[Event]:
    """What the relay returns: the record, with the message dealt with."""
    running = state.active(events)
    assert running is not None
    return [SlotSet(SLOT_HANDOFF, running.as_slot())]


def test_a_relay_whose_answer_was_lost_tells_the_user_and_keeps_the_message(
    policy: HandoffPolicy,
) -> None:
    """The action server was down: Rasa logged the relay with no events."""
    events = [*in_handoff(), user("my parcel is lost", "inform"), ActionExecuted(ACTION_RELAY)]
    assert predicted_action(predict(policy, events)) == UTTER_RELAY_FAILED
    events.append(ActionExecuted(UTTER_RELAY_FAILED))
    assert predicted_action(predict(policy, events)) == LISTEN


def test_agent_messages_do_not_change_the_relay(policy: HandoffPolicy) -> None:
    events = [
        *in_handoff(),
        BotUttered("Hi, I'm Ann from support", metadata={"zendesk_agent_name": "Ann"}),
        user("hello Ann", "greet"),
    ]
    assert predicted_action(predict(policy, events)) == ACTION_RELAY


def test_the_bot_stays_quiet_after_any_other_action(policy: HandoffPolicy) -> None:
    events = [*in_handoff(), user("hi", "greet"), ActionExecuted("utter_greet")]
    assert predicted_action(predict(policy, events)) == LISTEN


@pytest.mark.parametrize("command", ["/end", "/END", " /end_handoff ", "/end_handoff@1.0"])
def test_a_command_ends_the_handoff(policy: HandoffPolicy, command: str) -> None:
    # Whatever the NLU made of it (an unknown /end is parsed as ordinary text).
    events = [*in_handoff(), user(command, "greet", 0.3)]
    assert predicted_action(predict(policy, events)) == ACTION_END_HANDOFF
    events += [ActionExecuted(ACTION_END_HANDOFF), *handoff_ended(events, state.USER_ENDED)]
    assert predicted_action(predict(policy, events)) == LISTEN


#: Each is read here as whatever would end or divert a handoff if a guess mattered.
@pytest.mark.parametrize(
    ("intent", "confidence"),
    [("end_handoff", 1.0), ("restart", 1.0), ("goodbye", 0.99), ("deny", 0.99)],
)
@pytest.mark.parametrize("text", ORDINARY_MESSAGES)
def test_every_ordinary_message_goes_to_the_agent_whatever_the_nlu_reads(
    policy: HandoffPolicy, text: str, intent: str, confidence: float
) -> None:
    events = [*in_handoff(), user(text, intent, confidence)]
    prediction = predict(policy, events)
    assert predicted_action(prediction) == ACTION_RELAY
    assert prediction.events == []  # the record is untouched: the relay deals with it


def test_words_read_as_end_handoff_go_to_the_agent(policy: HandoffPolicy) -> None:
    """No question, no held message: the agent reads them at once, and then the bot listens."""
    events = [*in_handoff(), user("stop, I want the bot back", "end_handoff", 1.0)]
    assert predicted_action(predict(policy, events)) == ACTION_RELAY
    events += [ActionExecuted(ACTION_RELAY), *relay_answered(events)]
    assert predicted_action(predict(policy, events)) == LISTEN
    events += [ActionExecuted(LISTEN), user("yes", "affirm")]
    assert predicted_action(predict(policy, events)) == ACTION_RELAY


# --- restart, and the choices when no agent came ----------------------------------------


@pytest.mark.parametrize("text", ["/restart", " /RESTART "])
def test_a_restart_ends_the_handoff_first(policy: HandoffPolicy, text: str) -> None:
    events = [*in_handoff(), user(text, "restart", 1.0)]
    assert predicted_action(predict(policy, events)) == ACTION_END_HANDOFF


def test_words_read_as_restart_go_to_the_agent(policy: HandoffPolicy) -> None:
    events = [*in_handoff(), user("start over", "restart", 1.0)]
    assert predicted_action(predict(policy, events)) == ACTION_RELAY


def offered() -> List[Event]:
    """A handoff no agent answered in time: the user was offered three choices."""
    events = in_handoff()
    running = state.active(events)
    assert running is not None
    return [*events, SlotSet(SLOT_HANDOFF, state.agent_timed_out(running).as_slot())]


@pytest.mark.parametrize("text", ["/wait", "Keep waiting", "wait", "I'll wait"])
def test_keep_waiting_restarts_the_agent_timeout(policy: HandoffPolicy, text: str) -> None:
    events = [*offered(), user(text, "affirm")]
    prediction = predict(policy, events)
    assert predicted_action(prediction) == UTTER_KEEP_WAITING
    [record] = [e.value for e in prediction.events if getattr(e, "key", None) == SLOT_HANDOFF]
    waiting = state.Handoff.from_slot(record)
    assert waiting is not None and waiting.agent_timeout_offered_at is None
    assert waiting.waiting_since > state.active(events).requested_at  # type: ignore[union-attr]
    # The choice is dealt with: no relay passes it on to the agent.
    assert waiting.handled_through == events[-1].message_id


@pytest.mark.parametrize("text", ["/leave_message", "leave a message"])
def test_leaving_a_message_keeps_the_handoff_without_agent_timeout(
    policy: HandoffPolicy, text: str
) -> None:
    events = [*offered(), user(text, "inform")]
    prediction = predict(policy, events)
    assert predicted_action(prediction) == UTTER_MESSAGE_LEFT
    [record] = [e.value for e in prediction.events if getattr(e, "key", None) == SLOT_HANDOFF]
    left = state.Handoff.from_slot(record)
    assert left is not None and left.message_left and left.active
    assert left.handled_through == events[-1].message_id


def ended_by_the_user() -> List[Event]:
    """`/end`, as the end action answers: the record, then a fresh session carrying it."""
    events = [*in_handoff(), user("/end", "x")]
    ended = handoff_ended(events, state.USER_ENDED)
    return [
        *events,
        ActionExecuted(ACTION_END_HANDOFF),
        *ended,
        SessionStarted(),
        *ended,
        ActionExecuted(LISTEN),
    ]


def test_the_turn_ends_after_the_fresh_session(policy: HandoffPolicy) -> None:
    """No follow-up: Rasa asks the policies again after the end; the bot listens."""
    assert predicted_action(predict(policy, ended_by_the_user())) == LISTEN


def test_the_after_handoff_action_ends_the_turn(policy: HandoffPolicy) -> None:
    events = [*ended_by_the_user(), ActionExecuted("utter_ask_feedback")]  # the follow-up
    assert predicted_action(predict(policy, events)) == LISTEN


def test_a_session_start_without_an_end_is_left_to_the_bot(policy: HandoffPolicy) -> None:
    """An action run through Rasa's API right after a session start: no handoff ended."""
    events = [*session_start(), ActionExecuted("utter_greet")]
    assert predicted_action(predict(policy, events)) is None


def test_after_a_restart_the_bot_listens(policy: HandoffPolicy) -> None:
    events = [*in_handoff(), user("/restart", "restart")]
    events += [ActionExecuted(ACTION_END_HANDOFF), *handoff_ended(events, state.RESTART)]
    events += [ActionExecuted("action_restart"), Restarted()]
    assert predicted_action(predict(policy, events)) == LISTEN


def test_the_first_message_of_the_fresh_session_is_the_bots(policy: HandoffPolicy) -> None:
    """What the relay gives back when Zendesk lost the conversation, and any later message:
    the other policies answer it, from the fresh session, which they alone see."""
    events = [*ended_by_the_user(), user("hello", "greet")]
    prediction = predict(policy, events)
    assert predicted_action(prediction) is None
    assert repairs(prediction) == []
    tracker = tracker_from(events)
    assert [type(e).__name__ for e in tracker.applied_events()] == [
        "SlotSet",
        "ActionExecuted",
        "UserUttered",
    ]


@pytest.mark.parametrize("text", ["/bot", "back to the bot"])
def test_back_to_the_bot_ends_the_handoff(policy: HandoffPolicy, text: str) -> None:
    assert predicted_action(predict(policy, [*offered(), user(text, "inform")])) == (
        ACTION_END_HANDOFF
    )


def test_the_choices_are_only_words_while_offered(policy: HandoffPolicy) -> None:
    for text in ("wait", "leave a message", "back to the bot"):
        assert predicted_action(predict(policy, [*in_handoff(), user(text, "inform")])) == (
            ACTION_RELAY
        )
    # Anything else while the offer is open goes to the agent, who may still come.
    assert predicted_action(predict(policy, [*offered(), user("hello?", "greet")])) == (
        ACTION_RELAY
    )


# --- rewinds cannot change the state ------------------------------------------------------


def repairs(prediction: PolicyPrediction) -> List[Any]:
    """The handoff records the prediction sets again, whichever policy wins."""
    return [e.value for e in prediction.events if isinstance(e, SlotSet) and e.key == SLOT_HANDOFF]


def test_a_fallback_rewind_does_not_revive_an_ended_handoff(policy: HandoffPolicy) -> None:
    """The release lands between a user message and the fallback that rewinds it (a bot
    with rasa init's config): the replayed slot says `waiting` again; the state does not."""
    events = [*in_handoff(), user("hello?", "greet")]
    ended = handoff_ended(events)
    events += [*ended, ActionExecuted("action_default_fallback"), UserUtteranceReverted()]
    tracker = tracker_from(events)
    assert tracker.get_slot(SLOT_HANDOFF)["state"] == state.WAITING  # Rasa's replayed copy

    prediction = policy.predict_action_probabilities(tracker, example_domain())

    assert predicted_action(prediction) == LISTEN  # what Rasa does after a rewind anyway
    assert repairs(prediction) == [ended[0].value]
    events += [*prediction.events, ActionExecuted(LISTEN)]
    assert tracker_from(events).get_slot(SLOT_HANDOFF)["state"] == state.ENDED
    # The user's next message is the bot's: the handoff is over.
    events.append(user("hello?", "greet"))
    assert predicted_action(predict(policy, events)) is None
    assert repairs(predict(policy, events)) == []


@pytest.mark.parametrize(
    "rewind",
    [
        [UserUtteranceReverted()],
        [UserUtteranceReverted(), UserUtteranceReverted()],  # action_back
        [ActionReverted()],
    ],
    ids=["fallback", "action_back", "action_reverted"],
)
def test_a_rewind_does_not_end_a_running_handoff(
    policy: HandoffPolicy, rewind: List[Event]
) -> None:
    events = [
        *session_start(),
        user("human please", "human_handoff"),
        *handoff_started()[:-1],
        *rewind,
        ActionExecuted(LISTEN),
        user("where is my parcel", "order_status"),
    ]
    tracker = tracker_from(events)

    prediction = policy.predict_action_probabilities(tracker, example_domain())

    assert predicted_action(prediction) == ACTION_RELAY
    assert len(repairs(prediction)) == (0 if tracker.get_slot(SLOT_HANDOFF) else 1)


def test_no_repair_when_the_slot_is_right(policy: HandoffPolicy) -> None:
    events = [*in_handoff(), user("hi", "greet")]
    assert repairs(predict(policy, events)) == []
    events = [*released([*session_start()]), user("hi", "greet")]
    assert repairs(predict(policy, events)) == []


# --- no re-trigger --------------------------------------------------------------------------


def released(before: List[Event]) -> List[Event]:
    """A handoff (started after `before`) that the agent released, back with the bot."""
    opened = handoff_started()
    started = state.active(opened)
    assert started is not None
    return [
        *before,
        *opened,
        user("WHERE IS MY ORDER!!!", "order_status"),  # relayed to the agent
        ActionExecuted(ACTION_RELAY),
        ActionExecuted(LISTEN),
        BotUttered("Sorry about that, it ships today", metadata={"zendesk_agent_name": "Ann"}),
        SlotSet(SLOT_HANDOFF, state.ended(started, state.AGENT_RELEASED).as_slot()),
    ]


def test_no_retrigger_from_turns_before_the_release(policy: HandoffPolicy) -> None:
    before = [*session_start()]
    for text in ("I hate this", "terrible"):
        before += [user(text, "nlu_fallback", 0.5), *bot_turn("utter_default")]
    before.append(user("human!", "human_handoff"))
    events = [*released(before), user("ok thanks", "thank_you")]
    assert predicted_action(predict(policy, events)) is None
    # One more fallback after the release is one, not three in a row.
    events += [*bot_turn("utter_you_are_welcome"), user("blorp", "nlu_fallback", 0.5)]
    assert predicted_action(predict(policy, events)) is None
    # The same message before and after the release is not a repeat.
    assert [turn.text for turn in recent_user_turns(tracker_from(events), 5)] == [
        "ok thanks",
        "blorp",
    ]


def test_escalates_again_after_a_release_on_new_signals(policy: HandoffPolicy) -> None:
    events = [*released([*session_start(), user("human", "human_handoff")])]
    events.append(user("I need a person again", "human_handoff"))
    assert_escalates(predict(policy, events), "explicit request")


def test_failed_escalation_resets_the_windows(policy: HandoffPolicy) -> None:
    events = [
        *session_start(),
        user("blorp", "nlu_fallback", 0.5),
        *bot_turn("utter_default"),
        user("zing", "nlu_fallback", 0.5),
        ActionExecuted(ACTION_HANDOFF),  # the escalation failed: no slot was set
        said(UTTER_HANDOFF_FAILED),
        ActionExecuted(LISTEN),
        user("zonk", "nlu_fallback", 0.5),
    ]
    assert predicted_action(predict(policy, events)) is None


def test_a_new_session_starts_afresh() -> None:
    events = [*session_start(), user("one", "greet"), *session_start(), user("two", "greet")]
    assert [t.text for t in recent_user_turns(tracker_from(events), 5)] == ["two"]


# --- configuration, training, loading -------------------------------------------------------


def test_defaults_are_documented_in_the_example_config() -> None:
    config = yaml.safe_load((REPO / "config.yml").read_text())
    entry = next(p for p in config["policies"] if p["name"] == "rasa_zendesk.HandoffPolicy")
    settings = {key: value for key, value in entry.items() if key != "name"}
    assert settings == HandoffPolicy.get_default_config()


def test_priority_is_above_every_other_policy_of_the_example_config() -> None:
    others = [RulePolicy, MemoizationPolicy, TEDPolicy]
    default = HandoffPolicy.get_default_config()["priority"]
    assert default == 7
    assert all(default > policy.get_default_config()["priority"] for policy in others)


def test_priority_is_configurable(tmp_path: Path) -> None:
    policy = create_policy(HandoffPolicy, tmp_path, {"priority": 9})
    prediction = predict(policy, [*session_start(), user("human", "human_handoff")])
    assert prediction.policy_priority == 9


@pytest.mark.parametrize(
    "config",
    [
        {"sentiment_threshold": 2},
        {"fallback_count": -1},
        {"shouting_upper_ratio": "most"},
    ],
)
def test_bad_config_is_refused_clearly(tmp_path: Path, config: Dict[str, Any]) -> None:
    with pytest.raises(InvalidConfigException, match="HandoffPolicy"):
        create_policy(HandoffPolicy, tmp_path, config)


@pytest.mark.parametrize("value", [0.8, "high"])
def test_end_handoff_confidence_is_accepted_with_a_deprecation_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, value: Any
) -> None:
    """A config.yml of an earlier version still trains: the parameter does nothing now."""
    policy = create_policy(HandoffPolicy, tmp_path, {"end_handoff_confidence": value})
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("`end_handoff_confidence`" in w and "deprecated" in w for w in warnings), warnings
    events = [*in_handoff(), user("stop, I want the bot back", "end_handoff", 1.0)]
    assert predicted_action(predict(policy, events)) == ACTION_RELAY


def test_training_is_a_no_op_and_loading_needs_nothing(tmp_path: Path) -> None:
    policy = create_policy(HandoffPolicy, tmp_path, {"fallback_count": 4})
    resource = policy.train(example_training_trackers(), example_domain())
    with policy._model_storage.read_from(resource) as directory:
        assert list(Path(directory).iterdir()) == []
    loaded = HandoffPolicy.load(
        {**HandoffPolicy.get_default_config(), "fallback_count": 4},
        policy._model_storage,
        resource,
        ExecutionContext(GraphSchema({}), "load"),
    )
    assert loaded.thresholds.fallback_count == 4
    events = [*session_start(), user("human", "human_handoff")]
    assert predicted_action(predict(loaded, events)) == ACTION_HANDOFF


def test_training_names_missing_domain_entries(policy: HandoffPolicy) -> None:
    bare = Domain.from_dict({"intents": ["greet"], "responses": {"utter_hi": [{"text": "hi"}]}})
    with pytest.raises(InvalidConfigException) as error:
        policy.train([], bare)
    message = str(error.value)
    assert "action action_zendesk_relay" in message
    assert "slot zendesk_handoff," in message
    assert "intent human_handoff" in message
    assert "rasa_zendesk/domain/zendesk.yml" in message


def test_training_needs_slots_carried_over_to_new_sessions(
    policy: HandoffPolicy, tmp_path: Path
) -> None:
    """A session that expires mid-handoff would forget it without the carry-over."""
    plugin_domain = Path(__file__).resolve().parents[2] / "rasa_zendesk" / "domain" / "zendesk.yml"
    entries = yaml.safe_load(plugin_domain.read_text())
    for carry_over, fails in ((False, True), (True, False)):
        entries["session_config"] = {"carry_over_slots_to_new_session": carry_over}
        domain = Domain.from_dict(entries)
        if fails:
            with pytest.raises(InvalidConfigException, match="carry_over_slots_to_new_session"):
                policy.train([], domain)
        else:
            policy.train([], domain)


def test_a_domain_without_the_actions_makes_it_abstain(policy: HandoffPolicy) -> None:
    bare = Domain.from_dict({"intents": ["human_handoff"]})
    tracker = tracker_from([*session_start(), user("human", "human_handoff")], bare)
    prediction = policy.predict_action_probabilities(tracker, bare)
    assert max(prediction.probabilities) == 0.0


@pytest.mark.parametrize(
    "name", ["rasa_zendesk.HandoffPolicy", "rasa_zendesk.policy.HandoffPolicy"]
)
def test_config_names_resolve_to_the_registered_policy(name: str) -> None:
    registered = DefaultV1Recipe._from_registry(name)
    assert registered.clazz is HandoffPolicy
    assert DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT in registered.types


# --- in a real ensemble ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def rule_policy(tmp_path_factory: pytest.TempPathFactory) -> RulePolicy:
    rules = create_policy(RulePolicy, tmp_path_factory.mktemp("rules"))
    rules.train(example_training_trackers(), example_domain())
    return rules


def combine(events: List[Event], *policies: Any) -> PolicyPrediction:
    tracker = tracker_from(events)
    domain = example_domain()
    predictions = [p.predict_action_probabilities(tracker, domain) for p in policies]
    return DefaultPolicyPredictionEnsemble().combine_predictions(predictions, tracker, domain)


def test_relay_beats_the_rules_during_a_handoff(
    rule_policy: RulePolicy, policy: HandoffPolicy
) -> None:
    events = [*in_handoff(), user("hi", "greet")]
    assert (
        predicted_action(
            rule_policy.predict_action_probabilities(tracker_from(events), example_domain())
        )
        == "utter_greet"
    )
    winner = combine(events, rule_policy, policy)
    assert predicted_action(winner) == ACTION_RELAY
    assert winner.policy_name == "HandoffPolicy"


def test_escalation_beats_the_fallback_rule_and_sets_the_reason(
    rule_policy: RulePolicy, policy: HandoffPolicy
) -> None:
    events = [
        *session_start(),
        user("blorp", "nlu_fallback", 0.5),
        *bot_turn("utter_default"),
        user("zing", "nlu_fallback", 0.5),
    ]
    winner = combine(events, rule_policy, policy)
    assert predicted_action(winner) == ACTION_HANDOFF
    reasons = [e.value for e in winner.events if isinstance(e, SlotSet)]
    assert reasons == [{"kind": escalation.FALLBACKS, "detail": reasons[0]["detail"]}]


def test_the_rules_decide_when_the_policy_abstains(
    rule_policy: RulePolicy, policy: HandoffPolicy
) -> None:
    winner = combine([*session_start(), user("hi", "greet")], rule_policy, policy)
    assert predicted_action(winner) == "utter_greet"
    assert winner.policy_name == "RulePolicy"
    assert not any(isinstance(e, SlotSet) for e in winner.events)


def test_an_active_form_does_not_outrank_the_handoff(policy: HandoffPolicy) -> None:
    # RulePolicy's loop happy path is a "no user" prediction, which outranks all others.
    domain = example_domain()
    form = [0.0] * domain.num_actions
    form[domain.index_for_action("utter_ask_order_number")] = 1.0
    form_prediction = PolicyPrediction(form, "RulePolicy", 6, is_no_user_prediction=True)
    tracker = tracker_from([*in_handoff(), user("12345678", "inform")])
    ours = policy.predict_action_probabilities(tracker, domain)
    winner = DefaultPolicyPredictionEnsemble().combine_predictions(
        [form_prediction, ours], tracker, domain
    )
    assert predicted_action(winner) == ACTION_RELAY


# --- no agent could answer: the offer to leave a message -----------------------------------


def closed_offer(state_name: str = "offered") -> List[Event]:
    """The escalation found nobody to answer and offered a message instead."""
    made = offer.offered("outside_hours", None, "default")
    if state_name == offer.ASKING_EMAIL:
        made = offer.asking_email(made)
    return [
        *session_start(),
        user("human please", "human_handoff"),
        ActionExecuted(ACTION_HANDOFF),
        SlotSet(SLOT_OFFER, made.as_slot()),
        ActionExecuted(LISTEN),
    ]


@pytest.mark.parametrize("text", ["/leave_message", "Leave a message", "/bot", "back to the bot"])
def test_the_answer_to_the_offer_goes_to_its_action(policy: HandoffPolicy, text: str) -> None:
    prediction = predict(policy, [*closed_offer(), user(text, "nlu_fallback", 0.3)])
    assert predicted_action(prediction) == ACTION_LEAVE_MESSAGE


def test_while_the_address_is_asked_every_message_goes_to_the_action(
    policy: HandoffPolicy,
) -> None:
    for text in ("jane@example.com", "I don't know", ANGRY, "/bot"):
        events = [*closed_offer(offer.ASKING_EMAIL), user(text, "greet")]
        assert predicted_action(predict(policy, events)) == ACTION_LEAVE_MESSAGE


def test_anything_else_lets_the_offer_go_and_the_bot_answer(policy: HandoffPolicy) -> None:
    prediction = predict(policy, [*closed_offer(), user("where is my order?", "order_status")])
    assert predicted_action(prediction) is None  # abstains: the bot's policies answer
    assert [e.value for e in prediction.events if getattr(e, "key", None) == SLOT_OFFER] == [None]


def test_the_offer_listens_after_its_action(policy: HandoffPolicy) -> None:
    events = [*closed_offer(), user("/leave_message", None), ActionExecuted(ACTION_LEAVE_MESSAGE)]
    assert predicted_action(predict(policy, events)) == LISTEN


def test_asking_for_a_human_again_lets_the_offer_go_and_escalates(policy: HandoffPolicy) -> None:
    prediction = predict(policy, [*closed_offer(), user("a human please", "human_handoff")])
    assert predicted_action(prediction) == ACTION_HANDOFF
    assert [e.value for e in prediction.events if getattr(e, "key", None) == SLOT_OFFER] == [None]
