"""Is a ticket webhook from Zendesk? Its signature, or the API key set on the webhook.

Zendesk signs every webhook request: `X-Zendesk-Webhook-Signature` is the base64 of an
HMAC-SHA256, keyed with the webhook's signing secret, over the value of
`X-Zendesk-Webhook-Signature-Timestamp` followed by the raw body. A timestamp more than five
minutes from now is refused, so a captured request cannot be played again later (the event id
dedupe catches a replay within the window). Zendesk's "API key" authentication sends a header
of the admin's choosing instead (or as well). Either one, when configured and right, is
enough; both comparisons take constant time.

The window is measured on the wall clock (`time.time()`), not the plugin's test clock: it is
about two servers' clocks agreeing, not about how long a handoff lasted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime, timezone
from typing import Mapping, Optional

from rasa_zendesk.secret_compare import same_secret
from rasa_zendesk.settings import ZendeskSettings

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
#: How far a signature's timestamp may be from now, either way.
REPLAY_WINDOW_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What Zendesk sends in `X-Zendesk-Webhook-Signature` for this timestamp and body."""
    digest = hmac.new(
        secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def refusal(
    settings: ZendeskSettings,
    headers: Mapping[str, str],
    body: bytes,
    now: Optional[float] = None,
) -> Optional[str]:
    """Why the request is not Zendesk's (for the 401 and the log, never a secret), or None."""
    reasons = []
    if settings.ticket_webhook_api_key:
        given = headers.get(settings.ticket_webhook_api_key_header)
        if given and same_secret(given, settings.ticket_webhook_api_key):
            return None
        reasons.append(f"missing or wrong {settings.ticket_webhook_api_key_header} header")
    if settings.ticket_webhook_secret:
        problem = _signature_problem(settings.ticket_webhook_secret, headers, body, now)
        if problem is None:
            return None
        reasons.append(problem)
    return "; ".join(reasons) or "the ticket webhook has no secret configured"


def _signature_problem(
    secret: str, headers: Mapping[str, str], body: bytes, now: Optional[float]
) -> Optional[str]:
    given = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not given or not timestamp:
        return f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header"
    signed_at = _parse_time(timestamp)
    if signed_at is None:
        return f"{TIMESTAMP_HEADER} is not an ISO-8601 time"
    if abs((time.time() if now is None else now) - signed_at) > REPLAY_WINDOW_SECONDS:
        return f"{TIMESTAMP_HEADER} is more than {REPLAY_WINDOW_SECONDS // 60} minutes from now"
    if not same_secret(given, signature(secret, timestamp, body)):
        return f"wrong {SIGNATURE_HEADER}"
    return None


def _parse_time(text: str) -> Optional[float]:
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()
