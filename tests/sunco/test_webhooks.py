"""Every example webhook of the official spec parses into our models; odd input never raises."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from rasa_zendesk.sunco.webhooks import (
    ActivityEvent,
    Event,
    MalformedEvent,
    MessageEvent,
    SwitchboardEvent,
    WebhookEnvelope,
    parse_event,
)

SPEC_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "spec"
EXAMPLES = json.loads((SPEC_DIR / "sunco-v2-examples.json").read_text())
ENVELOPES = {
    name: value for name, value in EXAMPLES.items() if isinstance(value, dict) and "events" in value
}


def test_the_spec_has_webhook_examples() -> None:
    assert len(ENVELOPES) >= 20


@pytest.mark.parametrize("name", sorted(ENVELOPES))
def test_every_spec_example_parses(name: str) -> None:
    envelope = WebhookEnvelope.parse_obj(ENVELOPES[name])
    events = envelope.parse_events()
    assert events, name
    for event, raw in zip(events, ENVELOPES[name]["events"]):
        assert not isinstance(event, MalformedEvent), event
        assert isinstance(event, Event)
        assert event.id == raw["id"]
        assert event.type == raw["type"]


def test_message_event_keeps_author_name_and_avatar() -> None:
    raw = ENVELOPES["conversationMessageEvent"]["events"][0]
    event = parse_event(raw)
    assert isinstance(event, MessageEvent)
    author = event.payload.message.author
    assert author.display_name == raw["payload"]["message"]["author"]["displayName"]
    assert author.avatar_url == raw["payload"]["message"]["author"]["avatarUrl"]
    assert event.payload.message.content.text == raw["payload"]["message"]["content"]["text"]
    assert event.conversation is not None
    assert event.conversation.id == raw["payload"]["conversation"]["id"]


@pytest.mark.parametrize(
    "name, model",
    [
        ("conversationTypingEvent", ActivityEvent),
        ("conversationReadEvent", ActivityEvent),
        ("switchboardReleaseControlEvent", SwitchboardEvent),
        ("switchboardPassControlEvent", SwitchboardEvent),
        ("conversationMessageEvent", MessageEvent),
    ],
)
def test_event_types_get_typed_payloads(name: str, model: type) -> None:
    assert isinstance(parse_event(ENVELOPES[name]["events"][0]), model)


def test_unknown_types_and_fields_are_tolerated() -> None:
    raw = copy.deepcopy(ENVELOPES["conversationMessageEvent"]["events"][0])
    raw["somethingNew"] = {"x": 1}
    raw["payload"]["message"]["content"]["brandNewField"] = True
    assert isinstance(parse_event(raw), MessageEvent)

    future = {"id": "e1", "type": "conversation:hologram", "payload": {"anything": [1, 2]}}
    event = parse_event(future)
    assert type(event) is Event or isinstance(event, Event)
    assert event.type == "conversation:hologram"

    envelope = WebhookEnvelope.parse_obj(
        {"app": {"id": "a"}, "webhook": {"id": "w", "version": "v3"}, "events": [future]}
    )
    assert [e.type for e in envelope.parse_events()] == ["conversation:hologram"]


def test_a_message_event_without_its_message_is_reported_not_raised() -> None:
    raw = copy.deepcopy(ENVELOPES["conversationMessageEvent"]["events"][0])
    del raw["payload"]["message"]
    envelope = WebhookEnvelope.parse_obj({"events": [raw, {"type": "x:y"}]})
    first, second = envelope.parse_events()
    assert isinstance(first, MalformedEvent)
    assert "payload.message" in str(first)
    assert isinstance(second, MalformedEvent)  # no id
