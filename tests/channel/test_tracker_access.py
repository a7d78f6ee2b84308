"""Tracker reads under the lock (`channel/tracker_access.py`)."""

from __future__ import annotations

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

from rasa_zendesk import constants
from rasa_zendesk.channel.tracker_access import handoff_started_in_session
from rasa_zendesk.handoff import state

pytestmark = pytest.mark.timeout(30)


def test_a_handoff_opened_in_this_session_needs_no_older_sessions() -> None:
    """The dedupe skips the full-conversation read only when the escalation ran in the
    current session; slots carried over into a new session do not count."""
    record = state.opened("conv_1").as_slot()
    opened = [
        SessionStarted(),
        UserUttered("human please"),
        ActionExecuted(constants.ACTION_HANDOFF),
        SlotSet(constants.SLOT_HANDOFF, record),
    ]
    carried_over = [
        SessionStarted(),
        SlotSet(constants.SLOT_HANDOFF, record),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]
    assert handoff_started_in_session(opened, "conv_1")
    assert not handoff_started_in_session(opened, "conv_2")
    assert not handoff_started_in_session(carried_over, "conv_1")
