"""The escalation reason as data: what the policy writes into the slot, the action reads back."""

from __future__ import annotations

from typing import Any

import pytest

from rasa_zendesk import escalation
from rasa_zendesk.escalation import EscalationReason


@pytest.mark.parametrize(
    "kind",
    [
        escalation.EXPLICIT_REQUEST,
        escalation.FRUSTRATION,
        escalation.FALLBACKS,
        escalation.REPEATED_MESSAGE,
        escalation.UNKNOWN,
    ],
)
def test_every_kind_survives_the_slot(kind: str) -> None:
    reason = EscalationReason(kind, "what fired, with its numbers")
    assert EscalationReason.from_slot(reason.as_slot()) == reason
    assert reason.title


def test_the_agent_reads_the_kind_then_the_detail() -> None:
    reason = EscalationReason(escalation.FRUSTRATION, "negative sentiment -0.80")
    assert reason.text == "frustration: negative sentiment -0.80"
    assert reason.title == "the user seems frustrated"
    assert EscalationReason(escalation.UNKNOWN, "no reason recorded").text == "no reason recorded"


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("frustration: negative sentiment -0.80", "frustration: negative sentiment -0.80"),
        ({"kind": "anger", "detail": "from a newer version"}, "from a newer version"),
        ({"kind": "anger"}, "anger"),
    ],
)
def test_text_or_an_unknown_kind_is_kept_as_an_unknown_reason(value: Any, detail: str) -> None:
    assert EscalationReason.from_slot(value) == EscalationReason(escalation.UNKNOWN, detail)


@pytest.mark.parametrize("value", [None, "", "  ", {}, {"kind": None, "detail": ""}])
def test_an_empty_slot_holds_no_reason(value: Any) -> None:
    assert EscalationReason.from_slot(value) is None


def test_a_kind_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="anger"):
        EscalationReason("anger", "x")
