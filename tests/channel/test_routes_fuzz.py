"""Every route the plugin adds answers hostile input with a 4xx (or a 2xx when it ignores it),
never a 5xx, and stays healthy: SunCo's webhook (the default and a named connector's route),
the ticket-status webhook, the attachment links, the metrics, and the Twilio and Telegram
inputs with their users' files.

Each route gets a bounded number of cases from a fixed seed (the same cases every run):
valid requests mutated byte by byte and value by value (wrong types, deep nesting, huge and
odd numbers, non-ASCII digits, control characters, lone surrogates, non-UTF-8), random
headers, query strings and tokens, with the right secret half the time so that what comes
after the authentication is reached too. Then a good request must still succeed.

One Rasa server (`test_media_inputs.start_telegram_rasa`, with the Twilio channel too) serves
them all; SunCo is a stand-in that knows no conversation, so nothing is ever delivered.
"""

from __future__ import annotations

import base64
import copy
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Tuple
from urllib.parse import quote, urlencode

import httpx
import pytest

from rasa_zendesk.channel.attachment_links import links_of
from rasa_zendesk.channel.media_inputs import TwilioMediaInput
from testkit.channel_harness import SECRET, message_webhook, new_id, release_webhook, start_rasa
from testkit.emulator_support import ticket_event
from testkit.platforms import StandIn, TelegramApi
from testkit.telegram_rasa import (
    TelegramRasa,
    bot_api,
    document_update,
    message_update,
    photo_update,
    start_telegram_rasa,
    stop_telegram_rasa,
)

pytestmark = pytest.mark.timeout(120)

SEED = 2021
CASES = 60
EU_SECRET = "whsec_fuzz_eu_61c0aa"
TICKET_KEY = "tk_fuzz_ticket_key_2bd9"
METRICS_TOKEN = "metrics_fuzz_token_9a3e7f"
SETTINGS = {
    "connectors": {
        "eu": {
            "subdomain": "acme-eu",
            "app_id": "app_eu",
            "key_id": "key_eu",
            "key_secret": "keysecret_eu_fuzz",
            "webhook_secret": EU_SECRET,
            "ticket_webhook_api_key": TICKET_KEY,
        }
    },
    "ticket_webhook_api_key": TICKET_KEY,
    "metrics": "true",
    "metrics_token": METRICS_TOKEN,
    "private_attachments": "true",
}

#: Values that have broken parsers: wrong types, odd numbers, odd text.
HOSTILE_VALUES: List[Any] = [
    None,
    True,
    0,
    -1,
    2**70,
    1e308,
    "",
    " ",
    "²",
    "٣",
    "\x00",
    "\ud800",
    "\u2028",
    "x" * 20000,
    "../../etc/passwd",
    "%00",
    "https://169.254.169.254/",
    [],
    {},
    [[[]]],
    {"": {"": None}},
]
#: Bytes spliced into bodies.
HOSTILE_BYTES = [
    b"\x00",
    b"\xff\xfe",
    b"\xc3\x28",
    "²".encode(),
    b'"',
    b"\\",
    b"\\ud800",
    b"[" * 3000,
    b"{" * 3000,
    b"1e999999",
    b"NaN",
    b"-0",
    b"9" * 5000,
    b"null",
    b",",
    b"}",
]
#: Header values (bytes, as they go on the wire; no CR or LF, which the client refuses).
HOSTILE_HEADER_VALUES = [
    b"",
    b" ",
    b"\xff\xfe",
    "é".encode(),
    "²".encode(),
    b"Bearer",
    b"Bearer ",
    b"bearer \xff",
    b"Basic Zm9vOmJhcg==",
    b"x" * 8000,
    b"\x01\x7f",
    b"-1",
    b"\xe2\x80\xa8",
    b"foo",
    b"*/*;q=x",
    b"text/html;q=2",
    b"a/b;c",
]
CONTENT_TYPES = [
    b"application/json",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=x",
    b"multipart/form-data",
    b"text/plain; charset=\xff",
    b"application/json; charset=utf-7",
    b"",
]


@dataclass
class Case:
    method: str
    path: str
    body: bytes = b""
    headers: Dict[str, bytes] = field(default_factory=dict)
    query: str = ""

    def __repr__(self) -> str:  # what a failure shows
        return (
            f"{self.method} {self.path[:120]}?{self.query[:60]} headers="
            f"{ {k: v[:60] for k, v in self.headers.items()} } body={self.body[:200]!r}"
        )


# Mutations -----------------------------------------------------------------------------------


def mutate_value(rng: random.Random, data: Any) -> Any:
    """`data` with one value somewhere inside replaced by a hostile one, or a key removed."""
    data = copy.deepcopy(data)
    paths: List[Tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in list(node):
                paths.append((node, key))
                walk(node[key])
        elif isinstance(node, list):
            for index in range(len(node)):
                paths.append((node, index))
                walk(node[index])

    walk(data)
    if not paths:
        return rng.choice(HOSTILE_VALUES)
    parent, key = rng.choice(paths)
    if isinstance(parent, dict) and rng.random() < 0.25:
        del parent[key]
    else:
        parent[key] = copy.deepcopy(rng.choice(HOSTILE_VALUES + [deep(rng.randint(50, 3000))]))
    return data


def deep(depth: int) -> Any:
    node: Any = []
    for _ in range(depth):
        node = [node]
    return node


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """`data` with a byte flipped, a span cut, repeated or replaced, or junk spliced in."""
    if not data:
        return rng.choice(HOSTILE_BYTES)
    at = rng.randrange(len(data))
    end = min(len(data), at + rng.randint(1, 40))
    kind = rng.randrange(5)
    if kind == 0:
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]
    if kind == 1:
        return data[:at] + data[end:]
    if kind == 2:
        return data[:end] + data[at:end] * rng.randint(2, 50) + data[end:]
    if kind == 3:
        return data[:at]
    return data[:at] + rng.choice(HOSTILE_BYTES) + data[at:]


def hostile_body(rng: random.Random, valid: Any) -> bytes:
    """A mutated JSON body: a value replaced (still JSON), bytes changed, or nonsense."""
    roll = rng.random()
    if roll < 0.45:
        try:
            return json.dumps(mutate_value(rng, valid)).encode("utf-8", "surrogatepass")
        except RecursionError:
            return b"[" * 5000
    if roll < 0.85:
        return mutate_bytes(rng, json.dumps(valid).encode())
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))


def hostile_query(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return ""
    junk = ["a=1", "a", "=", "%", "%zz", "%ff%fe", "a=%00", "x=" + "y" * 3000, "&&", "a[]=1"]
    return "&".join(rng.choice(junk) for _ in range(rng.randint(1, 4)))


def hostile_headers(rng: random.Random, good: Dict[str, str]) -> Dict[str, bytes]:
    """The right headers half the time, else some of them wrong or odd, and odd ones more."""

    def odd() -> bytes:
        return rng.choice(HOSTILE_HEADER_VALUES)

    headers: Dict[str, bytes] = {}
    for name, value in good.items():
        if rng.random() < 0.5:
            headers[name] = value.encode()
        elif rng.random() < 0.7:
            headers[name] = odd()
    if rng.random() < 0.5:
        headers["Content-Type"] = rng.choice(CONTENT_TYPES)
    for name in rng.sample(["Authorization", "X-API-Key", "Accept", "X-Forwarded-For"], 2):
        if rng.random() < 0.3:
            headers[name] = odd()
    return headers


# The server ----------------------------------------------------------------------------------


@pytest.fixture
def sunco() -> Iterator[StandIn]:
    """A SunCo that knows no conversation."""
    with StandIn(lambda _: (404, {"errors": [{"code": "not_found", "title": "Not found"}]})) as api:
        yield api


@pytest.fixture
def telegram_api() -> Iterator[TelegramApi]:
    with bot_api() as api:
        yield api


@pytest.fixture
async def server(
    tmp_path: Path,
    telegram_api: TelegramApi,
    sunco: StandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[TelegramRasa]:
    twilio = TwilioMediaInput("ACfuzz", "fuzz_token", "+15005550006")
    settings = {**SETTINGS, "api_url": sunco.base_url + "/sc"}
    settings["connectors"]["eu"]["api_url"] = sunco.base_url + "/sc"  # type: ignore[index]
    rasa = await start_telegram_rasa(
        tmp_path, telegram_api, monkeypatch, settings=settings, more=[twilio]
    )
    yield rasa
    await stop_telegram_rasa(rasa)


async def no_5xx(rasa: TelegramRasa, cases: List[Case]) -> None:
    """Send every case; fail naming each one that got a 5xx."""
    failures: List[str] = []
    async with httpx.AsyncClient(base_url=rasa.url, timeout=20) as http:
        for case in cases:
            url = case.path + (f"?{case.query}" if case.query else "")
            try:
                answer = await http.request(
                    case.method, url, content=case.body, headers=case.headers
                )
            except httpx.LocalProtocolError:  # the client would not send it
                continue
            if answer.status_code >= 500:
                failures.append(f"{answer.status_code} {answer.text[:200]} <- {case!r}")
        health = await http.get("/webhooks/zendesk/health")
        assert health.status_code == 200
    assert failures == [], "\n".join(failures)


def cases_of(make: Callable[[random.Random, int], Case], salt: int) -> List[Case]:
    rng = random.Random(SEED * 1000 + salt)
    return [make(rng, index) for index in range(CASES)]


# SunCo's webhooks ----------------------------------------------------------------------------


def sunco_events(rng: random.Random) -> Dict[str, Any]:
    conversation_id, sender_id = "conv_" + new_id(), "webchat-" + new_id()
    if rng.random() < 0.5:
        return message_webhook(conversation_id, sender_id, {"type": "text", "text": "Hi"})
    return release_webhook(conversation_id, sender_id)


@pytest.mark.parametrize("route, secret", [("", SECRET), ("/eu", EU_SECRET)])
async def test_the_sunco_webhooks(server: TelegramRasa, route: str, secret: str) -> None:
    path = f"/webhooks/zendesk{route}/webhook"

    def make(rng: random.Random, _: int) -> Case:
        good = {"X-API-Key": secret, "Content-Type": "application/json"}
        headers = hostile_headers(rng, good)
        return Case("POST", path, hostile_body(rng, sunco_events(rng)), headers, hostile_query(rng))

    await no_5xx(server, cases_of(make, len(route)))
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        good = await http.post(
            path, json=sunco_events(random.Random(1)), headers={"X-API-Key": secret}
        )
    assert good.status_code == 200, good.text


# Zendesk's ticket-status webhook ---------------------------------------------------------


@pytest.mark.parametrize("route", ["", "/eu"])
async def test_the_ticket_status_webhooks(server: TelegramRasa, route: str) -> None:
    path = f"/webhooks/zendesk{route}/ticket_status"

    def make(rng: random.Random, _: int) -> Case:
        event = ticket_event("conv_" + new_id(), rng.choice(["SOLVED", "CLOSED", "OPEN"]))
        headers = hostile_headers(rng, {"X-API-Key": TICKET_KEY})
        return Case("POST", path, hostile_body(rng, event), headers, hostile_query(rng))

    await no_5xx(server, cases_of(make, 10 + len(route)))
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        good = await http.post(
            path, json=ticket_event("conv_" + new_id(), "OPEN"), headers={"X-API-Key": TICKET_KEY}
        )
    assert good.status_code == 200, good.text


# The attachment links --------------------------------------------------------------------


def hostile_token(rng: random.Random, valid: str) -> str:
    roll = rng.random()
    if roll < 0.15:
        return rng.choice(["W1tb" * 600 + ".AAAA", "e30." * 300, ".", "..", "a" * 9000, "é.é"])
    if roll < 0.8:
        return mutate_bytes(rng, valid.encode()).decode("latin-1")
    body, _, signature = valid.partition(".")
    claims = json.loads(_unb64(body))
    forged = json.dumps(mutate_value(rng, claims)).encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(forged).rstrip(b"=").decode() + "." + signature


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def test_the_attachment_links(server: TelegramRasa) -> None:
    links = links_of(server.server.app.ctx.input_channels)
    assert links is not None
    valid = [
        links.sign("default", "/sc/attachments/v2/01FUZZ/receipt.png", "receipt.png"),
        links.sign("eu", "/sc/attachments/v2/01FUZZ/x.pdf", "x.pdf"),
        links.sign("default", "AgACAgIAAxkBAAIBZ2Xlarge", "photo.jpg", "telegram"),
    ]

    def make(rng: random.Random, _: int) -> Case:
        token = hostile_token(rng, rng.choice(valid))
        name = rng.choice(["", "/receipt.png", "/" + quote("é\x00", safe=""), "/%ff", "/..%2f"])
        path = "/webhooks/zendesk/attachments/" + quote(token, safe="") + name
        headers = hostile_headers(rng, {"Range": "bytes=0-10"})
        return Case(rng.choice(["GET", "HEAD"]), path, b"", headers, hostile_query(rng))

    known = [  # a token parsed before its signature was checked: a RecursionError, a 500
        Case("GET", f"/webhooks/zendesk/attachments/{'W1tb' * 500}.{signature}/x.png")
        for signature in ("", "AAAA", valid[0].partition(".")[2])
    ]
    await no_5xx(server, known + cases_of(make, 20))
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        photo = await http.get(f"/webhooks/zendesk/attachments/{valid[2]}/photo.jpg")
    assert photo.status_code == 200 and photo.content  # the Bot API stand-in's file


# Metrics -------------------------------------------------------------------------------------


async def test_the_metrics(server: TelegramRasa) -> None:
    def make(rng: random.Random, _: int) -> Case:
        good = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        path = rng.choice(["/webhooks/zendesk/metrics", "/webhooks/zendesk/health"])
        headers = hostile_headers(rng, good)
        return Case("GET", path, b"", headers, hostile_query(rng))

    await no_5xx(server, cases_of(make, 30))
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        good = await http.get(
            "/webhooks/zendesk/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
    assert good.status_code == 200 and "rasa_zendesk" in good.text


# Twilio --------------------------------------------------------------------------------------

TWILIO_FIELDS = ["From", "To", "Body", "NumMedia", "MediaUrl0", "MediaContentType0", "Latitude"]


async def test_the_twilio_input(server: TelegramRasa) -> None:
    path = "/webhooks/twilio/webhook"

    def make(rng: random.Random, index: int) -> Case:
        form: Dict[str, str] = {
            "From": f"+1555000{index:04d}",
            "To": "+15005550006",
            "Body": "hello",
            "NumMedia": "1",
            "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/ACfuzz/Media/ME1",
            "MediaContentType0": "image/jpeg",
        }
        for name in rng.sample(TWILIO_FIELDS, rng.randint(1, 3)):
            value = rng.choice(HOSTILE_VALUES)
            if value is None:
                form.pop(name, None)
            else:
                form[name] = str(value)[:3000]
        body = urlencode(form, encoding="utf-8", errors="surrogatepass").encode()
        if rng.random() < 0.3:
            body = mutate_bytes(rng, body)
        headers = hostile_headers(rng, {"Content-Type": "application/x-www-form-urlencoded"})
        return Case(rng.choice(["POST", "POST", "GET"]), path, body, headers, hostile_query(rng))

    await no_5xx(server, cases_of(make, 40))
    before = len(server.received)
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        good = await http.post(path, data={"From": "+15551112222", "Body": "still here"})
    assert good.status_code == 204 and len(server.received) == before + 1


# Telegram ------------------------------------------------------------------------------------


def telegram_updates(rng: random.Random, index: int) -> Dict[str, Any]:
    return rng.choice(
        [
            photo_update(index),
            document_update(index),
            message_update(index, text="hello"),
            {"update_id": index, "callback_query": {"id": "1", "data": "yes"}},
            {"update_id": index, "edited_message": message_update(index, text="x")["message"]},
        ]
    )


async def test_the_telegram_input(server: TelegramRasa) -> None:
    path = "/webhooks/telegram/webhook"

    def make(rng: random.Random, index: int) -> Case:
        body = hostile_body(rng, telegram_updates(rng, index))
        headers = hostile_headers(rng, {"Content-Type": "application/json"})
        return Case(rng.choice(["POST", "POST", "GET"]), path, body, headers, hostile_query(rng))

    await no_5xx(server, cases_of(make, 50))
    before = len(server.received)
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        answer = await http.post(path, json=message_update(9999, text="still here"))
    assert answer.status_code == 200 and len(server.received) == before + 1


@pytest.mark.parametrize(
    "path, header",
    [
        ("/webhooks/zendesk/webhook", "X-API-Key"),
        ("/webhooks/zendesk/eu/webhook", "X-API-Key"),
        ("/webhooks/zendesk/metrics", "Authorization"),
    ],
)
async def test_a_secret_header_that_is_not_utf8_is_a_401(
    server: TelegramRasa, path: str, header: str
) -> None:
    value = b"Bearer \xff\xfe" if header == "Authorization" else b"\xff\xfe"
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        method = "GET" if path.endswith("metrics") else "POST"
        answer = await http.request(method, path, content=b"{}", headers={header: value})
    assert answer.status_code == 401


async def test_a_malformed_accept_header_leaves_an_error_a_4xx_with_only_the_zendesk_channel(
    tmp_path: Path,
) -> None:
    rasa = await start_rasa(tmp_path / "tracker.db")
    try:
        async with httpx.AsyncClient(base_url=rasa.url, timeout=20) as http:
            wrong_method = await http.get("/webhooks/zendesk/webhook", headers={"Accept": "foo"})
    finally:
        await rasa.stop()
    assert wrong_method.status_code == 405
