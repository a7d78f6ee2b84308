"""The plugin's settings, read from credentials.yml or the environment by one parser.

The Rasa channel and the action server run in different processes but must talk to the same
Zendesk app and time a handoff alike; both read the same `ZENDESK_*` variables (the channel
first takes its keys in credentials.yml). A setting in the wrong form stops start-up with a
`SettingsError` that names it and its variable, never a value.
"""

from __future__ import annotations

import os
import re
from collections import ChainMap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from rasa_zendesk.escalation import KINDS
from rasa_zendesk.schedule import EXAMPLE as SCHEDULE_EXAMPLE
from rasa_zendesk.schedule import Schedule, ScheduleError, parse_holidays
from rasa_zendesk.schedule import parse as parse_schedule

#: The connection settings a connector cannot do without.
REQUIRED = ("subdomain", "app_id", "key_id", "key_secret", "webhook_secret")
#: The scopes a client-credentials token is asked for: reads (business hours, agents online)
#: and ticket writes (the CSAT rating).
DEFAULT_SUPPORT_SCOPE = "read tickets:write"
#: The day Zendesk stops accepting API tokens.
API_TOKENS_END = "30 Apr 2027"
#: The name of the unnamed connector: credentials.yml's top-level keys, `ZENDESK_<SETTING>`.
DEFAULT_CONNECTOR = "default"
#: Zendesk's "API key" authentication of a webhook: the header it sends, unless told otherwise.
DEFAULT_API_KEY_HEADER = "X-API-Key"
#: Connector names become URL segments and parts of variable names; these are routes already.
RESERVED_NAMES = frozenset(
    {"webhook", "ticket_status", "health", "metrics", "attachments", DEFAULT_CONNECTOR}
)
_CONNECTOR_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


_UNEXPANDED = re.compile(r"^\$\{[^}]*\}$")

#: The settings file of a bot's folder (`rasa-zendesk emulator --env-file zendesk.env` writes
#: one): `ZENDESK_<NAME>=value` lines that both servers and doctor read under the environment,
#: so no command depends on a shell's exports.
ENV_FILE = "zendesk.env"
_ENV_LINE = re.compile(r"^(?:export\s+)?(ZENDESK_[A-Z0-9_]+)=(.*)$")


def read_env_file(path: Path) -> Dict[str, str]:
    """The `ZENDESK_*` values of a settings file (none when it is absent). Blank lines and
    `#` comments are skipped, an `export ` prefix and quotes around a value are allowed; any
    other line stops start-up naming the file and the line's number, never its text."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path} cannot be read ({type(error).__name__})") from None
    values: Dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise SettingsError(
                f"{path} line {number}: expected ZENDESK_<NAME>=value (a comment starts with #)"
            )
        value = match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[match.group(1)] = value
    return values


def environment(folder: Optional[Path] = None) -> Mapping[str, str]:
    """The settings' environment: the process's variables over `ENV_FILE` in `folder` (default:
    the current folder, where `rasa run` and `rasa run actions` start); a variable set wins."""
    return ChainMap(os.environ, read_env_file((folder or Path.cwd()) / ENV_FILE))


def configured(value: Any) -> Optional[str]:
    """The value as text, or None when it is absent, blank, or an unexpanded `${VAR}`.

    Rasa expands `${VAR}` in credentials.yml only in unquoted values; a quoted one stays
    literal, and an empty variable gives "". All of these mean "not configured".
    """
    if value is None or isinstance(value, Mapping):
        return None
    text = str(value).strip()
    if not text or _UNEXPANDED.match(text):
        return None
    return text


class SettingsError(ValueError):
    """A Zendesk setting is missing or in the wrong form (the message names it, never a value)."""


class MissingSettings(SettingsError):
    """Required Zendesk settings are not given (the message names each, never a value)."""


class Sources:
    """Where a setting is read from, the same way in both servers: the channel's key in
    credentials.yml when given, else the environment variable (`ZENDESK_<NAME>`; for a named
    connector `ZENDESK_CONNECTOR_<CONNECTOR>_<NAME>`)."""

    def __init__(
        self,
        given: Optional[Mapping[str, Any]] = None,
        environ: Optional[Mapping[str, str]] = None,
        prefix: str = "ZENDESK_",
        where: str = "credentials.yml (rasa_zendesk.ZendeskInput) or the environment",
    ) -> None:
        self._raw = dict(given or {})
        self._given = {key: configured(value) for key, value in self._raw.items()}
        self._env = environment() if environ is None else environ
        self._prefix = prefix
        self.where = where

    def env_name(self, name: str) -> str:
        return f"{self._prefix}{name.upper()}"

    def text(self, name: str) -> Optional[str]:
        return self._given.get(name) or configured(self._env.get(self.env_name(name)))

    def connector(self, name: str) -> Sources:
        """The sources of a named connector: credentials.yml's `connectors: {name: {...}}`,
        else `ZENDESK_CONNECTOR_<NAME>_<SETTING>`."""
        nested = self._raw.get("connectors")
        given = nested.get(name) if isinstance(nested, Mapping) else None
        return Sources(
            given if isinstance(given, Mapping) else None,
            self._env,
            prefix=f"{self._prefix}CONNECTOR_{name.upper()}_",
            where=f"connector {name} ({self._prefix}CONNECTOR_{name.upper()}_*)",
        )

    def verbatim(self, name: str) -> str:
        """The text as given, its spaces kept (where `text` strips them)."""
        given = self._raw.get(name)
        if configured(given) is not None:
            return str(given)
        return str(self._env.get(self.env_name(name), ""))

    def raw(self, name: str) -> Any:
        """The credentials.yml value as given (a list or mapping stays one)."""
        return self._raw.get(name)

    def names(self, name: str, default: Tuple[str, ...] = ()) -> Tuple[str, ...]:
        """A comma-separated list (a mapping's keys in credentials.yml), in order, once each;
        `default` when it is not given."""
        raw = self._raw.get(name)
        if isinstance(raw, Mapping):
            items: List[str] = [str(key) for key in raw]
        elif isinstance(raw, (list, tuple)):
            items = [str(item) for item in raw]
        else:
            items = (self.text(name) or "").split(",")
        return tuple(dict.fromkeys(item.strip() for item in items if item.strip())) or default

    def seconds(self, name: str, default: int) -> int:
        """A whole number of seconds, 0 or more (0: off)."""
        return self._number(
            name, default, int, 0, "a whole number of seconds, 0 or more (0 turns it off)"
        )

    def duration(self, name: str, default: float) -> float:
        """A positive number of seconds, fractions allowed."""
        return self._number(name, default, float, 1e-9, "a positive number of seconds")

    def positive(self, name: str, default: int, unit: str) -> int:
        """A whole number of `unit` ("seconds", "files", ...), 1 or more."""
        return self._number(name, default, int, 1, f"a whole number of {unit}, 1 or more")

    def _number(self, name: str, default: Any, parse: Any, least: float, kind: str) -> Any:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = parse(value)
        except ValueError:
            number = None
        if number is None or not number >= least:
            raise SettingsError(
                f"Zendesk setting {name} ({self.env_name(name)}) must be {kind}, "
                f"for example {name}: {default}"
            )
        return number

    def pairs(self, name: str, form: str, example: str) -> Dict[str, str]:
        """`key=value` pairs, comma-separated (a mapping in credentials.yml), in order."""
        raw = self._raw.get(name)
        if isinstance(raw, Mapping):
            return {str(key).strip(): str(value).strip() for key, value in raw.items()}
        found: Dict[str, str] = {}
        for pair in self.names(name):
            key, equals, value = pair.partition("=")
            if not equals or not key.strip() or not value.strip():
                raise SettingsError(
                    f"Zendesk setting {name} ({self.env_name(name)}) must be {form} pairs, "
                    f"for example {name}: {example}"
                )
            found[key.strip()] = value.strip()
        return found

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in ("true", "yes", "on", "1"):
            return True
        if value.lower() in ("false", "no", "off", "0"):
            return False
        raise SettingsError(f"Zendesk setting {name} ({self.env_name(name)}) must be true or false")


#: The system fields of a ticket that passControl metadata sets from slots
#: (`dataCapture.systemField.<name>`), as Zendesk's Agent Workspace reads them; subject, tags
#: and the requester are the escalation's own.
ID_SYSTEM_FIELDS = ("group_id", "brand_id", "organization_id", "assignee_id")
SYSTEM_FIELDS = (*ID_SYSTEM_FIELDS, "priority")
#: A ticket's priorities, as Zendesk names them.
PRIORITIES = ("low", "normal", "high", "urgent")
_ZENDESK_ID = re.compile(r"^[1-9][0-9]{0,19}$")

Pairs = Tuple[Tuple[str, str], ...]


@dataclass(frozen=True)
class Routing:
    """Where a connector's tickets land, from the conversation (`actions.handoff_metadata`):

    - `ticket_fields`: slot -> custom ticket field id (`dataCapture.ticketField.<id>`);
    - `system_fields`: slot -> system field (`SYSTEM_FIELDS`) the slot's value fills;
    - `group_by_intent`: intent -> group id, for the latest of these intents the user had;
    - `group_by_trigger`: escalation kind (`escalation.KINDS`) -> group id;
    - `default_group`, `brand_id`: the group when nothing above chose one, the brand always.
    A slot's value wins over a rule; an intent's rule over a trigger's.
    """

    ticket_fields: Pairs = ()
    system_fields: Pairs = ()
    group_by_intent: Pairs = ()
    group_by_trigger: Pairs = ()
    default_group: Optional[str] = None
    brand_id: Optional[str] = None

    @property
    def slots(self) -> Tuple[str, ...]:
        """The slots the routing reads (for the check against the bot's domain)."""
        return tuple(dict.fromkeys(slot for slot, _ in (*self.ticket_fields, *self.system_fields)))

    def missing_slots(self, domain_slots: Any) -> List[str]:
        """The routing's slots that the bot's domain does not define."""
        known = set(domain_slots)
        return [slot for slot in self.slots if slot not in known]

    def check_slots(self, domain_slots: Any, where: str) -> None:
        """`SettingsError` naming the routing's slots that the domain lacks."""
        missing = self.missing_slots(domain_slots)
        if missing:
            raise SettingsError(
                f"Zendesk settings ticket_fields / system_fields name slots that {where} does "
                f"not define: {', '.join(missing)}; add them to the domain or fix the names"
            )

    @classmethod
    def read(cls, sources: Sources) -> Routing:
        def ids(name: str, form: str, example: str) -> Pairs:
            found = sources.pairs(name, form, example)
            for value in found.values():
                _zendesk_id(sources, name, value, example)
            return tuple(found.items())

        system = sources.pairs("system_fields", "slot=field", "customer_tier=priority")
        if any(target not in SYSTEM_FIELDS for target in system.values()):
            raise SettingsError(
                f"Zendesk setting system_fields ({sources.env_name('system_fields')}) maps "
                f"slots to Zendesk's system fields, one of {', '.join(SYSTEM_FIELDS)}; for "
                "example system_fields: customer_tier=priority"
            )
        by_trigger = ids("group_by_trigger", "kind=group id", "frustration=360000222")
        unknown = [kind for kind, _ in by_trigger if kind not in KINDS]
        if unknown:
            raise SettingsError(
                f"Zendesk setting group_by_trigger ({sources.env_name('group_by_trigger')}) "
                f"names escalation kinds, one of {', '.join(KINDS)}"
            )
        single = {}
        for name in ("default_group", "brand_id"):
            value = sources.text(name)
            single[name] = _zendesk_id(sources, name, value, "360000111") if value else None
        return cls(
            ticket_fields=ids("ticket_fields", "slot=field id", "order_number=360001234567"),
            system_fields=tuple(system.items()),
            group_by_intent=ids("group_by_intent", "intent=group id", "billing=360000111"),
            group_by_trigger=by_trigger,
            **single,
        )


def _zendesk_id(sources: Sources, name: str, value: str, example: str) -> str:
    if not _ZENDESK_ID.match(value):
        raise SettingsError(
            f"Zendesk setting {name} ({sources.env_name(name)}) takes Zendesk ids, which are "
            f"whole numbers, for example {name}: {example}"
        )
    return value


@dataclass(frozen=True)
class ZendeskSettings:
    """One connector: a Zendesk account's Conversations app and how Zendesk reaches us."""

    subdomain: str
    app_id: str
    key_id: str
    key_secret: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_url: Optional[str] = None
    name: str = DEFAULT_CONNECTOR
    #: The signing secret of the ticket-status webhook (Zendesk's event webhook).
    ticket_webhook_secret: Optional[str] = field(default=None, repr=False)
    #: Or Zendesk's "API key" authentication of that webhook: the value, and its header.
    ticket_webhook_api_key: Optional[str] = field(default=None, repr=False)
    ticket_webhook_api_key_header: str = DEFAULT_API_KEY_HEADER
    #: The switchboard integration that takes the handoff, when not the action's own default.
    agent_workspace: Optional[str] = None
    #: Tags added to every ticket of this connector.
    tags: Tuple[str, ...] = ()
    #: When its agents work (`business_hours`, `holidays`; always, unless set), the fallback
    #: when the schedule is read from Zendesk (`business_hours_from_zendesk`).
    business_hours: Schedule = Schedule()
    business_hours_from_zendesk: bool = False
    business_hours_schedule_id: Optional[str] = None
    #: Ask Zendesk whether an agent is online for messaging before handing off.
    check_agent_availability: bool = False
    #: The Support API (schedules, agent availability): an OAuth access token, its address.
    support_oauth_token: Optional[str] = field(default=None, repr=False)
    support_api_url: Optional[str] = None
    #: Or an OAuth client's credentials (`client_credentials` grant, tokens fetched and
    #: refreshed before they expire), and the scopes asked for.
    support_oauth_client_id: Optional[str] = None
    support_oauth_client_secret: Optional[str] = field(default=None, repr=False)
    support_oauth_scope: str = DEFAULT_SUPPORT_SCOPE
    #: The custom ticket field that gets the CSAT rating (`action_zendesk_csat`).
    csat_field_id: Optional[int] = None
    #: Where its tickets land: group, brand, ticket fields from the conversation.
    routing: Routing = Routing()

    @property
    def base_url(self) -> str:
        """The SunCo API root: the override if given, else the Zendesk-hosted `/sc` root."""
        if self.api_url:
            return self.api_url.rstrip("/")
        return f"https://{self.subdomain}.zendesk.com/sc"

    @property
    def support_base_url(self) -> str:
        """The Support API root (`/api/v2/...` follows): the override, else the account's."""
        if self.support_api_url:
            return self.support_api_url.rstrip("/")
        return f"https://{self.subdomain}.zendesk.com"

    @property
    def support_auth_configured(self) -> bool:
        """Whether the Support API can be called: a token, or a client's credentials."""
        return bool(self.support_oauth_token or self.support_oauth_client_id)

    @property
    def ticket_webhook_enabled(self) -> bool:
        """The ticket-status route is served only when it can tell Zendesk from anyone."""
        return bool(self.ticket_webhook_secret or self.ticket_webhook_api_key)

    @classmethod
    def read(cls, sources: Sources, name: str = DEFAULT_CONNECTOR) -> ZendeskSettings:
        """The connector's settings; `SettingsError` names every required one missing."""
        missing = [key for key in REQUIRED if not sources.text(key)]
        if missing:
            described = ", ".join(f"{key} ({sources.env_name(key)})" for key in missing)
            raise MissingSettings(f"Zendesk settings missing in {sources.where}: {described}")
        text = sources.text
        return cls(
            subdomain=text("subdomain"),  # type: ignore[arg-type]
            app_id=text("app_id"),  # type: ignore[arg-type]
            key_id=text("key_id"),  # type: ignore[arg-type]
            key_secret=text("key_secret"),  # type: ignore[arg-type]
            webhook_secret=text("webhook_secret"),  # type: ignore[arg-type]
            api_url=text("api_url"),
            name=name,
            ticket_webhook_secret=text("ticket_webhook_secret"),
            ticket_webhook_api_key=text("ticket_webhook_api_key"),
            ticket_webhook_api_key_header=text("ticket_webhook_api_key_header")
            or DEFAULT_API_KEY_HEADER,
            agent_workspace=text("agent_workspace"),
            tags=sources.names("tags"),
            routing=Routing.read(sources),
            **_hours(sources),
        )


class UnknownConnector(LookupError):
    """A connector name that the settings do not define (the message lists the ones they do)."""


@dataclass(frozen=True)
class Connectors:
    """Every Zendesk connector of the bot, and which one a conversation escalates to.

    The unnamed connector (credentials.yml's top-level keys, `ZENDESK_<SETTING>`) is the
    simple case and the default. Named ones are listed in `connectors` (`ZENDESK_CONNECTORS`,
    comma-separated) and each has the full settings under `ZENDESK_CONNECTOR_<NAME>_<SETTING>`
    (or `connectors: {name: {...}}` in credentials.yml, for the channel). A conversation goes
    to the connector named in the slot `zendesk_connector`, else the one `connector_by_channel`
    gives its input channel (`telegram=eu, slack=us`), else `default_connector`.
    """

    by_name: Mapping[str, ZendeskSettings]
    default_name: str
    by_channel: Mapping[str, str] = field(default_factory=dict)

    @property
    def default(self) -> ZendeskSettings:
        return self.by_name[self.default_name]

    @property
    def named(self) -> bool:
        """Several connectors, or a named one: webhooks have a route per connector."""
        return list(self.by_name) != [DEFAULT_CONNECTOR]

    def get(self, name: Optional[str]) -> ZendeskSettings:
        """The connector called `name` (None: the default); `UnknownConnector` otherwise."""
        if name is None:
            return self.default
        try:
            return self.by_name[name]
        except KeyError:
            known = ", ".join(self.by_name)
            raise UnknownConnector(f"no Zendesk connector {name!r} (configured: {known})") from None

    def choose(self, requested: Optional[str], input_channel: Optional[str]) -> ZendeskSettings:
        """Where a conversation escalates to: the slot's choice, the channel's, the default."""
        if requested:
            return self.get(requested.strip())
        return self.get(self.by_channel.get(input_channel or "", self.default_name))

    @classmethod
    def read(cls, sources: Sources) -> Connectors:
        names = sources.names("connectors")
        for name in names:
            if not _CONNECTOR_NAME.match(name) or name in RESERVED_NAMES:
                raise SettingsError(
                    f"Zendesk setting connectors ({sources.env_name('connectors')}): connector "
                    "names are lower-case letters, digits and underscores, starting with a "
                    f"letter, and not one of {', '.join(sorted(RESERVED_NAMES))}; "
                    "for example connectors: eu,us"
                )
        by_channel = _channel_rules(sources)  # its form first: a missing setting can wait
        by_name: Dict[str, ZendeskSettings] = {}
        if not names or any(sources.text(key) for key in REQUIRED):
            by_name[DEFAULT_CONNECTOR] = ZendeskSettings.read(sources)
        for name in names:
            by_name[name] = ZendeskSettings.read(sources.connector(name), name)
        default_name = sources.text("default_connector") or next(iter(by_name))
        for target in (default_name, *by_channel.values()):
            if target not in by_name:
                raise SettingsError(
                    f"Zendesk settings name connector {target!r}, which is not configured "
                    f"(configured: {', '.join(by_name)}); see default_connector "
                    f"({sources.env_name('default_connector')}) and connector_by_channel "
                    f"({sources.env_name('connector_by_channel')})"
                )
        return cls(by_name, default_name, by_channel)


def _hours(sources: Sources) -> Dict[str, Any]:
    """A connector's opening hours and how to ask Zendesk about them."""
    try:
        schedule = parse_schedule(sources.text("business_hours"))
    except ScheduleError as error:
        raise SettingsError(
            f"Zendesk setting business_hours ({sources.env_name('business_hours')}): {error}; "
            f"the right form is a time zone and opening days, for example {SCHEDULE_EXAMPLE} "
            "(or 24/7)"
        ) from None
    try:
        holidays = parse_holidays(sources.text("holidays"))
    except ScheduleError as error:
        raise SettingsError(
            f"Zendesk setting holidays ({sources.env_name('holidays')}): {error}; the right "
            "form is ISO dates, comma-separated, for example 2026-12-24,2026-12-25"
        ) from None
    values: Dict[str, Any] = {
        "business_hours": schedule.with_holidays(holidays) if holidays else schedule,
        "business_hours_from_zendesk": sources.flag("business_hours_from_zendesk", False),
        "business_hours_schedule_id": sources.text("business_hours_schedule_id"),
        "check_agent_availability": sources.flag("check_agent_availability", False),
        "support_api_url": sources.text("support_api_url"),
        **_support_auth(sources),
    }
    asks_zendesk = values["business_hours_from_zendesk"] or values["check_agent_availability"]
    if asks_zendesk and not (values["support_oauth_token"] or values["support_oauth_client_id"]):
        raise MissingSettings(
            f"Zendesk settings missing in {sources.where}: support_oauth_token "
            f"({sources.env_name('support_oauth_token')}), an OAuth access token of the "
            "Support API, or support_oauth_client_id and support_oauth_client_secret, "
            "needed by business_hours_from_zendesk and check_agent_availability"
        )
    return values


def _support_auth(sources: Sources) -> Dict[str, Any]:
    """How the Support API is called: a static OAuth token, or an OAuth client's credentials
    (both halves, never with a token); an API token stops start-up (Zendesk ends them)."""
    if sources.text("support_api_token"):
        raise SettingsError(
            f"Zendesk setting support_api_token ({sources.env_name('support_api_token')}): "
            f"Zendesk stops API tokens on {API_TOKENS_END} and the plugin does not use them; "
            "set support_oauth_client_id and support_oauth_client_secret (an OAuth client, "
            "confidential) or support_oauth_token instead"
        )
    token = sources.text("support_oauth_token")
    if token and ("/token:" in token or token.lower().startswith("basic ")):
        raise SettingsError(
            f"Zendesk setting support_oauth_token ({sources.env_name('support_oauth_token')}) "
            f"holds an API token (email/token:...): Zendesk stops API tokens on "
            f"{API_TOKENS_END}; give an OAuth access token, or support_oauth_client_id and "
            "support_oauth_client_secret"
        )
    client_id = sources.text("support_oauth_client_id")
    client_secret = sources.text("support_oauth_client_secret")
    if bool(client_id) != bool(client_secret) or (token and client_id):
        raise SettingsError(
            f"Zendesk settings support_oauth_client_id "
            f"({sources.env_name('support_oauth_client_id')}) and support_oauth_client_secret "
            f"({sources.env_name('support_oauth_client_secret')}) go together, and not with "
            f"support_oauth_token ({sources.env_name('support_oauth_token')}): give the "
            "client's identifier and secret, or a token"
        )
    field_id = sources.text("csat_field_id")
    if field_id is not None and not (field_id.isdigit() and int(field_id) > 0):
        raise SettingsError(
            f"Zendesk setting csat_field_id ({sources.env_name('csat_field_id')}) must be a "
            "custom ticket field's numeric id, for example csat_field_id: 360001234567"
        )
    return {
        "support_oauth_token": token,
        "support_oauth_client_id": client_id,
        "support_oauth_client_secret": client_secret,
        "support_oauth_scope": sources.text("support_oauth_scope") or DEFAULT_SUPPORT_SCOPE,
        "csat_field_id": int(field_id) if field_id else None,
    }


def _channel_rules(sources: Sources) -> Dict[str, str]:
    """`connector_by_channel`: `channel=connector` pairs, comma-separated (or a mapping in
    credentials.yml)."""
    return sources.pairs("connector_by_channel", "channel=connector", "telegram=eu,slack=us")


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
    - `handoff_ended_text`: what the user is told when the handoff ends, instead of
      `utter_zendesk_handoff_ended` (whichever server ends it); none by default.
    - `agent_name_prefix`: put before an agent's text on a channel that does not show who
      wrote it (every channel but the web chat), e.g. "{agent_name}: "; none by default.
    - `external_id_channels`: the input channels whose user messages' metadata may name the
      customer (`zendesk_external_id`): channels whose metadata the bot's own server sets
      after a login, never a browser's; none by default (the slot always may).
    """

    agent_timeout: int = 600
    idle_timeout: int = 0
    max_duration: int = 86400
    agent_joined_notice: bool = True
    after_handoff_action: Optional[str] = None
    handoff_ended_text: Optional[str] = None
    agent_name_prefix: Optional[str] = None
    external_id_channels: Tuple[str, ...] = ()

    @classmethod
    def read(cls, sources: Sources) -> HandoffSettings:
        defaults = cls()
        return cls(
            agent_timeout=sources.seconds("agent_timeout", defaults.agent_timeout),
            idle_timeout=sources.seconds("idle_timeout", defaults.idle_timeout),
            max_duration=sources.seconds("max_duration", defaults.max_duration),
            agent_joined_notice=sources.flag("agent_joined_notice", True),
            after_handoff_action=sources.text("after_handoff_action"),
            handoff_ended_text=sources.text("handoff_ended_text"),
            agent_name_prefix=_name_prefix(sources, "agent_name_prefix"),
            external_id_channels=sources.names("external_id_channels"),
        )


def _name_prefix(sources: Sources, name: str) -> Optional[str]:
    """Text with `{agent_name}` in it, its spaces kept (a prefix ends with one)."""
    if isinstance(sources.raw(name), Mapping):  # `{agent_name}: ` unquoted is YAML's mapping
        raise SettingsError(f"{name}: quote it in credentials.yml, e.g. '{{agent_name}}: '")
    if sources.text(name) is None:
        return None
    text = sources.verbatim(name)
    try:
        ok = "{agent_name}" in text and bool(text.format(agent_name="A"))
    except (KeyError, IndexError, ValueError):
        ok = False
    if not ok:
        raise SettingsError(
            f"{name} ({sources.env_name(name)}) must be text with {{agent_name}} and no other "
            "{...}, e.g. '{agent_name}: '"
        )
    return text


@dataclass(frozen=True)
class ActionLimits:
    """How much one run of an action may do, so that one user message cannot hold the
    conversation, nor spend the app's shared SunCo rate limit, beyond a bound (the action
    server's; `rasa_zendesk.actions`).

    - `max_files_per_message` (`ZENDESK_MAX_FILES_PER_MESSAGE`, 10): the files of one user
      message passed on to the agent; the user is told which were left out.
    - `max_text_per_message` (`ZENDESK_MAX_TEXT_PER_MESSAGE`, 20000): the characters of one
      user message passed on; the user is told how many were left out.
    - `action_deadline` (`ZENDESK_ACTION_DEADLINE`, 30 s): the longest one action may run,
      every SunCo call and download included. Rasa holds the conversation's lock for at most
      `TICKET_LOCK_LIFETIME` (60 s by default) while the action runs: past it, a webhook of the
      same conversation would write at the same time and events would be lost. Keep it well
      inside that lifetime.
    """

    max_files: int = 10
    max_text: int = 20000
    deadline: int = 30

    @classmethod
    def read(cls, sources: Sources) -> ActionLimits:
        return cls(
            max_files=sources.positive("max_files_per_message", cls.max_files, "files"),
            max_text=sources.positive("max_text_per_message", cls.max_text, "characters"),
            deadline=sources.positive("action_deadline", cls.deadline, "seconds"),
        )


#: The hosts the action server fetches users' files from, unless told otherwise: Messenger's
#: and Twilio's media hosts.
DEFAULT_USER_FILE_HOSTS = ("fbcdn.net", "fbsbx.com", "api.twilio.com", "twiliocdn.com")


@dataclass(frozen=True)
class UserFileSettings:
    """Where the action server may fetch a user's file from (`rasa_zendesk.actions.user_files`).

    - `user_file_hosts` (`ZENDESK_USER_FILE_HOSTS`): host names (each with its subdomains) or
      exact `host:port` pairs, comma-separated; Messenger's and Twilio's media hosts by default.
    - `public_url` (`ZENDESK_PUBLIC_URL`): where the Rasa server is reached; its attachment
      links are fetched too.
    """

    hosts: Tuple[str, ...] = DEFAULT_USER_FILE_HOSTS
    public_url: Optional[str] = None

    @classmethod
    def read(cls, sources: Sources) -> UserFileSettings:
        hosts = tuple(
            host.lower() for host in sources.names("user_file_hosts", DEFAULT_USER_FILE_HOSTS)
        )
        for entry in hosts:
            if "/" in entry or " " in entry:
                raise SettingsError(
                    f"Zendesk setting user_file_hosts ({sources.env_name('user_file_hosts')}) "
                    "lists host names or host:port pairs, comma-separated, for example "
                    "fbcdn.net,files.example.com:8443"
                )
        return cls(hosts, public_url(sources))


def public_url(sources: Sources) -> Optional[str]:
    """`public_url` (`ZENDESK_PUBLIC_URL`): where users' platforms and the action server reach
    the Rasa server, without a trailing slash."""
    value = sources.text("public_url")
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(
            f"Zendesk setting public_url ({sources.env_name('public_url')}) must be the address "
            "where users reach this Rasa server, for example https://bot.example.com"
        )
    return value.rstrip("/")


@dataclass(frozen=True)
class PlatformSettings:
    """How the Rasa server sends through a platform whose output channel blocks (Twilio,
    Messenger: `rasa_zendesk.platforms.outputs`).

    - `platform_send_timeout` (`ZENDESK_PLATFORM_SEND_TIMEOUT`, 15 s): the longest one send
      may take, waiting for a thread included; then it fails (the webhook answers 5xx and
      Zendesk retries). Under SunCo's 20 s webhook timeout, so the failure is answered.
    """

    send_timeout: int = 15

    @classmethod
    def read(cls, sources: Sources) -> PlatformSettings:
        return cls(sources.positive("platform_send_timeout", cls.send_timeout, "seconds"))


@dataclass(frozen=True)
class ClientSettings:
    """How long the action server's SunCo client lets a user wait on a failing Zendesk:
    `request_timeout` (seconds per HTTP attempt) and `request_deadline` (seconds for one call
    with its retries)."""

    request_timeout: float = 10.0
    request_deadline: float = 20.0

    @classmethod
    def read(cls, sources: Sources) -> ClientSettings:
        return cls(**{name: sources.duration(name, value) for name, value in vars(cls()).items()})


#: Every group of settings besides the connectors' (`Connectors`): each server reads them all
#: at start (`check`), so a setting in the wrong form stops it there, naming the setting,
#: instead of failing the first handoff that reads it.
SHARED_SETTINGS = (
    HandoffSettings,
    ActionLimits,
    UserFileSettings,
    PlatformSettings,
    ClientSettings,
)


def check(sources: Sources) -> None:
    """Read every group of `SHARED_SETTINGS` once; raises `SettingsError` naming a setting in
    the wrong form."""
    for group in SHARED_SETTINGS:
        group.read(sources)
