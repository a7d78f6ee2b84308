"""Emulator settings and the command line that sets them (`python -m` and `rasa-zendesk`)."""

import argparse
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

DEFAULT_RETRY_DELAYS: Tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)


@dataclass
class EmulatorConfig:
    """Everything the emulator needs; the defaults are the demo's credentials."""

    host: str = "127.0.0.1"
    port: int = 8090
    app_id: str = "app_demo"
    key_id: str = "key_demo"
    key_secret: str = "secret_demo"
    webhook_urls: List[str] = field(default_factory=list)
    webhook_secret: str = "whsec_demo"
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

    def __repr__(self) -> str:  # never show the secrets, e.g. in a failing test's output
        return (
            f"EmulatorConfig(host={self.host!r}, port={self.port}, app_id={self.app_id!r}, "
            f"key_id={self.key_id!r}, webhook_urls={self.webhook_urls!r})"
        )


def url_host(host: str) -> str:
    """The host part of a URL that reaches a server bound to `host`."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


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
    parser.add_argument("--host", default=d.host, help="interface to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=d.port, help="0 picks a free port")
    parser.add_argument("--app-id", default=d.app_id, help="SunCo app id (default %(default)s)")
    parser.add_argument("--key-id", default=d.key_id, help="API key id (default %(default)s)")
    parser.add_argument("--key-secret", default=d.key_secret, help="API key secret")
    parser.add_argument(
        "--webhook-url",
        action="append",
        dest="webhook_urls",
        metavar="URL",
        default=[],
        help="where to POST webhooks; repeat it to spread deliveries round-robin "
        "(also settable later: POST /_emulator/webhook-config)",
    )
    parser.add_argument("--webhook-secret", default=d.webhook_secret, help="sent as X-API-Key")
    parser.add_argument(
        "--webhook-retry-delays",
        type=_delays,
        default=d.webhook_retry_delays,
        help="seconds between webhook attempts (default 0.5,1,2,4: 5 attempts)",
    )
    parser.add_argument(
        "--webhook-timeout", type=float, default=d.webhook_timeout, help="seconds per attempt"
    )
    parser.add_argument(
        "--bot-integration-name",
        default=d.bot_integration_name,
        help="name of the bot's switchboard integration (default %(default)s)",
    )
    parser.add_argument("--agent-name", default=d.agent_name, help="default agent display name")
    parser.add_argument("--public-url", default=None, help="base URL put in media URLs")
    parser.add_argument(
        "--hang-seconds", type=float, default=d.hang_seconds, help=argparse.SUPPRESS
    )
    parser.add_argument("--quiet", action="store_true", help="log warnings only")


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
    )


def build_parser(prog: Optional[str] = None) -> argparse.ArgumentParser:
    """The emulator's own parser (for `python -m rasa_zendesk.emulator`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Local Zendesk Conversations (Sunshine Conversations v2) emulator "
        "with an agent console.",
    )
    add_arguments(parser)
    return parser


def parse_config(argv: Optional[Sequence[str]] = None) -> Tuple[EmulatorConfig, bool]:
    """Parse `argv` into a config and the quiet flag."""
    args = build_parser("python -m rasa_zendesk.emulator").parse_args(argv)
    return config_from_args(args), args.quiet
