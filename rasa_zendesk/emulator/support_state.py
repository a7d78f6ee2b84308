"""What the emulated Zendesk Support account says about when agents answer: its business-hours
schedule and holidays, whether the console's agent is online for messaging, and the OAuth
access token its API accepts.

One per app (each app is an account); the Support API serves the default app's. The control
API sets it, `/_emulator/reset` restores the defaults (always open, agents online, no holidays;
the token, the OAuth clients and their tokens stay). Zendesk stores no interval across
midnight, so an interval set through the control API is cut at each midnight, as the Zendesk
admin would enter it.
"""

import itertools
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from .ids import now_iso_seconds

MINUTES_A_DAY = 24 * 60
MINUTES_A_WEEK = 7 * MINUTES_A_DAY
#: Zendesk counts a schedule's minutes from Sunday 00:00.
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
DEFAULT_SCHEDULE_ID = 1
DEFAULT_SCHEDULE_NAME = "Support"
DEFAULT_TIME_ZONE = "UTC"
FIRST_HOLIDAY_ID = 1


@dataclass(frozen=True)
class Interval:
    """Open from `start` to `end`, minutes since Sunday 00:00, within one day."""

    start: int
    end: int

    def to_api(self) -> Dict[str, int]:
        return {"start_time": self.start, "end_time": self.end}

    def to_view(self) -> Dict[str, int]:
        return {"startTime": self.start, "endTime": self.end}


@dataclass(frozen=True)
class Schedule:
    id: int
    name: str
    time_zone: str
    intervals: List[Interval]
    created_at: str
    updated_at: str

    def to_api(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "time_zone": self.time_zone,
            "intervals": [interval.to_api() for interval in self.intervals],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def to_view(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "timeZone": self.time_zone,
            "intervals": [interval.to_view() for interval in self.intervals],
        }


@dataclass(frozen=True)
class Holiday:
    """Closed all day from `start_date` to `end_date`, both included."""

    id: int
    name: str
    start_date: date
    end_date: date

    def to_api(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
        }

    def to_view(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "startDate": self.start_date.isoformat(),
            "endDate": self.end_date.isoformat(),
        }


def by_day(intervals: Iterable[Interval]) -> List[Interval]:
    """The intervals cut at each midnight, in order (Zendesk's intervals never span days)."""
    cut = []
    for interval in sorted(intervals, key=lambda i: i.start):
        start = interval.start
        while start < interval.end:
            midnight = (start // MINUTES_A_DAY + 1) * MINUTES_A_DAY
            cut.append(Interval(start, min(interval.end, midnight)))
            start = midnight
    return cut


def new_schedule(
    schedule_id: int, name: str, time_zone: str, intervals: List[Interval]
) -> Schedule:
    now = now_iso_seconds()
    return Schedule(schedule_id, name, time_zone, by_day(intervals), now, now)


def always_open() -> Schedule:
    """The default: open all week, in UTC."""
    return new_schedule(
        DEFAULT_SCHEDULE_ID, DEFAULT_SCHEDULE_NAME, DEFAULT_TIME_ZONE, [Interval(0, MINUTES_A_WEEK)]
    )


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def in_words(schedule: Optional[Schedule], holidays: List[Holiday]) -> List[str]:
    """The schedule as the console shows it: time zone, each day's opening hours, holidays."""
    if schedule is None:
        return ["No schedule: the account has no business hours."]
    lines = [f"{schedule.name} (schedule {schedule.id}), time zone {schedule.time_zone}"]
    for day, name in enumerate(DAY_NAMES):
        spans = [
            f"{_clock(i.start - day * MINUTES_A_DAY)}–{_clock(i.end - day * MINUTES_A_DAY)}"
            for i in schedule.intervals
            if i.start // MINUTES_A_DAY == day
        ]
        lines.append(f"{name}: {', '.join(spans) if spans else 'closed'}")
    for holiday in holidays:
        first, last = holiday.start_date.isoformat(), holiday.end_date.isoformat()
        when = first if first == last else f"{first} to {last}"
        lines.append(f"Holiday {holiday.name}: {when}, closed")
    return lines


#: The scopes of the configured static token, and what a client may ask for by default.
FULL_SCOPES = ("read", "write")
#: How long a client-credentials token lives, unless the control API says otherwise.
DEFAULT_TOKEN_LIFETIME = 7200
FIRST_TOKEN_ID = 1
FIRST_CLIENT_ID = 41


def _iso(epoch: Optional[float]) -> Optional[str]:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class AccessToken:
    """An OAuth access token the account accepts: the configured one, or one issued to a
    client (`POST /oauth/tokens`). Only Zendesk's first 10 characters are ever shown."""

    id: int
    value: str = field(repr=False)
    scopes: Tuple[str, ...]
    client_id: Optional[int]
    created_at: float
    expires_at: Optional[float] = None

    def valid(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at

    def to_api(self, base: str) -> Dict[str, Any]:
        """As `GET /api/v2/oauth/tokens/{id}` shows it."""
        return {
            "id": self.id,
            "client_id": self.client_id,
            "user_id": 900001,
            "token": self.value[:10],
            "scopes": list(self.scopes),
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "refresh_token": None,
            "refresh_token_expires_at": None,
            "used_at": _iso(time.time()),
            "url": f"{base}/api/v2/oauth/tokens/{self.id}.json",
        }


@dataclass
class OAuthClient:
    """A confidential OAuth client of the account (Admin Center > Apps and integrations >
    APIs > OAuth clients): its identifier, secret and the scopes it may ask for."""

    id: int
    identifier: str
    secret: str = field(repr=False)
    scopes: Tuple[str, ...] = FULL_SCOPES


class SupportState:
    """The account's schedule, holidays, agent availability, OAuth clients and tokens."""

    def __init__(
        self, oauth_token: Optional[str], oauth_client: Optional[Tuple[str, str]] = None
    ) -> None:
        self._token_ids = itertools.count(FIRST_TOKEN_ID)
        self._client_ids = itertools.count(FIRST_CLIENT_ID)
        self.tokens: Dict[str, AccessToken] = {}
        self.oauth_token = oauth_token or None
        self.clients: Dict[str, OAuthClient] = {}
        if oauth_client is not None:
            self.add_client(*oauth_client)
        self.token_lifetime = DEFAULT_TOKEN_LIFETIME
        self._holiday_ids = itertools.count(FIRST_HOLIDAY_ID)
        self.reset()

    @property
    def oauth_token(self) -> Optional[str]:
        """The configured (static) token; None: none is."""
        return self._static.value if self._static is not None else None

    @oauth_token.setter
    def oauth_token(self, value: Optional[str]) -> None:
        if getattr(self, "_static", None) is not None:
            self.tokens.pop(self._static.value, None)
        self._static: Optional[AccessToken] = None
        if value:
            self._static = AccessToken(next(self._token_ids), value, FULL_SCOPES, None, time.time())
            self.tokens[value] = self._static

    def set_static_token(
        self, expires_at: Optional[float], scopes: Optional[Tuple[str, ...]]
    ) -> None:
        """When the configured token expires, and its scopes (the control API)."""
        if self._static is not None:
            self._static.expires_at = expires_at
            if scopes is not None:
                self._static.scopes = scopes

    def add_client(
        self, identifier: str, secret: str, scopes: Tuple[str, ...] = FULL_SCOPES
    ) -> None:
        known = self.clients.get(identifier)
        number = known.id if known else next(self._client_ids)
        self.clients[identifier] = OAuthClient(number, identifier, secret, scopes)

    def issue(
        self, client: OAuthClient, scopes: Tuple[str, ...], lifetime: Optional[int] = None
    ) -> AccessToken:
        """A new token for a client (`client_credentials`), living `lifetime` seconds (the
        account's `token_lifetime` unless asked)."""
        now = time.time()
        token = AccessToken(
            next(self._token_ids),
            secrets.token_hex(32),
            scopes,
            client.id,
            now,
            now + (lifetime or self.token_lifetime),
        )
        self.tokens[token.value] = token
        return token

    def accepted(self, value: str) -> Optional[AccessToken]:
        """The token if the account accepts it now (known, not expired)."""
        token = self.tokens.get(value)
        return token if token is not None and token.valid(time.time()) else None

    def reset(self) -> None:
        self.schedule: Optional[Schedule] = always_open()
        self.holidays: List[Holiday] = []
        self.agents_online = True
        #: The availability's version and when it last changed, as Zendesk reports them.
        self.version = 1
        self.changed_at = now_iso_seconds()

    def set_agents_online(self, online: bool) -> None:
        if online != self.agents_online:
            self.agents_online = online
            self.version += 1
            self.changed_at = now_iso_seconds()

    def holiday(self, name: str, start_date: date, end_date: date) -> Holiday:
        return Holiday(next(self._holiday_ids), name, start_date, end_date)

    def view(self) -> Dict[str, Any]:
        """The control API's view: never the token, only whether one is set."""
        static = self._static
        return {
            "agentsOnline": self.agents_online,
            "schedule": self.schedule.to_view() if self.schedule else None,
            "holidays": [holiday.to_view() for holiday in self.holidays],
            "tokenSet": static is not None,
            "tokenExpiresAt": _iso(static.expires_at) if static else None,
            "tokenScopes": list(static.scopes) if static else None,
            "oauthClients": [
                {"identifier": c.identifier, "scopes": list(c.scopes)}
                for c in self.clients.values()
            ],
            "tokenLifetime": self.token_lifetime,
            "issuedTokens": sum(1 for t in self.tokens.values() if t.client_id is not None),
            "inWords": in_words(self.schedule, self.holidays),
        }
