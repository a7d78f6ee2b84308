"""The channel's credentials: what credentials.yml gives `rasa_zendesk.ZendeskInput`.

Rasa expands `${VAR}` in credentials.yml from the environment, but only in unquoted values: a
quoted `"${VAR}"` stays literally `${VAR}`, and a variable set to an empty string gives "".
Both mean "not configured" here, and a setting that credentials.yml leaves out (or unexpanded)
is taken from its environment variable, so the channel and the action server can share one
configuration. A required setting missing from both stops start-up with a `SettingsError` that
names the setting and its variable, never a value.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from rasa_zendesk.channel.attachment_links import LinkSettings
from rasa_zendesk.channel.tracker_cache.base import DEFAULT_CACHE_MAX_MB, DEFAULT_CACHE_SIZE
from rasa_zendesk.settings import (
    Connectors,
    HandoffSettings,
    PlatformSettings,
    SettingsError,
    Sources,
    ZendeskSettings,
    check,
    configured,
    environment,
)

#: Largest webhook body accepted. SunCo caps a message at 100 kB of JSON and a webhook post
#: carries a handful of events, so 1 MiB is ample and keeps a flood from costing memory.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
#: The socket.io event that carries agent typing to a web chat (`{"typing": bool, ...}`).
DEFAULT_TYPING_EVENT = "agent_typing"
#: A metrics token shorter than this is too easy to guess.
METRICS_TOKEN_MIN_CHARS = 16


@dataclass(frozen=True)
class ChannelConfig:
    """Validated channel settings; each connector's are shared with its SunCo client."""

    connectors: Connectors
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    typing_event: str = DEFAULT_TYPING_EVENT
    #: Conversations whose trackers are kept between webhooks (SQL, Redis stores; 0: none).
    tracker_cache_size: int = DEFAULT_CACHE_SIZE
    #: The memory those trackers may take, at most (MiB, estimated).
    tracker_cache_max_mb: int = DEFAULT_CACHE_MAX_MB
    #: Timeouts, the notices, the action after a handoff: shared with the action server.
    handoff: HandoffSettings = HandoffSettings()
    #: `GET /webhooks/zendesk/metrics` is served (Prometheus); off by default.
    metrics: bool = False
    #: The bearer token of the metrics route, required when `metrics` is on. Never the
    #: webhook secret: a scraper's configuration must not hold a key that forges webhooks.
    metrics_token: Optional[str] = field(default=None, repr=False)
    #: Private attachments as links the channel serves: `public_url`, `attachment_link_ttl`,
    #: each connector's `private_attachments` (see `attachment_links`).
    attachments: LinkSettings = LinkSettings()
    #: `gc.freeze()` once the server has started (the model loaded): its objects leave the
    #: garbage collector's generations, so full collections stop walking them (`gc_freeze`).
    gc_freeze: bool = False
    #: `platform_send_timeout`: read here once, given to every output channel that sends
    #: (`platforms.outputs.agent_output`), never read again per send.
    sending: PlatformSettings = PlatformSettings()

    @property
    def settings(self) -> ZendeskSettings:
        """The default connector (the only one, in the simple case)."""
        return self.connectors.default

    @property
    def tracker_cache_max_bytes(self) -> int:
        return self.tracker_cache_max_mb * 1024 * 1024

    @classmethod
    def from_credentials(
        cls,
        credentials: Optional[Mapping[str, Any]],
        environ: Optional[Mapping[str, str]] = None,
    ) -> ChannelConfig:
        """Read credentials.yml values, falling back to the environment for the connection."""
        env = environment() if environ is None else environ
        given = {key: configured(value) for key, value in (credentials or {}).items()}
        sources = Sources(credentials, env)
        connectors = Connectors.read(sources)
        # The groups the action server reads from the environment stop this one here too,
        # naming the setting, not at a user's first message.
        check(Sources(None, env, where="the environment"))
        metrics = sources.flag("metrics", False)
        return cls(
            connectors=connectors,
            max_body_bytes=_whole_number(given, "max_body_bytes", DEFAULT_MAX_BODY_BYTES, 1),
            typing_event=given.get("typing_event") or DEFAULT_TYPING_EVENT,
            tracker_cache_size=_whole_number(given, "tracker_cache_size", DEFAULT_CACHE_SIZE, 0),
            tracker_cache_max_mb=_whole_number(
                given, "tracker_cache_max_mb", DEFAULT_CACHE_MAX_MB, 1
            ),
            handoff=HandoffSettings.read(sources),
            metrics=metrics,
            metrics_token=_metrics_token(sources, metrics, connectors),
            attachments=LinkSettings.read(sources, connectors),
            gc_freeze=sources.flag("gc_freeze", False),
            sending=PlatformSettings.read(sources),
        )


def _metrics_token(sources: Sources, metrics: bool, connectors: Connectors) -> Optional[str]:
    """`metrics_token` (`ZENDESK_METRICS_TOKEN`): a secret of its own for the metrics route,
    required when the metrics are on, and none of the webhook secrets (a scraper's
    configuration must not hold a key that can forge webhooks)."""
    token = sources.text("metrics_token")
    named = f"Zendesk setting metrics_token ({sources.env_name('metrics_token')})"
    if metrics and token is None:
        raise SettingsError(
            f"{named} is required when metrics is on: a secret of its own, at least "
            f"{METRICS_TOKEN_MIN_CHARS} characters (the webhook secret is never accepted there)"
        )
    if token is None:
        return None
    if len(token) < METRICS_TOKEN_MIN_CHARS or any(c.isspace() for c in token):
        raise SettingsError(
            f"{named} must be at least {METRICS_TOKEN_MIN_CHARS} characters without spaces"
        )
    secrets = (connector.webhook_secret for connector in connectors.by_name.values())
    if any(hmac.compare_digest(token.encode(), secret.encode()) for secret in secrets if secret):
        raise SettingsError(f"{named} must not be a webhook secret: give it a secret of its own")
    return token


def _whole_number(given: Mapping[str, Optional[str]], name: str, default: int, least: int) -> int:
    value = given.get(name)
    if value is None:
        return default
    try:
        number: Optional[int] = int(value)
    except ValueError:
        number = None
    if number is None or number < least:
        kind = "a positive whole number" if least > 0 else "a whole number, 0 or more"
        raise SettingsError(f"Zendesk setting {name} must be {kind}")
    return number
