"""Is a ticket webhook Zendesk's? Signature vectors computed outside the code under test
(`openssl dgst -sha256 -hmac <secret> -binary | base64` over timestamp + body), replays,
stale timestamps, wrong secrets, another body, and the API-key alternative."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone
from typing import Dict, Optional

import pytest

from rasa_zendesk.settings import ZendeskSettings
from rasa_zendesk.tickets.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER, refusal, signature

pytestmark = pytest.mark.timeout(10)

#: Zendesk's documented test signing secret, and the example from its verifying page.
TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
BODY = b'{"type":"zen:event-type:ticket.status_changed","id":"01HQ"}'
STAMP = "2026-12-01T10:00:00Z"
AT = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc).timestamp()
#: `printf '%s' "$STAMP$BODY" | openssl dgst -sha256 -hmac "$TEST_SECRET" -binary | base64`
VECTOR = "vBusi4FKqCCyYAlIph45HcVByUJ+dLsh/sdWqcgyETk="
#: The same over body + timestamp: the order an old revision of Zendesk's page gave.
BODY_FIRST = "1kSVezdy34O/VROjB0/5+hvWfIj2bidapWFHXYpiKiU="


def settings(
    secret: Optional[str] = TEST_SECRET, api_key: Optional[str] = None, header: str = "X-API-Key"
) -> ZendeskSettings:
    return ZendeskSettings(
        "acme",
        "app",
        "key",
        "key-secret",
        "webhook-secret",
        ticket_webhook_secret=secret,
        ticket_webhook_api_key=api_key,
        ticket_webhook_api_key_header=header,
    )


def signed(sig: str = VECTOR, stamp: str = STAMP) -> Dict[str, str]:
    return {SIGNATURE_HEADER: sig, TIMESTAMP_HEADER: stamp}


def test_known_vectors() -> None:
    assert signature(TEST_SECRET, STAMP, BODY) == VECTOR
    # Zendesk's documented example (secret, body and time from its verifying page).
    doc = signature(
        "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=", "2021-07-25T10:00:00Z", b'{"say": "hello"}'
    )
    assert doc == "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk="


def test_a_right_signature_within_the_window_passes() -> None:
    assert refusal(settings(), signed(), BODY, now=AT) is None
    assert refusal(settings(), signed(), BODY, now=AT + 299) is None
    assert refusal(settings(), signed(), BODY, now=AT - 299) is None


def test_an_independent_hmac_agrees() -> None:
    stamp, body = "2026-12-01T10:04:59Z", b'{"id": "x", "detail": {"tags": ["a"]}}'
    expected = base64.b64encode(
        hmac.new(b"s3cret", stamp.encode() + body, hashlib.sha256).digest()
    ).decode()
    assert refusal(settings("s3cret"), signed(expected, stamp), body, now=AT) is None


@pytest.mark.parametrize(
    ("headers", "body", "now", "says"),
    [
        (signed(), BODY, AT + 301, "more than 5 minutes"),
        (signed(), BODY, AT - 301, "more than 5 minutes"),
        (signed(BODY_FIRST), BODY, AT, "wrong X-Zendesk-Webhook-Signature"),
        (signed(), BODY + b" ", AT, "wrong X-Zendesk-Webhook-Signature"),
        (signed(), b'{"type":"zen:event-type:ticket.status_changed","id":"01HR"}', AT, "wrong"),
        (signed(VECTOR, "2026-12-01T10:00:01Z"), BODY, AT, "wrong X-Zendesk-Webhook-Signature"),
        ({SIGNATURE_HEADER: VECTOR}, BODY, AT, "missing"),
        ({TIMESTAMP_HEADER: STAMP}, BODY, AT, "missing"),
        (signed(VECTOR, "yesterday"), BODY, AT, "not an ISO-8601 time"),
        ({}, BODY, AT, "missing"),
    ],
)
def test_what_is_refused(headers: Dict[str, str], body: bytes, now: float, says: str) -> None:
    reason = refusal(settings(), headers, body, now=now)
    assert reason is not None and says in reason
    assert TEST_SECRET not in reason


def test_a_wrong_secret_is_refused() -> None:
    assert "wrong" in (refusal(settings("another-secret"), signed(), BODY, now=AT) or "")


def test_the_api_key_alone_or_as_well() -> None:
    key_only = settings(secret=None, api_key="k-123", header="X-Ticket-Key")
    assert refusal(key_only, {"X-Ticket-Key": "k-123"}, BODY, now=AT) is None
    for headers in ({}, {"X-Ticket-Key": "k-12"}, {"X-API-Key": "k-123"}, signed()):
        reason = refusal(key_only, headers, BODY, now=AT)
        assert reason == "missing or wrong X-Ticket-Key header"
    both = settings(api_key="k-123")
    assert refusal(both, {"X-API-Key": "k-123"}, BODY, now=AT) is None  # the key is enough
    assert refusal(both, signed(), BODY, now=AT) is None  # so is the signature
    reason = refusal(both, {"X-API-Key": "nope", **signed(BODY_FIRST)}, BODY, now=AT)
    assert reason is not None and "X-API-Key" in reason and "Signature" in reason
    assert "k-123" not in reason


def test_nothing_configured_refuses_everything() -> None:
    assert refusal(settings(secret=None), signed(), BODY, now=AT) is not None
