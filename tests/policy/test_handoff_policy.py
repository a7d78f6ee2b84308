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
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet
from rasa.shared.exceptions import InvalidConfigException

from rasa_zendesk.constants import (
    ACTION_END_HANDOFF,
    ACTION_HANDOFF,
    ACTION_RELAY,
    SLOT_HANDOFF_ACTIVE,
    SLOT_HANDOFF_REASON,
)
from rasa_zendesk.policy.handoff_policy import HandoffPolicy, recent_user_turns
from tests.policy.support import (
    LISTEN,
    REPO,
    bot_turn,
    create_policy,
    example_domain,
    example_training_trackers,
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
    for event in prediction.optional_events:
        if isinstance(event, SlotSet) and event.key == SLOT_HANDOFF_REASON:
            return event.value
    return None


def assert_escalates(prediction: PolicyPrediction, reason_start: str) -> str:
    assert predicted_action(prediction) == ACTION_HANDOFF
    assert prediction.max_confidence == 1.0
    reason = reason_of(prediction)
    assert reason is not None and reason.startswith(reason_start), reason
    assert prediction.diagnostic_data["handoff_reason"] == reason
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
    failed = [*base, ActionExecuted(ACTION_HANDOFF)]  # SunCo was down: no slot set
    succeeded = [*base, ActionExecuted(ACTION_HANDOFF), SlotSet(SLOT_HANDOFF_ACTIVE, True)]
    for events in (failed, succeeded):
        prediction = predict(policy, events)
        assert predicted_action(prediction) == LISTEN
        assert reason_of(prediction) is None


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
        events.append(ActionExecuted(ACTION_RELAY))
        assert predicted_action(predict(policy, events)) == LISTEN
        events.append(ActionExecuted(LISTEN))


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


def test_end_handoff_while_active(policy: HandoffPolicy) -> None:
    events = [*in_handoff(), user("stop, I want the bot back", "end_handoff", 0.95)]
    assert predicted_action(predict(policy, events)) == ACTION_END_HANDOFF
    events += [ActionExecuted(ACTION_END_HANDOFF), SlotSet(SLOT_HANDOFF_ACTIVE, False)]
    assert predicted_action(predict(policy, events)) == LISTEN


def test_unsure_end_handoff_goes_to_the_agent(policy: HandoffPolicy) -> None:
    events = [*in_handoff(), user("stop sending me emails", "end_handoff", 0.41)]
    assert predicted_action(predict(policy, events)) == ACTION_RELAY


# --- no re-trigger --------------------------------------------------------------------------


def released(before: List[Event]) -> List[Event]:
    """A handoff (started after `before`) that the agent released, back with the bot."""
    return [
        *before,
        *handoff_started(),
        user("WHERE IS MY ORDER!!!", "order_status"),  # relayed to the agent
        ActionExecuted(ACTION_RELAY),
        ActionExecuted(LISTEN),
        BotUttered("Sorry about that, it ships today", metadata={"zendesk_agent_name": "Ann"}),
        SlotSet(SLOT_HANDOFF_ACTIVE, False),
        SlotSet("zendesk_conversation_id", None),
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
        ActionExecuted(LISTEN),
        user("zonk", "nlu_fallback", 0.5),
    ]
    assert predicted_action(predict(policy, events)) is None


def test_a_reset_without_a_handoff_is_no_boundary() -> None:
    events = [
        *session_start(),
        user("one", "greet"),
        SlotSet(SLOT_HANDOFF_ACTIVE, False),
        user("two", "greet"),
    ]
    assert [t.text for t in recent_user_turns(tracker_from(events), 5)] == ["one", "two"]


def test_a_reset_after_a_failed_escalation_is_no_boundary() -> None:
    events = [
        *session_start(),
        user("zero", "human_handoff"),
        ActionExecuted(ACTION_HANDOFF),  # failed: the slot was never true
        ActionExecuted(LISTEN),
        user("one", "greet"),
        SlotSet(SLOT_HANDOFF_ACTIVE, None),
        user("two", "greet"),
    ]
    assert [t.text for t in recent_user_turns(tracker_from(events), 5)] == ["one", "two"]


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
        {"end_handoff_confidence": "high"},
        {"shouting_upper_ratio": "most"},
    ],
)
def test_bad_config_is_refused_clearly(tmp_path: Path, config: Dict[str, Any]) -> None:
    with pytest.raises(InvalidConfigException, match="HandoffPolicy"):
        create_policy(HandoffPolicy, tmp_path, config)


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
    assert "slot zendesk_handoff_active" in message
    assert "intent human_handoff" in message
    assert "rasa_zendesk/domain/zendesk.yml" in message


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
    assert len(reasons) == 1 and reasons[0].startswith("repeated fallbacks")


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
