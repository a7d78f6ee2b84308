"""The spec validator itself: it accepts the spec's own examples and rejects wrong bodies."""

from __future__ import annotations

import copy
from typing import Any, Dict

import pytest

from testkit import spec

ENVELOPES = spec.example_envelopes()
# One example of the spec contradicts the spec's schema: `externalId` written as a number.
# (It also lacks `createdAt`, which the schema does not require.) Kept visible, not skipped.
KNOWN_BAD_EXAMPLES = {
    "conversationReferralEvent": ["at payload/user/externalId: 912382197 is not of type 'string'"]
}


def test_the_spec_is_read_from_shared_and_documents_the_events() -> None:
    assert spec.SPEC_PATH.resolve() == (spec.SPEC_DIR / "sunco-v2-openapi.yaml").resolve()
    assert spec.SPEC_PATH.resolve().parent.name == "spec"
    assert {
        "conversation:message",
        "conversation:typing",
        "switchboard:passControl",
        "switchboard:releaseControl",
    } <= spec.webhook_event_types()
    assert len(ENVELOPES) >= 20


@pytest.mark.parametrize("name", sorted(ENVELOPES))
def test_every_example_event_validates(name: str) -> None:
    envelope = ENVELOPES[name]
    if name in KNOWN_BAD_EXAMPLES:
        with pytest.raises(spec.SpecError) as caught:
            spec.validate_webhook(envelope)
        assert caught.value.errors == KNOWN_BAD_EXAMPLES[name]
        fixed = copy.deepcopy(envelope)
        user = fixed["events"][0]["payload"]["user"]
        user["externalId"] = str(user["externalId"])
        spec.validate_webhook(fixed)
        return
    spec.validate_webhook(envelope)
    for event in envelope["events"]:
        spec.validate_webhook_event(event)


def _message_event() -> Dict[str, Any]:
    return copy.deepcopy(ENVELOPES["conversationMessageEvent"]["events"][0])


@pytest.mark.parametrize(
    "breakage",
    [
        lambda e: e["payload"]["message"]["author"].update(type="agent"),
        lambda e: e["payload"]["message"]["content"].update(type="image"),  # no mediaUrl
        lambda e: e["payload"]["message"]["content"].update(text=42),
        lambda e: e["payload"]["conversation"].update(type="group"),
        lambda e: e["payload"]["conversation"].update(activeSwitchboardIntegration="rasa"),
        lambda e: e["payload"].update(message="hello"),
        lambda e: e.update(type="conversation:unknown"),
        lambda e: e.pop("payload"),
    ],
)
def test_a_wrong_webhook_event_is_rejected(breakage: Any) -> None:
    event = _message_event()
    spec.validate_webhook_event(event)  # the original is fine
    breakage(event)
    with pytest.raises(spec.SpecError):
        spec.validate_webhook_event(event)


def test_a_wrong_envelope_is_rejected() -> None:
    envelope = ENVELOPES["conversationMessageEvent"]
    for broken in (
        {**envelope, "webhook": {"id": "w", "version": "v1"}},
        {**envelope, "events": []},
        {**envelope, "events": "nope"},
        {"events": envelope["events"]},
        [],
    ):
        with pytest.raises(spec.SpecError):
            spec.validate_webhook(broken)


def test_nullable_composites_accept_null_but_not_other_types() -> None:
    event = _message_event()
    event["payload"]["conversation"]["activeSwitchboardIntegration"] = None
    event["payload"]["message"]["quotedMessage"] = None
    spec.validate_webhook_event(event)
    event["payload"]["message"]["quotedMessage"] = 3
    with pytest.raises(spec.SpecError):
        spec.validate_webhook_event(event)


MESSAGES = "/sc/v2/apps/app/conversations/c1/messages"


@pytest.mark.parametrize("name", ["text", "image", "file", "carousel"])
def test_the_spec_request_examples_validate(name: str) -> None:
    spec.validate_request("POST", MESSAGES, spec.load_examples()[name])


@pytest.mark.parametrize(
    "body",
    [
        {"author": {"type": "robot"}, "content": {"type": "text", "text": "hi"}},
        {"author": {"type": "user"}, "content": {"type": "image"}},
        {"author": {"type": "user"}, "content": "hi"},
        {"author": {"type": "business"}, "content": {"type": "text", "text": "x" * 4097}},
        {"content": {"type": "text", "text": "hi"}},
        {"author": {"type": "business"}, "content": {"type": "image", "mediaUrl": "no url"}},
        {  # mediaType is read-only: a client does not send it
            "author": {"type": "business"},
            "content": {
                "type": "image",
                "mediaUrl": "https://x.io/a.png",
                "mediaType": "image/png",
            },
        },
    ],
)
def test_a_wrong_request_is_rejected(body: Dict[str, Any]) -> None:
    with pytest.raises(spec.SpecError):
        spec.validate_request("POST", MESSAGES, body)


def test_responses_are_checked_for_status_body_and_write_only_fields() -> None:
    examples = spec.load_examples()
    spec.validate_response("GET", MESSAGES, 200, examples["listMessages"])
    spec.validate_response("POST", MESSAGES, 201, examples["text-2"])
    spec.validate_response("POST", "/sc/v2/apps/a/users", 201, examples["createUser"])
    spec.validate_response("POST", "/sc/v2/apps/a/attachments", 201, examples["uploadAttachment"])
    spec.validate_response(
        "POST", MESSAGES, 400, {"errors": [{"code": "bad_request", "title": "x"}]}
    )
    with pytest.raises(spec.SpecError, match="not documented"):
        spec.validate_response("POST", MESSAGES, 200, examples["text-2"])
    with pytest.raises(spec.SpecError, match="write-only"):
        spec.validate_response(
            "POST",
            MESSAGES,
            201,
            {"messages": [{"id": "m", "author": {"type": "user", "userExternalId": "e"}}]},
        )
    with pytest.raises(spec.SpecError):
        spec.validate_response("POST", MESSAGES, 404, {"errors": "not found"})
    with pytest.raises(spec.SpecError):
        spec.validate_response("GET", "/sc/v2/apps/a/conversations/c1", 200, {"conversation": []})


def test_paths_are_matched_to_their_templates() -> None:
    template, operation = spec.operation(
        "POST", "http://h:1/sc/v2/apps/a/conversations/c/passControl?x"
    )
    assert template == "/v2/apps/{appId}/conversations/{conversationId}/passControl"
    assert operation["operationId"] == "PassControl"
    assert spec.operation("GET", "/v2/apps/a/users/u1")[1]["operationId"] == "GetUser"
    with pytest.raises(spec.SpecError):
        spec.operation("GET", "/v2/apps/a/nothing-here")
    with pytest.raises(spec.SpecError):
        spec.operation("PUT", "/v2/apps/a/conversations/c/messages")
