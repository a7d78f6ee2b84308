"""Real Rasa objects for the policy tests and the benchmark: the example domain, trackers built
from real events, and policies created the way Rasa's graph creates them."""

from __future__ import annotations

import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Type

from rasa.core.policies.policy import Policy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates, TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from rasa_zendesk.constants import ACTION_HANDOFF, SLOT_HANDOFF
from rasa_zendesk.handoff import state

REPO = Path(__file__).resolve().parents[1]
LISTEN = "action_listen"


@lru_cache(maxsize=1)
def _importer() -> TrainingDataImporter:
    return TrainingDataImporter.load_from_config(
        str(REPO / "config.yml"), str(REPO / "domain.yml"), [str(REPO / "data")]
    )


@lru_cache(maxsize=1)
def example_domain() -> Domain:
    """The example bot's domain, as `rasa train` reads it (domain.yml at the repo root)."""
    return _importer().get_domain()


def example_training_trackers() -> List[TrackerWithCachedStates]:
    """Story and rule trackers of the example bot, as `rasa train` generates them."""
    stories = _importer().get_stories()
    return TrainingDataGenerator(stories, example_domain(), augmentation_factor=0).generate()


def session_start(timestamp: Optional[float] = None) -> List[Event]:
    """The events Rasa logs when a conversation starts (at `timestamp`, default now)."""
    return [
        ActionExecuted("action_session_start", timestamp=timestamp),
        SessionStarted(timestamp=timestamp),
        ActionExecuted(LISTEN, timestamp=timestamp),
    ]


def user(
    text: str,
    intent: Optional[str],
    confidence: float = 0.98,
    entities: Sequence[Dict[str, Any]] = (),
) -> UserUttered:
    """A user message as NLU parsed it, with its message id as Rasa gives every message."""
    parsed_intent = {"name": intent, "confidence": confidence} if intent else {}
    return UserUttered(
        text,
        intent=parsed_intent,
        entities=list(entities),
        parse_data={"intent": parsed_intent, "entities": list(entities), "text": text},
        message_id=uuid.uuid4().hex,
    )


def bot_turn(action: str) -> List[Event]:
    """The bot runs `action` and then listens."""
    return [ActionExecuted(action), ActionExecuted(LISTEN)]


def handoff_started(conversation_id: str = "conv_1") -> List[Event]:
    """What the escalation action leaves in the tracker when it succeeds."""
    return [
        ActionExecuted(ACTION_HANDOFF),
        SlotSet(SLOT_HANDOFF, state.opened(conversation_id, trigger="explicit_request").as_slot()),
        ActionExecuted(LISTEN),
    ]


def handoff_ended(events: Sequence[Event], reason: str = state.AGENT_RELEASED) -> List[Event]:
    """What the channel writes when Zendesk ends the running handoff of `events`."""
    handoff = state.active(events)
    assert handoff is not None, "no handoff runs"
    return [SlotSet(SLOT_HANDOFF, state.ended(handoff, reason).as_slot())]


def tracker_from(events: Iterable[Event], domain: Optional[Domain] = None) -> DialogueStateTracker:
    """A real tracker of the example domain with these events applied."""
    domain = domain or example_domain()
    return DialogueStateTracker.from_events("test-user", list(events), slots=domain.slots)


def create_policy(
    policy_class: Type[Policy],
    storage_dir: Path,
    config: Optional[Dict[str, Any]] = None,
    name: Optional[str] = None,
) -> Any:
    """A policy created as Rasa's graph creates it: default config merged with `config`."""
    name = name or policy_class.__name__
    storage_dir.mkdir(parents=True, exist_ok=True)
    return policy_class.create(
        {**policy_class.get_default_config(), **(config or {})},
        LocalModelStorage(storage_dir),
        Resource(name),
        ExecutionContext(GraphSchema({}), name),
    )


def predicted_action(prediction: Any, domain: Optional[Domain] = None) -> Optional[str]:
    """The action a prediction chooses, or None if it abstains (all zeros)."""
    domain = domain or example_domain()
    best = max(prediction.probabilities)
    if best <= 0:
        return None
    return domain.action_names_or_texts[prediction.probabilities.index(best)]
