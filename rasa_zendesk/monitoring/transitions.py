"""Handoff transitions counted from the records a Rasa instance reads in the tracker store.

The action server opens handoffs and ends some; the channel ends the others; any instance may
write any of them. What every Rasa instance does see is the records in the shared tracker
store, which the timers' watchlist reads anyway (the events table's new rows each second with
a SQL store, a scan a minute otherwise). This counts each transition of a record (requested,
agent joined, ended, rated) once in this instance, when it first reads it; re-reads change nothing.

Only transitions that happened since this instance started are counted (a restart does not
count the store's history again). What was counted is remembered for `KEEP_SECONDS` of real
time, well past a SQL store's 10-second horizon and a scanned store's one-minute rescans, so a
re-read never counts it again; a transition first read later than that after it happened (the
store was unreadable that long) is not counted. The report reads the store and is exact.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable, Deque, Dict, Optional, Tuple

from rasa_zendesk import clock
from rasa_zendesk.handoff import state

KEEP_SECONDS = 300.0
#: How often (real seconds) what is older than `KEEP_SECONDS` is forgotten.
SETTLE_SECONDS = 10.0

REQUESTED = "requested"
JOINED = "agent_joined"
ENDED = "ended"
#: The user rated the ended handoff (CSAT).
RATED = "rated"

#: Told of a transition when it is first counted: (stage, record).
OnTransition = Callable[[str, state.Handoff], None]


class TransitionCounter:
    """Which transitions this instance has counted, and the newest record of each running
    handoff (for the gauges of handoffs waiting and with an agent)."""

    def __init__(
        self,
        on_transition: OnTransition,
        started_at: Optional[float] = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.on_transition = on_transition
        #: Transitions before it are not counted (handoff clock time).
        self.floor = clock.now() if started_at is None else started_at
        self._monotonic = monotonic
        self._counted: Dict[Tuple[str, str], float] = {}
        #: (real time, handoff clock time) taken every `SETTLE_SECONDS`: the floor moves to the
        #: clock time of `KEEP_SECONDS` ago, when everything written before it had been read.
        self._marks: Deque[Tuple[float, float]] = deque()
        #: The newest record read of each conversation whose handoff runs.
        self.running: Dict[str, state.Handoff] = {}

    def observe(self, sender_id: str, record: state.Handoff) -> None:
        """A record as read from the store (records of a conversation come in write order)."""
        self._settle()
        if record.active:
            self.running[sender_id] = record
        else:
            self.running.pop(sender_id, None)
        stages = (
            (REQUESTED, record.requested_at),
            (JOINED, record.agent_joined_at),
            (ENDED, record.ended_at),
            (RATED, record.csat_at),
        )
        for stage, at in stages:
            key = (record.id, stage)
            if at is None or at < self.floor or key in self._counted:
                continue
            self._counted[key] = at
            self.on_transition(stage, record)

    def _settle(self) -> None:
        real = self._monotonic()
        if self._marks and real - self._marks[-1][0] < SETTLE_SECONDS:
            return
        self._marks.append((real, clock.now()))
        while len(self._marks) > 1 and real - self._marks[1][0] >= KEEP_SECONDS:
            self._marks.popleft()
        taken_at, clock_then = self._marks[0]
        if real - taken_at >= KEEP_SECONDS and clock_then > self.floor:
            self.floor = clock_then
            self._counted = {key: at for key, at in self._counted.items() if at >= clock_then}

    def count(self, status: str) -> int:
        """How many running handoffs are in `status` (waiting, agent_joined)."""
        return sum(1 for record in self.running.values() if record.state == status)
