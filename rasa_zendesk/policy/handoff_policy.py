"""HandoffPolicy: escalate to a human when asked or when the user is frustrated, then stay quiet.

It learns nothing from stories: its behaviour comes from the handoff slot and a few cheap
signals (`rasa_zendesk.policy.signals`), so training is a no-op and a prediction costs
microseconds. Add it to `config.yml` next to the other policies:

    policies:
      - name: rasa_zendesk.HandoffPolicy
        sentiment_threshold: -0.6
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from rasa_zendesk.constants import (
    ACTION_END_HANDOFF,
    ACTION_HAND_OUT,
    ACTION_HANDOFF,
    ACTION_LEAVE_MESSAGE,
    ACTION_RELAY,
    INTENT_END_HANDOFF,
    INTENT_HUMAN_HANDOFF,
    INTENT_POLL,
    SLOT_HANDOFF,
    SLOT_HANDOFF_REASON,
    SLOT_OFFER,
    UTTER_HANDOFF_FAILED,
    UTTER_KEEP_WAITING,
    UTTER_MESSAGE_LEFT,
    UTTER_RELAY_FAILED,
)
from rasa_zendesk.handoff import gestures, offer, pending, state, watch
from rasa_zendesk.policy.signals import Thresholds, Trigger, UserTurn, evaluate

logger = logging.getLogger(__name__)

DEFAULT_PRIORITY = 7  # above RulePolicy (6), MemoizationPolicy (3) and TEDPolicy (1)
#: Parameters of earlier versions that no longer do anything: accepted, with a warning.
RETIRED_PARAMETERS = {
    "end_handoff_confidence": (
        "the bot no longer asks whether to end a handoff when its NLU reads `end_handoff`: "
        "during a handoff every message goes to the agent, and only `/end` (or the End chat "
        "button) ends it; remove it from config.yml"
    ),
}
PLUGIN_ACTIONS = (
    ACTION_HANDOFF,
    ACTION_RELAY,
    ACTION_END_HANDOFF,
    ACTION_LEAVE_MESSAGE,
    UTTER_KEEP_WAITING,
    UTTER_MESSAGE_LEFT,
    UTTER_RELAY_FAILED,
    UTTER_HANDOFF_FAILED,
)
REQUIRED_ACTIONS = (*PLUGIN_ACTIONS, ACTION_HAND_OUT)
REQUIRED_SLOTS = (SLOT_HANDOFF, SLOT_HANDOFF_REASON, SLOT_OFFER)
REQUIRED_INTENTS = (INTENT_HUMAN_HANDOFF, INTENT_END_HANDOFF, INTENT_POLL)
DOMAIN_FILE_HINT = "rasa_zendesk/domain/zendesk.yml"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class HandoffPolicy(Policy):
    """Hands the conversation to a Zendesk agent, and keeps the bot quiet while one is in charge.

    While a handoff runs (`rasa_zendesk.handoff.state`): after a user message it predicts
    `action_zendesk_relay`, and `action_listen` after anything else, with confidence 1.0 at
    `priority` 7, above RulePolicy (6): the bot never answers during a handoff, and every user
    message reaches the agent unchanged, whatever the NLU made of it. The user ends the handoff
    only by a gesture (`rasa_zendesk.handoff.gestures`): the command `/end`, the `/end_handoff`
    payload (the End chat button) or `/restart` ends it (`action_zendesk_end_handoff`), as does
    the "back to the bot" choice the plugin offered when no agent came in time. After the end
    the bot starts a fresh session (`rasa_zendesk.handoff.endings`); the turn ends there.

    Before all that, in every turn: when the user's channel could not push what the channel
    recorded (REST; `rasa_zendesk.handoff.pending`), it predicts `action_zendesk_hand_out`
    first, which hands it out and reverts itself; a front end's `/zendesk_poll` gets only that,
    and never reaches the agent, the bot's flows or the frustration signals.

    Whatever the bot's other policies and actions did (a fallback's rewind, `action_back`),
    the state is the one the plugin's transitions wrote; when a rewind left the slot's value
    behind, the prediction carries the event that sets it right again.

    While no handoff runs, it predicts `action_zendesk_handoff` (and `action_listen` after it) when
    the latest user message has intent `human_handoff` or the user is frustrated; otherwise it
    predicts nothing and the other policies decide. The reason that fired is set in the slot
    `zendesk_handoff_reason` as data (`rasa_zendesk.escalation`; only if this policy wins), for
    the escalation action to report.
    Only user messages since the last handoff (or session start) count, so a handoff that ended
    is never re-triggered by what was said before it.

    Parameters (config.yml), with their defaults:
      priority: 7
      sentiment_threshold: -0.6         VADER compound score of the latest message, -1 .. 1
      sentiment_window: 3               messages in the running window ...
      sentiment_window_min_messages: 2  ... of which at least this many are needed ...
      sentiment_window_threshold: -0.35 ... for their mean score to escalate
      fallback_count: 2                 messages in a row not understood (nlu_fallback ...
      fallback_confidence_threshold: 0.3  ... or an intent confidence below this)
      shouting_min_letters: 10          shouting: a message of at least this many letters ...
      shouting_upper_ratio: 0.8         ... this share upper case, with "!" or negative sentiment
      repeat_count: 3                   the same message this many times in a row ...
      repeat_min_length: 4              ... if it has at least this many characters
    A threshold set to null, or a count set to 0, turns its signal off. `end_handoff_confidence`
    (of versions that asked before ending a handoff) is accepted and ignored, with a warning.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The defaults above; each can be overridden in config.yml."""
        return {"priority": DEFAULT_PRIORITY, **Thresholds().as_config()}

    @staticmethod
    def required_packages() -> List[str]:
        """VADER carries the sentiment lexicon."""
        return ["vaderSentiment"]

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        # Set here too: a policy built without Rasa's default-config merge keeps its rank.
        self.priority = config.get("priority", DEFAULT_PRIORITY)
        try:
            self.thresholds = Thresholds.from_config(config)
        except (TypeError, ValueError) as error:
            raise InvalidConfigException(f"HandoffPolicy: {error}") from error
        for name in RETIRED_PARAMETERS.keys() & config.keys():
            logger.warning(
                "HandoffPolicy: `%s` in config.yml is deprecated and ignored: %s",
                name,
                RETIRED_PARAMETERS[name],
            )
        self._turns_needed = self.thresholds.turns_needed

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Nothing to learn; only check that the domain has the plugin's entries."""
        check_domain(domain)
        # An empty directory, so that Rasa can cache and package the resource like any other.
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> HandoffPolicy:
        """Nothing was persisted: the policy is its config."""
        return cls(config, model_storage, resource, execution_context)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Relay/listen while a handoff is active, escalate on a signal, else abstain."""
        current = state.current(tracker.events)  # one read of the record per prediction
        repair = _repair(tracker, current)
        latest_action = tracker.latest_action_name
        if current is not None and (current.active or latest_action in PLUGIN_ACTIONS):
            # For the Rasa server's timers and metrics: a running handoff, or one that a
            # plugin action (the escalation, an end) has just written.
            watch.note_running(tracker.sender_id)
        if latest_action == ACTION_RELAY and not _answered(tracker.events, ACTION_RELAY):
            # Rasa lost the relay's answer (the action server was down): the user hears it
            # now, from Rasa itself; the message goes with the next relay that gets through.
            logger.warning(
                "HandoffPolicy: the relay for %s did not answer; the message is kept",
                tracker.sender_id,
            )
            return self._predict(domain, UTTER_RELAY_FAILED, repair)
        if latest_action == ACTION_HANDOFF and not _answered(tracker.events, ACTION_HANDOFF):
            # Rasa lost the escalation's answer (the action server died, perhaps after the
            # user heard "connecting"): no handoff is open, the user hears so from Rasa itself.
            logger.warning("HandoffPolicy: the escalation for %s did not answer", tracker.sender_id)
            return self._predict(domain, UTTER_HANDOFF_FAILED, repair)
        hand_out = _hand_out_first(tracker, latest_action)
        if hand_out is not None:
            return self._predict(domain, hand_out, repair)
        if latest_action == ACTION_HAND_OUT:
            # It reverts itself when it runs: it failed. The turn goes on without it.
            logger.warning(
                "HandoffPolicy: %s failed for %s (does the action server register it?)",
                ACTION_HAND_OUT,
                tracker.sender_id,
            )
            latest_action = ACTION_LISTEN_NAME
        if latest_action in PLUGIN_ACTIONS or _follows_the_end(tracker.events, current):
            # After the end, the fresh session started (and the author's
            # `after_handoff_action` ran as its follow-up), or Rasa restarted: the turn ends
            # there, as after any of the plugin's actions.
            return self._predict(domain, ACTION_LISTEN_NAME, repair)
        user_spoke = latest_action == ACTION_LISTEN_NAME and _has_user_message(tracker)

        handoff = current if current is not None and current.active else None
        if handoff is not None:
            if not user_spoke:
                return self._predict(domain, ACTION_LISTEN_NAME, repair)
            action, transition = self._during_handoff(tracker, handoff)
            return self._predict(domain, action, repair + transition)

        if not user_spoke:
            return self._abstain(domain, repair)
        pending = offer.current(tracker.events)
        if pending is not None:
            # No agent could answer, and the user was offered to leave a message: the answer
            # (or the address asked for) goes to the action; anything else lets the offer go,
            # and the bot answers it.
            text = tracker.latest_message.text if tracker.latest_message else None
            if pending.state == offer.ASKING_EMAIL or gestures.choice(text) in (
                gestures.LEAVE_MESSAGE,
                gestures.BACK_TO_BOT,
            ):
                return self._predict(domain, ACTION_LEAVE_MESSAGE, repair)
            repair = [*repair, SlotSet(SLOT_OFFER, None)]
        trigger = evaluate(recent_user_turns(tracker, self._turns_needed), self.thresholds)
        if trigger is None:
            return self._abstain(domain, repair)
        logger.info(
            "HandoffPolicy: escalating conversation %s: %s", tracker.sender_id, trigger.reason.text
        )
        return self._predict(
            domain,
            ACTION_HANDOFF,
            repair,
            optional_events=[SlotSet(SLOT_HANDOFF_REASON, trigger.reason.as_slot())],
            trigger=trigger,
        )

    def _during_handoff(
        self, tracker: DialogueStateTracker, handoff: state.Handoff
    ) -> Tuple[str, List[Event]]:
        """What a user message during a handoff leads to: the agent, unless it is a gesture
        (and the record's change that the gesture makes without the action server)."""
        message = tracker.latest_message
        text = message.text if message else None
        if gestures.is_end_command(text) or gestures.is_restart(text):
            return ACTION_END_HANDOFF, []
        if handoff.agent_timeout_offered_at is not None and handoff.state == state.WAITING:
            chosen = gestures.choice(text)
            if chosen == gestures.BACK_TO_BOT:
                return ACTION_END_HANDOFF, []
            # The choice is dealt with here, so the relay does not pass it on to the agent.
            message_id = message.message_id if message else None
            if chosen == gestures.KEEP_WAITING:
                waited = state.handled(state.keep_waiting(handoff), message_id)
                return UTTER_KEEP_WAITING, [SlotSet(SLOT_HANDOFF, waited.as_slot())]
            if chosen == gestures.LEAVE_MESSAGE:
                left = state.handled(state.message_left(handoff), message_id)
                return UTTER_MESSAGE_LEFT, [SlotSet(SLOT_HANDOFF, left.as_slot())]
        return ACTION_RELAY, []

    def _predict(
        self,
        domain: Domain,
        action_name: str,
        events: List[Event],
        optional_events: Optional[List[Event]] = None,
        trigger: Optional[Trigger] = None,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        try:
            index = domain.index_for_action(action_name)
        except Exception:  # Rasa raises ActionNotFoundException; the domain lacks our entries
            logger.error(
                "HandoffPolicy: action '%s' is not in the domain; add the entries of %s",
                action_name,
                DOMAIN_FILE_HINT,
            )
            return self._abstain(domain, events)
        probabilities[index] = 1.0
        diagnostic_data: Dict[str, Any] = {}
        if trigger is not None:
            diagnostic_data = {
                "handoff_signal": trigger.signal,
                "handoff_score": trigger.score,
                "handoff_reason": trigger.reason.as_slot(),
            }
        # `is_no_user_prediction` puts this prediction in the ensemble's first class, with the
        # loop happy paths of RulePolicy: otherwise an active form would outrank the handoff.
        return self._prediction(
            probabilities,
            events=events,
            optional_events=optional_events,
            is_no_user_prediction=True,
            diagnostic_data=diagnostic_data,
        )

    def _abstain(self, domain: Domain, events: List[Event]) -> PolicyPrediction:
        # `events` are applied whichever policy wins: a repair must not wait for a handoff.
        return self._prediction(self._default_predictions(domain), events=events)


def check_domain(domain: Domain) -> None:
    """Fail training with a clear message if the plugin's domain entries are missing."""
    slots = {slot.name for slot in domain.slots}
    missing = [f"action {n}" for n in REQUIRED_ACTIONS if n not in domain.action_names_or_texts]
    missing += [f"slot {n}" for n in REQUIRED_SLOTS if n not in slots]
    missing += [f"intent {n}" for n in REQUIRED_INTENTS if n not in domain.intents]
    if missing:
        raise InvalidConfigException(
            "HandoffPolicy needs these domain entries: "
            + ", ".join(missing)
            + f". Run `rasa-zendesk init` in the bot's folder, or copy them from "
            f"{DOMAIN_FILE_HINT} in the rasa-zendesk package."
        )
    if not domain.session_config.carry_over_slots:
        raise InvalidConfigException(
            "HandoffPolicy needs `session_config: carry_over_slots_to_new_session: true` in "
            "the domain: the handoff's state is a slot, and a session that expires while an "
            "agent is in charge would otherwise forget the handoff (the bot would answer the "
            "user, and the agent's replies would reach a user who is back with the bot)."
        )


def _repair(tracker: DialogueStateTracker, current: Optional[state.Handoff]) -> List[Event]:
    """The slot set back to the record last written, if a rewind changed its replayed value
    (applied whichever policy wins, so a new session carries the true record over)."""
    truth = state.slot_value(current)
    if tracker.get_slot(SLOT_HANDOFF) == truth:
        return []
    logger.info(
        "HandoffPolicy: a rewind changed the handoff of %s; set back to %s",
        tracker.sender_id,
        current.state if current else None,
    )
    return [SlotSet(SLOT_HANDOFF, truth)]


def _hand_out_first(tracker: DialogueStateTracker, latest_action: Optional[str]) -> Optional[str]:
    """Before anything else in a turn: the messages the user's channel could not push
    (`handoff.pending`), then listen if the message was only a poll. The hand-out reverts
    itself, so the turn then goes on as if it had not run; after one that failed, it is not
    tried again in the same turn."""
    if latest_action not in (ACTION_LISTEN_NAME, ACTION_HAND_OUT):
        return None
    if not _has_user_message(tracker):
        return None
    if latest_action == ACTION_LISTEN_NAME and pending.not_handed_out(tracker.events):
        return ACTION_HAND_OUT
    if pending.is_poll(tracker.latest_message.text if tracker.latest_message else None):
        return ACTION_LISTEN_NAME
    return None


def _follows_the_end(events: Sequence[Event], current: Optional[state.Handoff]) -> bool:
    """Whether this turn's end of a handoff is behind it: the fresh session the action
    server's end started (`handoff.endings`; its record carried over) since the user's latest
    message, whatever follow-up ran in it; or the latest action ran right after
    `action_zendesk_end_handoff` (Rasa's restart, which forgets the record)."""
    actions = 0
    for event in reversed(events):
        if isinstance(event, SessionStarted):
            return current is not None and not current.active
        if isinstance(event, ActionExecuted):
            actions += 1
            if actions == 2 and event.action_name == ACTION_END_HANDOFF:
                return True
        elif isinstance(event, UserUttered):
            return False
    return False


def _answered(events: Sequence[Event], action_name: str) -> bool:
    """Whether the latest run of the plugin's action reached Rasa with its answer: the relay
    always stores the record; the escalation always tells the user something."""
    for event in reversed(events):
        if isinstance(event, SlotSet) and event.key == SLOT_HANDOFF:
            return True
        if action_name == ACTION_HANDOFF and isinstance(event, BotUttered):
            return True
        if isinstance(event, ActionExecuted) and event.action_name == action_name:
            return False
    return False


def _confidence(intent: Dict[str, Any]) -> float:
    value = intent.get("confidence")
    return 1.0 if value is None else float(value)


def _has_user_message(tracker: DialogueStateTracker) -> bool:
    message = tracker.latest_message
    return message is not None and bool(message.text or message.intent.get("name"))


def _user_turn(event: UserUttered) -> UserTurn:
    return UserTurn(
        text=event.text or "",
        intent=event.intent.get("name"),
        confidence=_confidence(event.intent),
    )


def recent_user_turns(tracker: DialogueStateTracker, limit: int) -> List[UserTurn]:
    """The last `limit` user turns that may trigger a handoff, oldest first.

    Only turns since the latest handoff count: after the latest escalation attempt and the
    latest write of the handoff's record (its end, for one that is over). A restart or a new
    session starts afresh too. Reverted user messages still count: the user did say them.
    The scan walks back from the end and stops as soon as it has enough turns.
    """
    return _turns_since_boundary(tracker.events, limit)


def _turns_since_boundary(events: Sequence[Event], limit: int) -> List[UserTurn]:
    newest_first: List[UserTurn] = []
    for event in reversed(events):
        if isinstance(event, (Restarted, SessionStarted)):
            break
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_HANDOFF:
            break
        if isinstance(event, SlotSet) and event.key == SLOT_HANDOFF:
            break
        if isinstance(event, UserUttered) and not pending.is_poll(event.text):
            newest_first.append(_user_turn(event))
            if len(newest_first) >= limit:
                break
    return list(reversed(newest_first))
