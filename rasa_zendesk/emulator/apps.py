"""Extra SunCo apps ("connectors") one emulator serves next to its default app.

One Rasa bot may talk to several Zendesk accounts or apps. Each extra app is described by an
`AppBody`, the same in `POST /_emulator/apps` and in the `--apps-file` JSON list, so the two
ways cannot drift apart. Secrets are `SecretStr`: they never show in a repr or a log.
"""

import argparse
import json
import re
from typing import Any, List, Optional

from pydantic import (
    BaseModel,
    Extra,
    SecretStr,
    StrictStr,
    ValidationError,
    conint,
    constr,
    validator,
)

from .bodies import check_uri

APP_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_RESERVED_HEADERS = ("content-type", "content-length", "host", "user-agent")
MAX_ACCOUNT_ID = 2**53


def check_header_name(value: Optional[str]) -> Optional[str]:
    """An HTTP header name the webhook may add: a token, not one Zendesk sets itself."""
    if value is None:
        return value
    lowered = value.lower()
    if not _HEADER_NAME.match(value) or lowered in _RESERVED_HEADERS:
        raise ValueError("must be a header name such as X-API-Key")
    if lowered.startswith("x-zendesk-"):
        raise ValueError("X-Zendesk-* headers are Zendesk's own")
    return value


def _non_empty_secret(value: Optional[SecretStr]) -> Optional[SecretStr]:
    if value is not None and not value.get_secret_value():
        raise ValueError("must not be empty")
    return value


def secret_value(value: Optional[SecretStr], default: Optional[str]) -> Optional[str]:
    return value.get_secret_value() if value is not None else default


class AppBody(BaseModel):
    """One extra app: its SunCo API key, its webhooks, its Zendesk account's ticket webhooks.
    Left out: the demo defaults (`whsec_demo`, `tkwh_demo`, `X-API-Key`, no targets)."""

    class Config:
        extra = Extra.forbid

    appId: constr(strict=True, regex=APP_ID_PATTERN)
    name: Optional[constr(strict=True, min_length=1, max_length=100)] = None
    keyId: constr(strict=True, min_length=1, max_length=100)
    keySecret: SecretStr
    webhookUrls: List[StrictStr] = []
    webhookSecret: Optional[SecretStr] = None
    ticketWebhookUrls: List[StrictStr] = []
    ticketWebhookSecret: Optional[SecretStr] = None
    ticketWebhookApiKey: Optional[SecretStr] = None
    ticketWebhookApiKeyHeader: Optional[StrictStr] = None
    accountId: Optional[conint(strict=True, ge=1, le=MAX_ACCOUNT_ID)] = None

    _urls = validator("webhookUrls", "ticketWebhookUrls", each_item=True, allow_reuse=True)(
        check_uri
    )
    _secrets = validator(
        "keySecret",
        "webhookSecret",
        "ticketWebhookSecret",
        "ticketWebhookApiKey",
        allow_reuse=True,
    )(_non_empty_secret)
    _header = validator("ticketWebhookApiKeyHeader", allow_reuse=True)(check_header_name)


def _describe(error: ValidationError) -> str:
    return "; ".join(
        ".".join(str(part) for part in item["loc"]) + ": " + item["msg"] for item in error.errors()
    )


def load_apps_file(path: str) -> List[AppBody]:
    """`--apps-file`: a JSON list of app objects (see AppBody); a clear error names what is
    wrong."""
    try:
        with open(path, encoding="utf-8") as handle:
            data: Any = json.load(handle)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise argparse.ArgumentTypeError(f"{path} must hold a JSON list of apps")
    apps: List[AppBody] = []
    for index, item in enumerate(data):
        try:
            apps.append(AppBody.parse_obj(item))
        except ValidationError as exc:
            raise argparse.ArgumentTypeError(f"{path}, app {index}: {_describe(exc)}") from None
    ids = [app.appId for app in apps]
    if len(set(ids)) != len(ids):
        raise argparse.ArgumentTypeError(f"{path}: an app id appears twice")
    return apps
