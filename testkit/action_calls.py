"""Action calls exactly as a Rasa 3.6 server sends them to the action server.

The tracker is a real `DialogueStateTracker` built from Rasa's own events and serialised by
Rasa's `RemoteAction`, then sent through JSON like the HTTP request would be.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker

import rasa_zendesk
from rasa_zendesk.constants import ORIGIN_KEY, ORIGIN_VALUE, SLOT_HANDOFF
from rasa_zendesk.handoff import state

# A small bot's own domain; the plugin's entries come from the domain file it ships.
BOT_DOMAIN_YAML = """
version: "3.1"
intents: [greet, order_status, nlu_fallback]
entities: [order_id]
slots:
  name:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
  email:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
  order_id:
    type: text
    influence_conversation: false
    mappings: [{type: from_entity, entity: order_id}]
responses:
  utter_greet: [{text: "Hello! How can I help?"}]
"""
PLUGIN_DOMAIN = Path(rasa_zendesk.__file__).parent / "domain" / "zendesk.yml"

DOMAIN = Domain.from_yaml(BOT_DOMAIN_YAML).merge(Domain.load(str(PLUGIN_DOMAIN)))
_message_ids = itertools.count(1)


def session_started() -> List[Event]:
    """What Rasa records first in every conversation."""
    return [ActionExecuted("action_session_start"), SessionStarted()]


def user(
    text: str,
    intent: str,
    confidence: float = 0.95,
    entities: Optional[List[Dict[str, Any]]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    channel: str = "socketio",
) -> List[Event]:
    """A user turn as Rasa records it: listen, then the parsed message."""
    return [
        ActionExecuted("action_listen"),
        UserUttered(
            text,
            intent={"name": intent, "confidence": confidence},
            entities=entities or [],
            input_channel=channel,
            metadata=metadata,
            message_id=f"rasa-msg-{next(_message_ids)}",
        ),
    ]


def bot(text: str, action: str = "utter_greet") -> List[Event]:
    """A bot turn: the response action and its utterance."""
    return [ActionExecuted(action), BotUttered(text, metadata={"utter_action": action})]


def slots(**values: Any) -> List[Event]:
    return [SlotSet(name, value) for name, value in values.items()]


def handoff_opened(conversation_id: str) -> List[Event]:
    """What a successful escalation stores: the handoff's record, waiting for an agent."""
    return [SlotSet(SLOT_HANDOFF, state.opened(conversation_id).as_slot())]


def handoff_closed(turns: Sequence[Event], reason: str = state.AGENT_RELEASED) -> List[Event]:
    """What the channel stores when Zendesk ends the running handoff of `turns`."""
    running = state.active(turns)
    assert running is not None
    return [SlotSet(SLOT_HANDOFF, state.ended(running, reason).as_slot())]


def is_ours(metadata: Optional[Dict[str, Any]]) -> bool:
    """Whether a SunCo message carries the plugin's mark (the channel never relays those)."""
    return (metadata or {}).get(ORIGIN_KEY) == ORIGIN_VALUE


def action_call(
    action: str, sender_id: str, turns: Sequence[Event], domain: Domain = DOMAIN
) -> Dict[str, Any]:
    """The JSON body of Rasa's request to the action server for `action` on this history."""
    events = [*session_started(), *turns]
    tracker = DialogueStateTracker.from_events(sender_id, events, slots=domain.slots)
    body = RemoteAction(action, None)._action_call_format(tracker, domain)
    return json.loads(json.dumps(body))


async def run_action(
    executor: Any, action: str, sender_id: str, turns: Sequence[Event], domain: Domain = DOMAIN
) -> Dict[str, Any]:
    """What rasa-sdk's executor answers Rasa for `action` on this history. An action that asks
    for itself as the follow-up (the escalation: the user is told first) runs again, as Rasa
    runs it in the same turn, on the history with the first run's answer; its answer counts."""
    history = list(turns)
    for _ in range(2):
        result = await executor.run(action_call(action, sender_id, history, domain))
        assert result is not None
        if not asks_for_itself(result, action):
            return result
        history += as_recorded(action, result, domain)
    raise AssertionError(f"{action} asked for itself again and again")


def asks_for_itself(result: Dict[str, Any], action: str) -> bool:
    return {"event": "followup", "name": action} in [
        {key: event.get(key) for key in ("event", "name")} for event in result["events"]
    ]


def as_recorded(action: str, result: Dict[str, Any], domain: Domain = DOMAIN) -> List[Event]:
    """An action's answer as Rasa records it: the action, what it said (a response rendered
    from the domain's first text), its events."""
    said: List[Event] = []
    for message in result["responses"]:
        name = message.get("response")
        text = message.get("text") or (domain.responses.get(name) or [{}])[0].get("text")
        said.append(BotUttered(text, metadata={"utter_action": name} if name else {}))
    return [ActionExecuted(action), *said, *deserialise_events(result["events"])]


def emulator_env(process: Any) -> Dict[str, str]:
    """The action server's environment pointing at a running emulator (`EmulatorProcess`),
    with short SunCo timeouts."""
    config = process.config
    return {
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_APP_ID": config.app_id,
        "ZENDESK_KEY_ID": config.key_id,
        "ZENDESK_KEY_SECRET": config.key_secret,
        "ZENDESK_WEBHOOK_SECRET": config.webhook_secret,
        "ZENDESK_API_URL": process.api_url,
        "ZENDESK_REQUEST_TIMEOUT": "1",
        "ZENDESK_REQUEST_DEADLINE": "1.5",
    }


def responses(result: Dict[str, Any]) -> List[str]:
    """The names of the responses an action asked Rasa to utter."""
    return [message["response"] for message in result["responses"]]
