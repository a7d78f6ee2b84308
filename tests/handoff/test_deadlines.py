"""The next deadline of a running handoff, from its record and its last message."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import pytest
from rasa.shared.core.events import BotUttered, UserUttered

from rasa_zendesk import clock
from rasa_zendesk.constants import EVENT_ZENDESK_MESSAGE_ID
from rasa_zendesk.handoff import state
from rasa_zendesk.handoff.deadlines import (
    END_IDLE,
    END_MAX_DURATION,
    OFFER_CHOICES,
    Deadline,
    last_message_at,
    next_deadline,
)
from rasa_zendesk.settings import HandoffSettings
from testkit.clock_file import ClockFile

pytestmark = pytest.mark.timeout(10)

T0 = 1_800_000_000.0
SETTINGS = HandoffSettings(agent_timeout=600, idle_timeout=1800, max_duration=7200)


def waiting() -> state.Handoff:
    return state.opened("conv_1", at=T0)


@pytest.mark.parametrize(
    ("handoff", "settings", "last", "expected"),
    [
        # No agent yet: the agent timeout comes first.
        (waiting(), SETTINGS, None, Deadline(T0 + 600, OFFER_CHOICES)),
        # The user chose to wait on at T0 + 700: it counts from then.
        (
            state.keep_waiting(state.agent_timed_out(waiting(), at=T0 + 600), at=T0 + 700),
            SETTINGS,
            None,
            Deadline(T0 + 1300, OFFER_CHOICES),
        ),
        # Offered, no answer yet: no second offer; idle from the request.
        (
            state.agent_timed_out(waiting(), at=T0 + 600),
            SETTINGS,
            None,
            Deadline(T0 + 1800, END_IDLE),
        ),
        # A message left: no agent timeout; idle counts from the last message.
        (state.message_left(waiting()), SETTINGS, T0 + 1000, Deadline(T0 + 2800, END_IDLE)),
        # With an agent: idle from the last message, until max_duration.
        (
            state.agent_joined(waiting(), "Alex", at=T0 + 60),
            SETTINGS,
            T0 + 6000,
            Deadline(T0 + 7200, END_MAX_DURATION),
        ),
        # Timers set to 0 are off.
        (waiting(), HandoffSettings(agent_timeout=0, idle_timeout=0, max_duration=0), None, None),
        (
            waiting(),
            HandoffSettings(agent_timeout=0, idle_timeout=0),
            None,
            Deadline(T0 + 86400, END_MAX_DURATION),
        ),
        # An ended handoff has no timer.
        (state.ended(waiting(), state.AGENT_RELEASED), SETTINGS, None, None),
    ],
)
def test_next_deadline(
    handoff: state.Handoff,
    settings: HandoffSettings,
    last: Optional[float],
    expected: Optional[Deadline],
) -> None:
    assert next_deadline(handoff, settings, last) == expected


def test_transitions_only_where_they_make_sense() -> None:
    joined = state.agent_joined(waiting(), "Alex")
    for transition in (state.agent_timed_out, state.keep_waiting, state.message_left):
        with pytest.raises(state.TransitionError):
            transition(joined)
    ended = state.ended(joined, state.IDLE_TIMEOUT)
    with pytest.raises(state.TransitionError):
        state.ended(ended, state.MAX_DURATION)
    with pytest.raises(state.TransitionError):
        state.ended(joined, "bored")


def test_a_message_postpones_the_idle_timeout_while_a_test_runs_the_clock_fast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa stamps the message with the system clock, the record is on the plugin's clock."""
    monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(tmp_path / "clock"))
    moved = ClockFile(tmp_path / "clock")
    moved.advance(3600)
    joined = state.agent_joined(state.opened("conv_1"), "Alex")
    moved.advance(1000)
    agent = BotUttered("Hi", metadata={EVENT_ZENDESK_MESSAGE_ID: "m1"}, timestamp=time.time())
    moved.advance(1000)
    user = UserUttered("thanks", timestamp=time.time())

    assert last_message_at([agent]) == pytest.approx(time.time() + 4600, abs=1)
    deadline = next_deadline(joined, SETTINGS, last_message_at([agent, user]))
    assert deadline is not None and deadline.what == END_IDLE
    assert deadline.at == pytest.approx(time.time() + 5600 + 1800, abs=1)
