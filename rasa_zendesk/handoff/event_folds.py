"""Answers about a conversation's events, kept for a tracker and carried on as it grows.

Every webhook asks the current session's events the same questions: the handoff's record
(`state.current`), whether the SunCo message or event was applied already (its id in an event's
metadata), whether the escalation that opened the SunCo conversation ran in this session, how
far a message sent in parts got, the user's latest input channel. Walked every time, each costs
O(events) per webhook: in a 500-event conversation they were a third of its CPU.

A question is a `Fold`: a fresh answer, and a step that takes the answer over one more event, in
the events' order. `folded` answers it for any sequence of events (Rasa `Event` objects or
event dicts). For a Rasa tracker's events, a `deque` that `DialogueStateTracker.update` only
ever appends to, it keeps the answer with how far it got, and the next time steps only through
the events appended since. The kept answers go with the deque (a weak reference), and are
worked out again from the start when the deque does not continue what was folded (it is shorter,
or its event at the folded position is another one: a deque with a `maxlen` drops its oldest).

A step may read only what an event has when it is appended: the kept answer would not see a
later change in place.
"""

from __future__ import annotations

import weakref
from collections import deque
from typing import Any, Callable, Dict, Generic, Iterable, Sequence, Tuple, TypeVar

A = TypeVar("A")


class Fold(Generic[A]):
    """One question about events: `start()` is the answer for no events, `step(answer, event)`
    the answer after one more (it may change `answer` in place and return it)."""

    def __init__(self, start: Callable[[], A], step: Callable[[A, Any], A]) -> None:
        self.start = start
        self.step = step

    def over(self, events: Iterable[Any]) -> A:
        """The answer for these events, worked out from the start."""
        answer, step = self.start(), self.step
        for event in events:
            answer = step(answer, event)
        return answer


#: Per tracker deque (by id, while it lives): per fold, (events folded, the last of them, answer).
_kept: Dict[int, Dict[Fold[Any], Tuple[int, Any, Any]]] = {}
_refs: Dict[int, weakref.ref[Any]] = {}


def folded(events: Sequence[Any], fold: Fold[A]) -> A:
    """`fold`'s answer for `events`; kept for a tracker's events and continued as they grow.
    A kept answer is shared: the caller must not change it."""
    if type(events) is not deque:
        return fold.over(events)
    answers = _answers_of(events)
    length = len(events)
    kept = answers.get(fold)
    if kept is not None:
        count, last, answer = kept
        if count <= length and (count == 0 or events[count - 1] is last):
            if count == length:
                return answer  # type: ignore[no-any-return]
            step = fold.step
            for index in range(count, length):
                answer = step(answer, events[index])
            answers[fold] = (length, events[-1], answer)
            return answer  # type: ignore[no-any-return]
    answer = fold.over(events)
    answers[fold] = (length, events[-1] if length else None, answer)
    return answer


def _answers_of(events: deque[Any]) -> Dict[Fold[Any], Tuple[int, Any, Any]]:
    key = id(events)
    ref = _refs.get(key)
    if ref is not None and ref() is events:
        return _kept[key]

    def forget(dead: weakref.ref[Any]) -> None:
        if _refs.get(key) is dead:
            del _refs[key], _kept[key]

    _refs[key] = weakref.ref(events, forget)
    answers: Dict[Fold[Any], Tuple[int, Any, Any]] = {}
    _kept[key] = answers
    return answers
