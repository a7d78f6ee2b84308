"""The plugin's settings, read from credentials.yml or the environment by one parser.

The Rasa channel and the action server run in different processes but must talk to the same
Zendesk app and time a handoff alike; both read the same `ZENDESK_*` variables (the channel
first takes its keys in credentials.yml). A setting in the wrong form stops start-up with a
`SettingsError` that names it and its variable, never a value.
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


class Sources:
    """Where a setting is read from, the same way in both servers: the channel's key in
    credentials.yml when given, else the environment variable `ZENDESK_<NAME>`."""

    def __init__(
        self,
        given: Optional[Mapping[str, Any]] = None,
        environ: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._given = {key: configured(value) for key, value in (given or {}).items()}
        self._env = os.environ if environ is None else environ

    @staticmethod
    def env_name(name: str) -> str:
        return f"ZENDESK_{name.upper()}"

    def text(self, name: str) -> Optional[str]:
        return self._given.get(name) or configured(self._env.get(self.env_name(name)))

    def seconds(self, name: str, default: int) -> int:
        """A whole number of seconds, 0 or more (0: off)."""
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = -1
        if number < 0:
            raise SettingsError(
                f"Zendesk setting {name} ({self.env_name(name)}) must be a whole number of "
                f"seconds, 0 or more (0 turns it off), for example {name}: {default}"
            )
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in ("true", "yes", "on", "1"):
            return True
        if value.lower() in ("false", "no", "off", "0"):
            return False
        raise SettingsError(f"Zendesk setting {name} ({self.env_name(name)}) must be true or false")


@dataclass(frozen=True)
class HandoffSettings:
    """How a handoff behaves over time; read alike by the Rasa server and the action server.

    - `agent_timeout` (600 s): no agent message that long after the handoff: the user is told
      and offered to keep waiting, leave a message or go back to the bot. 0: off.
    - `idle_timeout` (0 s, off): no message from either side that long: the handoff ends.
    - `max_duration` (86400 s): no handoff outlives it, whatever was lost on the way.
    - `agent_joined_notice` (true): tell the user who joined, before the agent's first message.
    - `after_handoff_action`: an action the bot runs right after the user was told the handoff
      ended (a satisfaction question, say); none by default.
    """

    agent_timeout: int = 600
    idle_timeout: int = 0
    max_duration: int = 86400
    agent_joined_notice: bool = True
    after_handoff_action: Optional[str] = None

    @classmethod
    def read(cls, sources: Sources) -> HandoffSettings:
        defaults = cls()
        return cls(
            agent_timeout=sources.seconds("agent_timeout", defaults.agent_timeout),
            idle_timeout=sources.seconds("idle_timeout", defaults.idle_timeout),
            max_duration=sources.seconds("max_duration", defaults.max_duration),
            agent_joined_notice=sources.flag("agent_joined_notice", True),
            after_handoff_action=sources.text("after_handoff_action"),
        )
