"""Answers kept per tracker and carried on as its events grow (`rasa_zendesk.handoff.event_folds`):
only the appended events are stepped through, and an answer is worked out again whenever the
events no longer continue what was folded."""

from __future__ import annotations

import gc
from collections import deque
from typing import Any, List

import pytest
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk.handoff import event_folds
from rasa_zendesk.handoff.event_folds import Fold, folded

pytestmark = pytest.mark.timeout(30)


class Texts:
    """A fold of the bot's texts, in order, that counts the events it stepped through."""

    def __init__(self) -> None:
        self.steps = 0
        self.fold: Fold[List[str]] = Fold(list, self.step)

    def step(self, texts: List[str], event: Any) -> List[str]:
        self.steps += 1
        if isinstance(event, BotUttered):
            texts.append(event.text)
        return texts


def bot(text: str) -> BotUttered:
    return BotUttered(text)


def test_a_tracker_s_answer_steps_only_through_what_was_appended() -> None:
    texts = Texts()
    tracker = DialogueStateTracker("alice", slots=[])
    for text in ("a", "b", "c"):
        tracker.update(bot(text))
    assert folded(tracker.events, texts.fold) == ["a", "b", "c"]
    assert texts.steps == 3
    assert folded(tracker.events, texts.fold) == ["a", "b", "c"]
    assert texts.steps == 3  # asked again: nothing to step through
    tracker.update(UserUttered("hi"))
    tracker.update(bot("d"))
    assert folded(tracker.events, texts.fold) == ["a", "b", "c", "d"]
    assert texts.steps == 5


def test_another_tracker_with_the_same_events_gets_its_own_answer() -> None:
    texts = Texts()
    first = DialogueStateTracker("alice", slots=[])
    first.update(bot("a"))
    assert folded(first.events, texts.fold) == ["a"]
    second = DialogueStateTracker("alice", slots=[])
    second.update(bot("b"))  # as long, and ending with an event of the same kind
    assert folded(second.events, texts.fold) == ["b"]
    assert folded(first.events, texts.fold) == ["a"]


def test_events_that_do_not_continue_the_folded_ones_are_folded_again() -> None:
    texts = Texts()
    events: deque[Any] = deque([bot("a"), bot("b")])
    assert folded(events, texts.fold) == ["a", "b"]
    events.pop()  # shorter
    assert folded(events, texts.fold) == ["a"]
    events[0] = bot("x")  # the folded position holds another event
    events.append(bot("y"))
    assert folded(events, texts.fold) == ["x", "y"]


def test_a_deque_with_a_maximum_length_drops_its_oldest_and_is_folded_again() -> None:
    texts = Texts()
    tracker = DialogueStateTracker("alice", slots=[], max_event_history=2)
    tracker.update(bot("a"))
    tracker.update(bot("b"))
    assert folded(tracker.events, texts.fold) == ["a", "b"]
    tracker.update(bot("c"))  # as long as before: "a" dropped
    assert folded(tracker.events, texts.fold) == ["b", "c"]


def test_other_sequences_are_folded_whole_each_time() -> None:
    """rasa-sdk's event dicts come in lists, which may be changed anywhere: nothing is kept."""
    texts = Texts()
    events = [bot("a")]
    assert folded(events, texts.fold) == ["a"]
    events[0] = bot("b")
    assert folded(events, texts.fold) == ["b"]
    assert texts.steps == 2


def test_the_kept_answers_go_with_the_tracker() -> None:
    texts = Texts()
    tracker = DialogueStateTracker("alice", slots=[])
    tracker.update(bot("a"))
    folded(tracker.events, texts.fold)
    key = id(tracker.events)
    assert key in event_folds._kept
    del tracker
    gc.collect()
    assert key not in event_folds._kept
