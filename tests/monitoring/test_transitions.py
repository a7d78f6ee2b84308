"""Each transition of a handoff record counted once per instance, however often the store's
records are read again; the store's history before the instance started is not counted."""

from __future__ import annotations

from dataclasses import replace
from typing import List, Tuple

import pytest

from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.handoff import state
from rasa_zendesk.monitoring import transitions
from rasa_zendesk.monitoring.transitions import TransitionCounter
from rasa_zendesk.settings import SettingsError
from testkit.channel_harness import CREDENTIALS

pytestmark = pytest.mark.timeout(10)

T0 = 1_700_000_000.0


class Counted:
    def __init__(self) -> None:
        self.seen: List[Tuple[str, str]] = []
        self.real = 0.0

    def __call__(self, stage: str, record: state.Handoff) -> None:
        self.seen.append((stage, record.id))


def life() -> List[state.Handoff]:
    opened = state.opened("conv-1", trigger="human_handoff", at=T0 + 10)
    joined = state.agent_joined(opened, "Alex", at=T0 + 70)
    return [opened, joined, state.ended(joined, state.AGENT_RELEASED, at=T0 + 600)]


def test_each_transition_once_however_often_read() -> None:
    counted = Counted()
    counter = TransitionCounter(counted, started_at=T0, monotonic=lambda: counted.real)
    records = life()
    for _ in range(3):  # the watchlist reads its horizon's rows again and again
        for record in records:
            counter.observe("sender-1", record)
    stages = [stage for stage, _ in counted.seen]
    assert stages == [transitions.REQUESTED, transitions.JOINED, transitions.ENDED]


def test_a_record_first_read_ended_counts_its_whole_life() -> None:
    counted = Counted()
    TransitionCounter(counted, started_at=T0).observe("sender-1", life()[-1])
    assert len(counted.seen) == 3


def test_history_before_the_start_is_not_counted() -> None:
    counted = Counted()
    counter = TransitionCounter(counted, started_at=T0 + 300)
    for record in life():
        counter.observe("sender-1", record)
    assert [stage for stage, _ in counted.seen] == [transitions.ENDED]


def test_running_handoffs_by_state() -> None:
    counter = TransitionCounter(Counted(), started_at=T0)
    opened, joined, ended = life()
    counter.observe("a", opened)
    counter.observe("b", replace(opened, id="other"))
    counter.observe("b", state.agent_joined(replace(opened, id="other"), "Sam", at=T0 + 20))
    assert (counter.count(state.WAITING), counter.count(state.AGENT_JOINED)) == (1, 1)
    counter.observe("a", ended)
    assert counter.count(state.WAITING) == 0


def test_what_was_counted_is_forgotten_after_a_while_and_never_counted_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counted = Counted()
    monkeypatch.setattr(transitions.clock, "now", lambda: T0 + counted.real)
    counter = TransitionCounter(counted, started_at=T0, monotonic=lambda: counted.real)
    opened = life()[0]
    counter.observe("a", opened)
    counted.real = transitions.KEEP_SECONDS + 100  # a scan of the store, much later
    counter.observe("a", opened)
    counted.real += transitions.KEEP_SECONDS + transitions.SETTLE_SECONDS
    counter.observe("a", opened)
    assert len(counted.seen) == 1
    assert counter.floor > opened.requested_at  # forgotten: memory stays bounded
    assert not counter._counted


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"metrics": "maybe"}, "metrics (ZENDESK_METRICS)"),
        ({"metrics_token": "x y"}, "metrics_token"),
    ],
)
def test_metrics_settings_in_the_wrong_form_are_named(given: dict, named: str) -> None:
    with pytest.raises(SettingsError, match=r"metrics") as raised:
        ChannelConfig.from_credentials({**CREDENTIALS, **given}, {})
    assert named in str(raised.value)
    assert "maybe" not in str(raised.value) and "x y" not in str(raised.value)


def test_metrics_settings_from_the_environment() -> None:
    env = {"ZENDESK_METRICS": "true", "ZENDESK_METRICS_TOKEN": "t" * 20}
    config = ChannelConfig.from_credentials(CREDENTIALS, env)
    assert config.metrics and config.metrics_token == "t" * 20
    assert "t" * 20 not in repr(config)
