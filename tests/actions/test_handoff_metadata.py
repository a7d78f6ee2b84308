"""passControl metadata: flat, under SunCo's 4 KB, and the ticket fields Agent Workspace reads."""

from dataclasses import replace
from typing import Any, Dict, List

import pytest

from rasa_zendesk.actions.handoff_metadata import (
    FIRST_MESSAGE_ID,
    MAX_METADATA_BYTES,
    REQUESTER_EMAIL,
    REQUESTER_NAME,
    SUBJECT,
    SYSTEM_FIELD,
    TAGS,
    TICKET_FIELD,
    metadata_size,
    pass_control_metadata,
    routed_fields,
    tag,
)
from rasa_zendesk.settings import Routing


def test_all_fields_flat_strings() -> None:
    metadata = pass_control_metadata(
        "msg_1", "Chat handoff: asked for a human", ["rasa_handoff", "explicit"], "Jane", "j@x.io"
    )
    assert metadata == {
        FIRST_MESSAGE_ID: "msg_1",
        SUBJECT: "Chat handoff: asked for a human",
        TAGS: "rasa_handoff,explicit",
        REQUESTER_NAME: "Jane",
        REQUESTER_EMAIL: "j@x.io",
    }


def test_unknown_requester_is_left_out() -> None:
    metadata = pass_control_metadata("msg_1", "Subject", ["rasa_handoff"])
    assert REQUESTER_NAME not in metadata and REQUESTER_EMAIL not in metadata


def test_tags_are_zendesk_tags_without_duplicates() -> None:
    metadata = pass_control_metadata(
        "m", "s", ["rasa_handoff", "Negative Sentiment!", "", "rasa_handoff"]
    )
    assert metadata[TAGS] == "rasa_handoff,negative_sentiment"
    assert tag(" Repeated, Fallbacks ") == "repeated_fallbacks"


def test_long_values_are_cut_and_the_whole_stays_under_4kb() -> None:
    huge = "ä" * 5000  # two bytes each in UTF-8
    metadata = pass_control_metadata("m", huge, [f"tag{i}" for i in range(500)], huge, huge)
    assert metadata_size(metadata) <= MAX_METADATA_BYTES
    assert len(metadata[SUBJECT]) <= 150 and metadata[SUBJECT].endswith("…")
    assert len(metadata[REQUESTER_NAME]) <= 256
    assert all(t.startswith("tag") and t[3:].isdigit() for t in metadata[TAGS].split(","))
    assert REQUESTER_EMAIL not in metadata  # not an address: never cut one into a wrong one
    assert all(isinstance(value, str) for value in metadata.values())


def test_optional_fields_are_dropped_before_exceeding_the_limit() -> None:
    long_id = "m" * 3700
    metadata = pass_control_metadata(long_id, "s" * 150, ["t" * 200], "n" * 256, "a@b.c")
    assert metadata_size(metadata) <= MAX_METADATA_BYTES
    assert metadata[FIRST_MESSAGE_ID] == long_id
    assert REQUESTER_NAME not in metadata


def test_first_message_id_that_cannot_fit_is_an_error() -> None:
    with pytest.raises(ValueError):
        pass_control_metadata("m" * 5000, "s", [])


ROUTING = Routing(
    ticket_fields=(("order_number", "360001234567"), ("plan", "360001234568")),
    system_fields=(("tier", "priority"), ("org", "organization_id")),
    group_by_intent=(("billing_question", "360000111"), ("refund", "360000333")),
    group_by_trigger=(("frustration", "360000222"),),
    default_group="360000999",
    brand_id="42",
)
GROUP = f"{SYSTEM_FIELD}group_id"


def test_routing_fills_custom_and_system_fields_from_slots() -> None:
    slots = {"order_number": 12345678, "plan": " Gold ", "tier": "HIGH", "org": "9001"}
    fields = routed_fields(ROUTING, slots, ["greet", "billing_question", "affirm"], "fallbacks")
    assert fields == {
        f"{TICKET_FIELD}360001234567": "12345678",
        f"{TICKET_FIELD}360001234568": "Gold",
        GROUP: "360000111",
        f"{SYSTEM_FIELD}brand_id": "42",
        f"{SYSTEM_FIELD}priority": "high",
        f"{SYSTEM_FIELD}organization_id": "9001",
    }


@pytest.mark.parametrize(
    "slots, intents, trigger, group",
    [
        ({}, ["refund", "billing_question", "human_handoff"], "explicit_request", "360000111"),
        ({}, ["billing_question", "refund"], "frustration", "360000333"),  # the latest wins
        ({}, ["greet"], "frustration", "360000222"),  # no intent rule: the trigger's
        ({}, ["greet"], "explicit_request", "360000999"),  # nothing: the default group
        ({"team": "77"}, ["billing_question"], "frustration", "77"),  # a slot wins
    ],
)
def test_the_group_comes_from_a_slot_the_latest_intent_the_trigger_or_the_default(
    slots: Dict[str, Any], intents: List[str], trigger: str, group: str
) -> None:
    routing = replace(ROUTING, system_fields=(("team", "group_id"),))
    assert routed_fields(routing, slots, intents, trigger)[GROUP] == group


def test_slot_values_a_field_cannot_take_are_left_out_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slots = {"order_number": ["a", "b"], "plan": "", "tier": "whenever", "org": "acme inc"}
    fields = routed_fields(ROUTING, slots, [], None)
    assert fields == {GROUP: "360000999", f"{SYSTEM_FIELD}brand_id": "42"}
    assert "Slot tier does not hold a Zendesk priority" in caplog.text
    assert "Slot org does not hold a Zendesk organization_id" in caplog.text
    assert "acme inc" not in caplog.text and "whenever" not in caplog.text
    assert routed_fields(Routing(), slots, ["billing_question"], "frustration") == {}


def test_over_4kb_the_least_useful_go_first_the_routing_last_and_the_log_names_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    routed = {f"{TICKET_FIELD}{n}": "v" * 256 for n in range(1, 15)}
    routed[GROUP] = "360000111"
    metadata = pass_control_metadata("m" * 40, "s" * 150, ["tag"], "n" * 256, "a@b.c", routed)
    assert metadata_size(metadata) <= MAX_METADATA_BYTES
    assert metadata[GROUP] == "360000111" and metadata[TAGS] == "tag"
    assert REQUESTER_NAME not in metadata and SUBJECT not in metadata
    cut = [key for key in routed if key not in metadata]
    assert cut and cut == [f"{TICKET_FIELD}{n}" for n in range(15 - len(cut), 15)]  # last first
    assert f"{TICKET_FIELD}1" in metadata
    logged = f"left out {REQUESTER_NAME}, {SUBJECT}, " + ", ".join(reversed(cut))
    assert logged in caplog.text
