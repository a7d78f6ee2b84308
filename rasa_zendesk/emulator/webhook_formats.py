"""What one kind of webhook looks like on the wire: the body around an event, and the headers
of each attempt. The `WebhookSender` queues, retries and records; a format says how to dress.

- `SunCoFormat`: Sunshine Conversations' v2 envelope, authenticated by `X-API-Key`.
- `ZendeskEventFormat`: Zendesk Support's event webhooks (`zen:event-type:...`): the event is
  the body, signed on every attempt with that attempt's own timestamp, optionally with an API
  key header as well (Zendesk's "API key" authentication option).
"""

import base64
import hashlib
import hmac
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional

from .events import envelope
from .ids import new_id, new_ulid, now_iso_seconds

SUNCO = "sunco"
TICKET = "ticket"
DEFAULT_API_KEY_HEADER = "X-API-Key"


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(key = secret as UTF-8, message = timestamp + raw body))."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


class WebhookFormat(ABC):
    """One kind of webhook: its name in the control API and logs, body, headers, settings."""

    kind: str
    label: str  # how log lines name a delivery of this kind

    def __init__(self, webhook_id: str, secret: str) -> None:
        self.webhook_id = webhook_id
        self._secret = secret

    @property
    def secret_set(self) -> bool:
        return bool(self._secret)

    @property
    def secret(self) -> str:
        """Only for the API's webhook listing, which shows it as SunCo does; never logged."""
        return self._secret

    def set_secret(self, secret: str) -> None:
        self._secret = secret

    @abstractmethod
    def body(self, event: Dict[str, Any]) -> Dict[str, Any]:
        """The JSON body that carries `event` (the same on every attempt)."""

    def batch_body(self, events: List[Dict[str, Any]]) -> Dict[str, Any]:
        """One body that carries several events; ValueError where the webhook sends one event
        per body."""
        raise ValueError(f"a {self.label} carries one event per post")

    @abstractmethod
    def headers(self, invocation_id: str, data: bytes) -> Dict[str, str]:
        """The headers of one attempt to POST `data` (the body's bytes) of a delivery (its
        `invocation_id`, the same on every attempt)."""

    def view(self) -> Dict[str, Any]:
        """The settings for the control API: whether a secret is set, never its value."""
        return {"webhookId": self.webhook_id, "secretSet": self.secret_set}

    def __repr__(self) -> str:  # the secret stays out of reprs
        return f"{type(self).__name__}(webhook_id={self.webhook_id!r})"


class SunCoFormat(WebhookFormat):
    """SunCo: one event per v2 envelope, the webhook's secret in `X-API-Key`."""

    kind = SUNCO
    label = "webhook"

    def __init__(self, app_id: str, secret: str) -> None:
        super().__init__(new_id(), secret)
        self.app_id = app_id

    def body(self, event: Dict[str, Any]) -> Dict[str, Any]:
        return self.batch_body([event])

    def batch_body(self, events: List[Dict[str, Any]]) -> Dict[str, Any]:
        return envelope(self.app_id, self.webhook_id, events)

    def headers(self, invocation_id: str, data: bytes) -> Dict[str, str]:
        return {"X-API-Key": self._secret}


class ZendeskEventFormat(WebhookFormat):
    """Zendesk Support event webhooks: the event is the body; `X-Zendesk-*` headers and the
    signature on every attempt; the invocation id is the delivery's, the same on retries."""

    kind = TICKET
    label = "ticket webhook"

    def __init__(
        self,
        account_id: int,
        secret: str,
        api_key: Optional[str] = None,
        api_key_header: str = DEFAULT_API_KEY_HEADER,
    ) -> None:
        super().__init__(new_ulid(), secret)
        self.account_id = account_id
        self._api_key = api_key
        self.api_key_header = api_key_header

    def set_api_key(self, api_key: Optional[str]) -> None:
        """Turn the API key header on (a value) or off (None)."""
        self._api_key = api_key

    def body(self, event: Dict[str, Any]) -> Dict[str, Any]:
        return event

    def headers(self, invocation_id: str, data: bytes) -> Dict[str, str]:
        timestamp = now_iso_seconds()
        headers = {
            "X-Zendesk-Account-Id": str(self.account_id),
            "X-Zendesk-Webhook-Id": self.webhook_id,
            "X-Zendesk-Webhook-Invocation-Id": invocation_id,
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
            "X-Zendesk-Webhook-Signature": zendesk_signature(self._secret, timestamp, data),
        }
        if self._api_key:
            headers[self.api_key_header] = self._api_key
        return headers

    def view(self) -> Dict[str, Any]:
        return {
            **super().view(),
            "accountId": self.account_id,
            "apiKeySet": bool(self._api_key),
            "apiKeyHeader": self.api_key_header,
        }
