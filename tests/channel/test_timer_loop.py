"""The timers' loop (`rasa_zendesk.channel.timers.loop`): one conversation's failing timer
fails alone, is tried again with a growing delay, and after `MAX_TRIES` undelivered tries its
handoff ends as `failed`. Time is the plugin's clock, moved by the test between rounds."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Set

import pytest
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.timers import loop
from rasa_zendesk.channel.timers.loop import TimerLoop
from rasa_zendesk.channel.write_path import DeliveryError, RasaContext
from rasa_zendesk.handoff import state
from rasa_zendesk.handoff.deadlines import Deadline
from testkit.action_calls import DOMAIN
from testkit.clock_file import ClockFile
from testkit.in_memory_rasa import SENDER, InMemoryRasa, in_memory_rasa

OTHER = "webchat-other"


class Timers:
    """The processor as the loop drives it: each round's calls, in order. The timers of
    `blocked` senders fail as a user's channel that refuses the message does; `broken` ones
    fail otherwise (a store's hiccup); the others fire and end."""

    def __init__(self, rasa: RasaContext) -> None:
        self.rasa = rasa
        self.blocked: Set[str] = set()
        self.broken: Set[str] = set()
        self.calls: List[tuple] = []
        #: The round (a second of the moved clock) the loop is in.
        self.round = 0

    def context(self, agent: Any, input_channels: Any) -> RasaContext:
        return self.rasa

    async def fire_timers(self, rasa: RasaContext, sender_id: str) -> Optional[Deadline]:
        self.calls.append(("fire", sender_id, self.round))
        if sender_id in self.blocked:
            raise DeliveryError("telegram did not take the message: Forbidden: bot was blocked")
        if sender_id in self.broken:
            raise RuntimeError("the lock store had a hiccup")
        return None

    async def give_up_timers(self, rasa: RasaContext, sender_id: str) -> None:
        self.calls.append(("give up", sender_id, self.round))

    def tries(self, sender_id: str) -> List[int]:
        return [at for what, sender, at in self.calls if sender == sender_id and what == "fire"]


@pytest.fixture
async def server() -> InMemoryRasa:
    """Two users in a handoff: `SENDER`, then `OTHER`."""
    running = await in_memory_rasa(DOMAIN)
    record = SlotSet(constants.SLOT_HANDOFF, state.opened("conv-other").as_slot())
    await running.store.save(DialogueStateTracker.from_events(OTHER, [record], DOMAIN.slots))
    return running


@pytest.fixture
def timers(server: InMemoryRasa) -> Timers:
    return Timers(server.rasa)


@pytest.fixture
def timer_loop(timers: Timers) -> TimerLoop:
    return TimerLoop(timers)


def app_of(server: InMemoryRasa) -> Any:
    return SimpleNamespace(ctx=SimpleNamespace(agent=server.rasa.agent, input_channels=[]))


async def rounds(
    timers: Timers, timer_loop: TimerLoop, app: Any, moved_clock: ClockFile, seconds: int
) -> int:
    """One round a second for `seconds` seconds; the round at the start."""
    start = timers.round
    for _ in range(seconds):
        await timer_loop.tick(app)
        moved_clock.advance(1)
        timers.round += 1
    return start


async def test_a_failing_conversation_holds_up_no_other(
    server: InMemoryRasa, timers: Timers, timer_loop: TimerLoop, moved_clock: ClockFile
) -> None:
    timers.blocked.add(SENDER)

    await timer_loop.tick(app_of(server))

    assert [(what, sender) for what, sender, _ in timers.calls] == [
        ("fire", SENDER),
        ("fire", OTHER),
    ]


async def test_it_is_tried_again_with_backoff_then_its_handoff_ends_as_failed(
    server: InMemoryRasa, timers: Timers, timer_loop: TimerLoop, moved_clock: ClockFile
) -> None:
    timers.blocked.add(SENDER)

    start = await rounds(timers, timer_loop, app_of(server), moved_clock, 60)

    # Tried at once, then 2, 4, 8 and 16 s later: five tries, never every second.
    assert [at - start for at in timers.tries(SENDER)] == [0, 2, 6, 14, 30]
    assert loop.MAX_TRIES == 5
    # Given up at the round after the last try, once; nothing more after that.
    gave_up = [(sender, at - start) for what, sender, at in timers.calls if what == "give up"]
    assert gave_up == [(SENDER, 31)]
    assert timers.calls[-1][0] == "give up"


async def test_the_delay_is_capped_and_other_failures_never_give_up(
    server: InMemoryRasa, timers: Timers, timer_loop: TimerLoop, moved_clock: ClockFile
) -> None:
    timers.broken.add(SENDER)

    start = await rounds(timers, timer_loop, app_of(server), moved_clock, 300)

    tries = [at - start for at in timers.tries(SENDER)]
    gaps = [later - earlier for earlier, later in zip(tries, tries[1:])]
    assert gaps == [2, 4, 8, 16, 32, 60, 60, 60]
    assert not [call for call in timers.calls if call[0] == "give up"]


async def test_a_timer_that_works_again_starts_afresh(
    server: InMemoryRasa, timers: Timers, timer_loop: TimerLoop, moved_clock: ClockFile
) -> None:
    timers.blocked.add(SENDER)
    app = app_of(server)
    start = await rounds(timers, timer_loop, app, moved_clock, 3)  # tried at 0 and 2
    timers.blocked.clear()

    await rounds(timers, timer_loop, app, moved_clock, 10)

    assert [at - start for at in timers.tries(SENDER)] == [0, 2, 6]
    failing: Dict[str, Any] = timer_loop._failing
    assert SENDER not in failing
