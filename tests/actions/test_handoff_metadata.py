"""passControl metadata: flat, under SunCo's 4 KB, and the ticket fields Agent Workspace reads."""

import pytest

from rasa_zendesk.actions.handoff_metadata import (
    FIRST_MESSAGE_ID,
    MAX_METADATA_BYTES,
    REQUESTER_EMAIL,
    REQUESTER_NAME,
    SUBJECT,
    TAGS,
    metadata_size,
    pass_control_metadata,
    tag,
)


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
