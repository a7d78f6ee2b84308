"""Emulator settings and the command line that sets them (`python -m` and `rasa-zendesk`)."""

import argparse
from dataclasses import dataclass, field, replace
from typing import List, Optional, Sequence, Tuple

from .apps import AppBody, check_header_name, load_apps_file, secret_value
from .webhook_formats import DEFAULT_API_KEY_HEADER

DEFAULT_RETRY_DELAYS: Tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
DEFAULT_KEY_SECRET = "secret_demo"
DEFAULT_WEBHOOK_SECRET = "whsec_demo"
DEFAULT_TICKET_WEBHOOK_SECRET = "tkwh_demo"
DEFAULT_ACCOUNT_ID = 1000001
DEFAULT_SUPPORT_OAUTH_TOKEN = "zdoauth_demo"
#: The confidential OAuth client the account has (`client_credentials` tokens).
DEFAULT_SUPPORT_OAUTH_CLIENT_ID = "rasa_zendesk_demo"
DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET = "zdclient_demo"
APPS_FILE_EXAMPLE = (
    '[{"appId": "app_b", "keyId": "key_b", "keySecret": "...", '
    '"webhookUrls": ["http://localhost:5005/webhooks/zendesk/webhook"], "webhookSecret": "...", '
    '"ticketWebhookUrls": [], "ticketWebhookSecret": "...", "ticketWebhookApiKey": null, '
    '"ticketWebhookApiKeyHeader": "X-API-Key", "accountId": 1000002, "name": "b"}]'
)


@dataclass
class EmulatorConfig:
    """Everything the emulator needs; the defaults are the demo's credentials."""

    host: str = "127.0.0.1"
    port: int = 8090
    app_id: str = "app_demo"
    key_id: str = "key_demo"
    key_secret: str = DEFAULT_KEY_SECRET
    webhook_urls: List[str] = field(default_factory=list)
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    # Delays between webhook attempts: len + 1 attempts (SunCo makes up to 5).
    webhook_retry_delays: Tuple[float, ...] = DEFAULT_RETRY_DELAYS
    # SunCo counts no answer within 20 s as a failed attempt.
    webhook_timeout: float = 20.0
    # Name of the bot's own switchboard integration, active when a conversation starts.
    bot_integration_name: str = "rasa"
    agent_name: str = "Alex (Zendesk agent)"
    # Base of the media URLs the emulator hands out; default: the address the client used.
    public_url: Optional[str] = None
    # How long a "hang" fault holds a call before giving up on the client.
    hang_seconds: float = 60.0
    # Zendesk Support's ticket-status event webhooks of the app's account (signed, see
    # webhook_formats); the API key header is sent only when a key is set.
    account_id: int = DEFAULT_ACCOUNT_ID
    ticket_webhook_urls: List[str] = field(default_factory=list)
    ticket_webhook_secret: str = DEFAULT_TICKET_WEBHOOK_SECRET
    ticket_webhook_api_key: Optional[str] = None
    ticket_webhook_api_key_header: str = DEFAULT_API_KEY_HEADER
    # Zendesk gives a webhook 12 s to answer.
    ticket_webhook_timeout: float = 12.0
    # Apps served besides the default one (whose settings are the fields above).
    apps: List[AppBody] = field(default_factory=list)
    # A name for the app (a connector's name), shown next to its id; default: the app id.
    app_name: Optional[str] = None
    # The OAuth access token the Support API (/api/v2/...) accepts as Bearer; empty: none.
    support_oauth_token: str = DEFAULT_SUPPORT_OAUTH_TOKEN
    # The OAuth client whose credentials `POST /oauth/tokens` takes; empty id: none.
    support_oauth_client_id: str = DEFAULT_SUPPORT_OAUTH_CLIENT_ID
    support_oauth_client_secret: str = DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET

    def __repr__(self) -> str:  # never show the secrets, e.g. in a failing test's output
        return (
            f"EmulatorConfig(host={self.host!r}, port={self.port}, app_id={self.app_id!r}, "
            f"key_id={self.key_id!r}, webhook_urls={self.webhook_urls!r}, "
            f"ticket_webhook_urls={self.ticket_webhook_urls!r}, "
            f"apps={[app.appId for app in self.apps]!r})"
        )

    def for_app(self, app: AppBody, account_id: int) -> "EmulatorConfig":
        """The settings of an extra app: its own credentials and webhooks, the server's rest."""
        return replace(
            self,
            app_id=app.appId,
            app_name=app.name,
            key_id=app.keyId,
            key_secret=app.keySecret.get_secret_value(),
            webhook_urls=list(app.webhookUrls),
            webhook_secret=secret_value(app.webhookSecret, DEFAULT_WEBHOOK_SECRET),
            account_id=app.accountId or account_id,
            ticket_webhook_urls=list(app.ticketWebhookUrls),
            ticket_webhook_secret=secret_value(
                app.ticketWebhookSecret, DEFAULT_TICKET_WEBHOOK_SECRET
            ),
            ticket_webhook_api_key=secret_value(app.ticketWebhookApiKey, None),
            ticket_webhook_api_key_header=app.ticketWebhookApiKeyHeader or DEFAULT_API_KEY_HEADER,
            apps=[],
        )


def url_host(host: str) -> str:
    """The host part of a URL that reaches a server bound to `host`."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


#: The webhook route of a Rasa server on its default port (`rasa run`).
LOCAL_RASA_WEBHOOK = "http://localhost:5005/webhooks/zendesk/webhook"


def environment_lines(config: EmulatorConfig, api_url: str) -> List[str]:
    """The ZENDESK_* lines that point the Rasa server and the action server at this emulator.

    A secret is printed only when it is the emulator's own demo default (public, in the
    README); one given on the command line is named by its option instead, never shown.
    """

    def secret(value: str, default: str, option: str) -> str:
        return value if value == default else f"<the {option} you gave>"

    lines = [
        "export ZENDESK_SUBDOMAIN=demo",
        f"export ZENDESK_APP_ID={config.app_id}",
        f"export ZENDESK_KEY_ID={config.key_id}",
        "export ZENDESK_KEY_SECRET="
        + secret(config.key_secret, DEFAULT_KEY_SECRET, "--key-secret"),
        "export ZENDESK_WEBHOOK_SECRET="
        + secret(config.webhook_secret, DEFAULT_WEBHOOK_SECRET, "--webhook-secret"),
        f"export ZENDESK_API_URL={api_url}",
    ]
    if config.ticket_webhook_urls:
        lines.append(
            "export ZENDESK_TICKET_WEBHOOK_SECRET="
            + secret(
                config.ticket_webhook_secret,
                DEFAULT_TICKET_WEBHOOK_SECRET,
                "--ticket-webhook-secret",
            )
        )
    return lines


def _epilog() -> str:
    defaults = EmulatorConfig()
    api_url = f"http://{url_host(defaults.host)}:{defaults.port}/sc"
    exports = "".join(f"  {line}\n" for line in environment_lines(defaults, api_url))
    return (
        "For your own bot, with `rasa run` on its default port:\n"
        f"  rasa-zendesk emulator --webhook-url {LOCAL_RASA_WEBHOOK}\n"
        "At start it prints the lines to paste into the shells of `rasa run` and "
        "`rasa run actions`;\nwith the defaults above they are:\n" + exports
    )


def _delays(text: str) -> Tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds like 0.5,1,2,4, got {text!r}") from None
    if any(value < 0 for value in values) or len(values) > 10:
        raise argparse.ArgumentTypeError("delays must be 0..10 non-negative numbers")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the emulator's options on `parser`."""
    d = EmulatorConfig()
    add = parser.add_argument
    add("--host", default=d.host, help="interface to bind (default %(default)s)")
    add("--port", type=int, default=d.port, help="0 picks a free port (default %(default)s)")
    add("--app-id", default=d.app_id, help="SunCo app id (default %(default)s)")
    add("--key-id", default=d.key_id, help="API key id (default %(default)s)")
    add("--key-secret", default=d.key_secret, help="API key secret (default %(default)s)")
    add(
        "--webhook-url",
        action="append",
        dest="webhook_urls",
        metavar="URL",
        default=[],
        help="where to POST webhooks; repeat it to spread deliveries round-robin "
        "(also settable later: POST /_emulator/webhook-config; default none)",
    )
    add(
        "--webhook-secret",
        default=d.webhook_secret,
        help="sent as X-API-Key (default %(default)s)",
    )
    add(
        "--webhook-retry-delays",
        type=_delays,
        default=d.webhook_retry_delays,
        help="seconds between webhook attempts, SunCo's and ticket ones "
        "(default 0.5,1,2,4: 5 attempts)",
    )
    add(
        "--webhook-timeout",
        type=float,
        default=d.webhook_timeout,
        help="seconds per attempt (default %(default)s)",
    )
    add(
        "--ticket-webhook-url",
        action="append",
        dest="ticket_webhook_urls",
        metavar="URL",
        default=[],
        help="where to POST Zendesk ticket-status webhooks "
        "(zen:event-type:ticket.status_changed); repeatable (also settable later: "
        "POST /_emulator/ticket-webhook-config; default none)",
    )
    add(
        "--ticket-webhook-secret",
        default=d.ticket_webhook_secret,
        help="signing secret of ticket webhooks: X-Zendesk-Webhook-Signature = "
        "base64(HMAC-SHA256(secret, timestamp + body)) (default %(default)s)",
    )
    add(
        "--ticket-webhook-api-key",
        default=d.ticket_webhook_api_key,
        help="also send this API key with ticket webhooks (Zendesk's API key "
        "authentication; default: none, not sent)",
    )
    add(
        "--ticket-webhook-api-key-header",
        type=_header_name,
        default=d.ticket_webhook_api_key_header,
        help="header that carries --ticket-webhook-api-key (default %(default)s)",
    )
    add(
        "--ticket-webhook-timeout",
        type=float,
        default=d.ticket_webhook_timeout,
        help="seconds per ticket webhook attempt (default %(default)s, as Zendesk)",
    )
    add(
        "--account-id",
        type=int,
        default=d.account_id,
        help="Zendesk account id of the default app, in ticket webhooks (default %(default)s)",
    )
    add(
        "--apps-file",
        type=load_apps_file,
        default=[],
        metavar="PATH",
        help="serve more SunCo apps besides the default one: a JSON list of apps, each with "
        "its own key, webhooks and ticket webhooks, as the body of POST /_emulator/apps "
        "(default none). appId, keyId and keySecret are required; left out, webhookSecret is "
        f"{DEFAULT_WEBHOOK_SECRET}, ticketWebhookSecret {DEFAULT_TICKET_WEBHOOK_SECRET}, "
        "the API key header X-API-Key (no key: not sent), accountId the next free one. "
        "E.g. " + APPS_FILE_EXAMPLE.replace("%", "%%"),
    )
    add(
        "--bot-integration-name",
        default=d.bot_integration_name,
        help="name of the bot's switchboard integration (default %(default)s)",
    )
    add(
        "--agent-name",
        default=d.agent_name,
        help="default agent display name (default %(default)s)",
    )
    add(
        "--public-url",
        default=None,
        help="base URL put in media URLs (default: the address the client used)",
    )
    add(
        "--support-oauth-token",
        default=d.support_oauth_token,
        help="OAuth access token the Zendesk Support API (/api/v2/: business hours, agent "
        "availability) accepts as Authorization: Bearer (default %(default)s; also settable "
        "later: POST /_emulator/support)",
    )
    add(
        "--support-oauth-client-id",
        default=d.support_oauth_client_id,
        help="identifier of the account's confidential OAuth client (client_credentials "
        "tokens at POST /oauth/tokens); empty: none",
    )
    add(
        "--support-oauth-client-secret",
        default=d.support_oauth_client_secret,
        help="that client's secret",
    )
    add("--hang-seconds", type=float, default=d.hang_seconds, help=argparse.SUPPRESS)
    add("--quiet", action="store_true", help="log warnings only (default: info)")


EMULATOR_EPILOG = _epilog()


def _header_name(text: str) -> str:
    try:
        return str(check_header_name(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} {exc}") from None


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Build the config from parsed options."""
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        app_id=args.app_id,
        key_id=args.key_id,
        key_secret=args.key_secret,
        webhook_urls=list(args.webhook_urls),
        webhook_secret=args.webhook_secret,
        webhook_retry_delays=tuple(args.webhook_retry_delays),
        webhook_timeout=args.webhook_timeout,
        bot_integration_name=args.bot_integration_name,
        agent_name=args.agent_name,
        public_url=args.public_url.rstrip("/") if args.public_url else None,
        hang_seconds=args.hang_seconds,
        account_id=args.account_id,
        ticket_webhook_urls=list(args.ticket_webhook_urls),
        ticket_webhook_secret=args.ticket_webhook_secret,
        ticket_webhook_api_key=args.ticket_webhook_api_key,
        ticket_webhook_api_key_header=args.ticket_webhook_api_key_header,
        ticket_webhook_timeout=args.ticket_webhook_timeout,
        apps=list(args.apps_file),
        support_oauth_token=args.support_oauth_token,
        support_oauth_client_id=args.support_oauth_client_id,
        support_oauth_client_secret=args.support_oauth_client_secret,
    )


def build_parser(prog: Optional[str] = None) -> argparse.ArgumentParser:
    """The emulator's own parser (for `python -m rasa_zendesk.emulator`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Local Zendesk Conversations (Sunshine Conversations v2) emulator "
        "with an agent console.",
        epilog=EMULATOR_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def parse_config(argv: Optional[Sequence[str]] = None) -> Tuple[EmulatorConfig, bool]:
    """Parse `argv` into a config and the quiet flag."""
    args = build_parser("python -m rasa_zendesk.emulator").parse_args(argv)
    return config_from_args(args), args.quiet
