"""What a webhook asks of a tracker, answered from folds kept as the tracker grows
(`rasa_zendesk.handoff.event_folds`), is what walking the whole session answers: checked after
every event of random conversations, against the walks the folds replaced."""

from __future__ import annotations

import random
from typing import Any, List, Optional, Sequence

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    AgentUttered,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.slots import AnySlot
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.tracker_access import handoff_started_in_session, has_metadata
from rasa_zendesk.channel.write_path import latest_input_channel, parts_sent
from rasa_zendesk.handoff import state

pytestmark = pytest.mark.timeout(60)

CONVERSATIONS = ("conv_a", "conv_b")
MESSAGES = ("m1", "m2", "m3")


def random_event(rng: random.Random) -> Any:
    conversation = rng.choice(CONVERSATIONS)
    message = rng.choice(MESSAGES)
    choices = [
        lambda: UserUttered("hi", input_channel=rng.choice(["rest", "socketio", None])),
        lambda: BotUttered("agent", metadata={constants.EVENT_ZENDESK_MESSAGE_ID: message}),
        lambda: BotUttered("bot"),
        lambda: AgentUttered(
            metadata={
                constants.EVENT_ZENDESK_PARTS_OF: message,
                constants.EVENT_ZENDESK_PARTS_SENT: rng.randint(1, 4),
            }
        ),
        lambda: SlotSet(constants.SLOT_HANDOFF, state.opened(conversation).as_slot()),
        lambda: SlotSet(
            constants.SLOT_HANDOFF,
            state.ended(state.opened(conversation), state.USER_ENDED).as_slot(),
        ),
        lambda: SlotSet(constants.SLOT_HANDOFF, None),
        lambda: SlotSet(
            constants.SLOT_HANDOFF, {"state": "unknown"}, metadata={"zendesk_event_id": message}
        ),
        lambda: ActionExecuted(constants.ACTION_HANDOFF),
        lambda: ActionExecuted(ACTION_LISTEN_NAME),
        lambda: Restarted(),
        lambda: SessionStarted(),
    ]
    return rng.choice(choices)()


# The walks the folds replaced, as they were.


def walked_current(events: Sequence[Any]) -> Optional[state.Handoff]:
    for event in reversed(events):
        if isinstance(event, SlotSet) and event.key == constants.SLOT_HANDOFF:
            return state.Handoff.from_slot(event.value)
        if isinstance(event, (Restarted, SessionStarted)):
            return None
    return None


def walked_has_metadata(events: Sequence[Any], key: str, value: str) -> bool:
    return any(event.metadata and event.metadata.get(key) == value for event in events)


def walked_started_in_session(events: Sequence[Any], conversation_id: str) -> bool:
    escalated = False
    for event in events:
        if isinstance(event, ActionExecuted) and event.action_name == constants.ACTION_HANDOFF:
            escalated = True
        elif escalated and isinstance(event, SlotSet) and event.key == constants.SLOT_HANDOFF:
            handoff = state.Handoff.from_slot(event.value)
            if handoff is not None and handoff.conversation_id == conversation_id:
                return True
    return False


def walked_parts_sent(events: Sequence[Any], message_id: str) -> int:
    sent = 0
    for event in events:
        metadata = event.metadata or {}
        if isinstance(event, AgentUttered) and metadata.get(constants.EVENT_ZENDESK_PARTS_OF) == (
            message_id
        ):
            sent = max(sent, int(metadata.get(constants.EVENT_ZENDESK_PARTS_SENT) or 0))
    return sent


@pytest.mark.parametrize("seed", range(20))
def test_every_answer_is_the_walk_s_after_every_event(seed: int) -> None:
    rng = random.Random(seed)
    tracker = DialogueStateTracker("alice", slots=[AnySlot(constants.SLOT_HANDOFF, mappings=[])])
    for _ in range(120):
        tracker.update(random_event(rng))
        events: List[Any] = list(tracker.events)
        assert state.current(tracker.events) == walked_current(events)
        assert latest_input_channel(tracker) == tracker.get_latest_input_channel()
        for conversation in CONVERSATIONS:
            assert handoff_started_in_session(
                tracker.events, conversation
            ) == walked_started_in_session(events, conversation)
        for message in MESSAGES:
            for key in (constants.EVENT_ZENDESK_MESSAGE_ID, constants.EVENT_ZENDESK_EVENT_ID):
                assert has_metadata(tracker.events, key, message) == walked_has_metadata(
                    events, key, message
                )
            assert parts_sent(tracker.events, message) == walked_parts_sent(events, message)
