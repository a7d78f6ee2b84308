"""Zendesk connection settings, read once from credentials.yml or the environment.

The Rasa channel and the action server run in different processes but must talk to the same
Zendesk app; both build a `ZendeskSettings` from the same environment variables.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

REQUIRED = ("subdomain", "app_id", "key_id", "key_secret", "webhook_secret")
ENV_NAMES = {
    "subdomain": "ZENDESK_SUBDOMAIN",
    "app_id": "ZENDESK_APP_ID",
    "key_id": "ZENDESK_KEY_ID",
    "key_secret": "ZENDESK_KEY_SECRET",
    "webhook_secret": "ZENDESK_WEBHOOK_SECRET",
    "api_url": "ZENDESK_API_URL",
}


_UNEXPANDED = re.compile(r"^\$\{[^}]*\}$")


def configured(value: Any) -> Optional[str]:
    """The value as text, or None when it is absent, blank, or an unexpanded `${VAR}`.

    Rasa expands `${VAR}` in credentials.yml only in unquoted values; a quoted one stays
    literal, and an empty variable gives "". All of these mean "not configured".
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text or _UNEXPANDED.match(text):
        return None
    return text


class SettingsError(ValueError):
    """A required Zendesk setting is missing or empty (the message names it, never a value)."""


@dataclass(frozen=True)
class ZendeskSettings:
    subdomain: str
    app_id: str
    key_id: str
    key_secret: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_url: Optional[str] = None

    @property
    def base_url(self) -> str:
        """The SunCo API root: the override if given, else the Zendesk-hosted `/sc` root."""
        if self.api_url:
            return self.api_url.rstrip("/")
        return f"https://{self.subdomain}.zendesk.com/sc"

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], source: str = "credentials"
    ) -> ZendeskSettings:
        def clean(name: str) -> Optional[str]:
            return configured(values.get(name))

        missing = [name for name in REQUIRED if not clean(name)]
        if missing:
            described = ", ".join(f"{name} ({ENV_NAMES[name]})" for name in missing)
            raise SettingsError(f"Zendesk settings missing in {source}: {described}")
        return cls(
            subdomain=clean("subdomain"),  # type: ignore[arg-type]
            app_id=clean("app_id"),  # type: ignore[arg-type]
            key_id=clean("key_id"),  # type: ignore[arg-type]
            key_secret=clean("key_secret"),  # type: ignore[arg-type]
            webhook_secret=clean("webhook_secret"),  # type: ignore[arg-type]
            api_url=clean("api_url"),
        )

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> ZendeskSettings:
        env = os.environ if environ is None else environ
        values = {name: env.get(var) for name, var in ENV_NAMES.items()}
        return cls.from_mapping(values, source="the environment")
