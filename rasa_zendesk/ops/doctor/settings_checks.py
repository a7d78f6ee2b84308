"""The settings, read by the servers' own parser: the channel's (credentials.yml keys, else
`ZENDESK_*`) and the action server's (`ZENDESK_*` only). A secret is never shown: only that it
is set, its length, and for a long one its last 4 characters."""

from __future__ import annotations

from typing import Mapping, Optional

from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.ops.doctor.result import Findings
from rasa_zendesk.settings import Connectors, SettingsError, Sources, ZendeskSettings

AREA = "settings"
#: Below this length a secret's last 4 characters would give away too much of it.
HINT_MIN_CHARS = 16
SHOWN = (
    "subdomain",
    "app_id",
    "key_id",
    "api_url",
    "agent_workspace",
    "support_oauth_client_id",
    "csat_field_id",
)
SECRETS = (
    "key_secret",
    "webhook_secret",
    "ticket_webhook_secret",
    "ticket_webhook_api_key",
    "support_oauth_token",
    "support_oauth_client_secret",
)


def secret_hint(value: Optional[str]) -> str:
    """`set (32 chars, ends ...abcd)`, or `not set`; never the value."""
    if not value:
        return "not set"
    if len(value) < HINT_MIN_CHARS:
        return f"set ({len(value)} chars)"
    return f"set ({len(value)} chars, ends ...{value[-4:]})"


def check_settings(
    credentials: Optional[Mapping[str, object]],
    findings: Findings,
    environ: Optional[Mapping[str, str]] = None,
) -> Optional[ChannelConfig]:
    """The channel's settings (None when they stop the Rasa server), then the action
    server's, which must name the same Zendesk apps."""
    try:  # `environ` None: the settings read the process's environment themselves
        config = ChannelConfig.from_credentials(credentials or {}, environ)
    except SettingsError as error:
        findings.failed(
            AREA,
            "Rasa server",
            str(error),
            "set it in credentials.yml under rasa_zendesk.ZendeskInput, or its variable",
        )
        return None
    for connector in config.connectors.by_name.values():
        findings.passed(AREA, f"connector {connector.name}", _described(connector))
    findings.passed(
        AREA,
        "metrics",
        "on, token " + secret_hint(config.metrics_token or None)
        if config.metrics
        else "off (metrics: true or ZENDESK_METRICS=true serves them)",
    )
    _check_action_server(config.connectors, findings, environ)
    return config


def _described(connector: ZendeskSettings) -> str:
    shown = [f"{name} {getattr(connector, name)}" for name in SHOWN if getattr(connector, name)]
    hidden = [f"{name} {secret_hint(getattr(connector, name))}" for name in SECRETS]
    return ", ".join(shown + hidden) + f"; API {connector.base_url}"


def _check_action_server(
    channel: Connectors, findings: Findings, environ: Optional[Mapping[str, str]]
) -> None:
    what = "action server"
    fix = "export the same ZENDESK_* variables to the action server (it reads no credentials.yml)"
    try:
        actions = Connectors.read(Sources(None, environ, where="the environment"))
    except SettingsError as error:
        findings.failed(AREA, what, str(error), fix)
        return
    differ = [
        name
        for name, connector in channel.by_name.items()
        if name not in actions.by_name or _identity(actions.by_name[name]) != _identity(connector)
    ]
    if differ:
        findings.failed(
            AREA,
            what,
            f"the environment names other Zendesk apps than credentials.yml for connector(s) "
            f"{', '.join(differ)} (app_id, key or secrets differ)",
            fix,
        )
    else:
        findings.passed(AREA, what, "the environment gives the same connectors")


def _identity(connector: ZendeskSettings) -> tuple:
    return (
        connector.app_id,
        connector.key_id,
        connector.key_secret,
        connector.webhook_secret,
        connector.base_url,
    )
