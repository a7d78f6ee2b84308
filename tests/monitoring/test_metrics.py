"""The CSAT histogram: each rating observed once, by end reason and connector."""

from __future__ import annotations

import pytest

from rasa_zendesk.handoff import state
from rasa_zendesk.monitoring.metrics import ChannelMetrics
from testkit.metrics import value

pytestmark = pytest.mark.timeout(10)


def test_a_rating_is_observed_once_in_the_histogram() -> None:
    metrics = ChannelMetrics()
    now = metrics.handoffs.floor + 10
    opened = state.opened("conv", at=now)
    ended = state.ended(state.agent_joined(opened, "Alex", at=now + 5), state.TICKET_SOLVED)
    rated = state.rated(ended, 4)
    for record in (opened, ended, rated, rated):  # read again: counted once
        metrics.handoffs.observe("sender", record)
    text = metrics.exposition()[0].decode()
    name = "rasa_zendesk_handoff_csat_rating"
    assert value(text, name + "_count", reason="ticket_solved", connector="default") == 1
    assert value(text, name + "_sum", reason="ticket_solved") == 4
    assert value(text, name + "_bucket", le="3.0") == 0
    assert value(text, name + "_bucket", le="4.0") == 1
