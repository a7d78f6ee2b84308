"""Loopback stand-ins of the messaging platforms' HTTP APIs, for Rasa's own channel classes.

Each stand-in is a real HTTP server on 127.0.0.1 in a thread of its own (Rasa's Twilio and
Messenger output channels make blocking `requests` calls, which must not wait on the test's
event loop), answering as the platform does and recording what it received:

- `SlackApi`: the Web API's `chat.postMessage` (slack_sdk's `AsyncWebClient`);
- `TwilioApi`: the Messages API, `POST /2010-04-01/Accounts/{sid}/Messages.json` (twilio);
- `TelegramApi`: the Bot API, `POST /bot{token}/{method}` (aiogram);
- `GraphApi`: Messenger's Send API, `POST /v{version}/me/messages` (fbmessenger);
- `CallbackServer`: the URL of Rasa's callback channel.

`point_*_at` make Rasa's classes talk to a stand-in instead of the platform (the Rasa classes
themselves are not changed): slack_sdk's and fbmessenger's base URLs, Twilio's host, aiogram's
`TelegramAPIServer`. No request ever leaves the machine. Below them: Rasa's input channels as
credentials.yml makes them, pointed at the stand-ins, and an agent's rich messages as SunCo
contents.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest
from aiogram.bot.api import TelegramAPIServer
from rasa.core.channels.channel import InputChannel
from rasa.core.channels.facebook import FacebookInput
from rasa.core.channels.slack import SlackInput
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.core.channels.twilio import TwilioInput

from rasa_zendesk.platforms import twilio as twilio_platform
from rasa_zendesk.platforms.outputs import user_output
from testkit.spec import load_examples

Answer = Tuple[int, Any]


@dataclass(frozen=True)
class Blob:
    """An answer that is bytes of a media type, not JSON (a file download)."""

    data: bytes
    media_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Redirect:
    """An answer that sends the client elsewhere (`Location`)."""

    location: str


def basic_auth(user: str, password: str) -> str:
    """The `Authorization` header of HTTP Basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


@dataclass
class Received:
    """One request a stand-in received."""

    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> Dict[str, List[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def fields(self) -> Dict[str, Any]:
        """The body as one dict: JSON as it is, a form with single values unwrapped."""
        if self.headers.get("content-type", "").startswith("application/json"):
            return self.json()
        return {
            key: values[0] if len(values) == 1 else values for key, values in self.form().items()
        }


@dataclass
class StandIn:
    """A threaded loopback HTTP server; `answer(request)` gives each (status, JSON body)."""

    answer: Callable[[Received], Answer]
    received: List[Received] = field(default_factory=list)
    base_url: str = ""
    #: Seconds each answer takes (a slow platform).
    delay: float = 0.0
    #: The port to listen on (0: any free one), for a stand-in that starts after its user.
    port: int = 0
    _server: Optional[ThreadingHTTPServer] = None

    def start(self) -> StandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Received(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                stand_in.received.append(request)
                time.sleep(stand_in.delay)
                status, body = stand_in.answer(request)
                media_type = body.media_type if isinstance(body, Blob) else "application/json"
                if isinstance(body, Blob):
                    data = body.data
                elif isinstance(body, Redirect):
                    data = b""
                else:
                    data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if isinstance(body, Redirect):
                    self.send_header("Location", body.location)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}"
        # `shutdown` waits for the serving loop's next poll: 0.5 s by default, for each test.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


# Slack -------------------------------------------------------------------------------------


class SlackApi(StandIn):
    """Slack's Web API: `chat.postMessage` answers `ok` with the message's `ts`."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self._ts = itertools.count(1)

    def _answer(self, request: Received) -> Answer:
        if not request.path.startswith("/api/"):
            return 404, {"ok": False, "error": "unknown_method"}
        if request.headers.get("authorization", "") != f"Bearer {SLACK_TOKEN}":
            return 200, {"ok": False, "error": "invalid_auth"}
        body = request.fields()
        thread_ts = body.get("thread_ts")
        if thread_ts is not None and not SLACK_TS.fullmatch(str(thread_ts)):
            return 200, {"ok": False, "error": "invalid_thread_ts"}
        ts = f"1700000000.{next(self._ts):06d}"
        return 200, {"ok": True, "channel": body.get("channel"), "ts": ts, "message": body}

    def posts(self) -> List[Dict[str, Any]]:
        """The bodies of `chat.postMessage`, in order."""
        return [r.fields() for r in self.received if r.path == "/api/chat.postMessage"]


SLACK_TOKEN = "xoxb-0000000000-standin"
SLACK_SIGNING_SECRET = "slack-signing-secret-standin"
#: A message's `ts` (and a thread's `thread_ts`, its first message's): seconds, microseconds.
SLACK_TS = re.compile(r"\d{10}\.\d{6}")


def slack_signed(body: str, content_type: str = "application/json") -> Dict[str, Any]:
    """An HTTP request's content and headers as Slack signs them (`X-Slack-Signature`)."""
    stamp = str(int(time.time()))
    digest = hmac.new(
        SLACK_SIGNING_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "content": body,
        "headers": {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest}",
        },
    }


def point_slack_at(monkeypatch: pytest.MonkeyPatch, api: SlackApi) -> None:
    """Rasa's `SlackBot` makes an `AsyncWebClient`: make it talk to the stand-in."""
    import rasa.core.channels.slack as slack
    from slack_sdk.web.async_client import AsyncWebClient

    monkeypatch.setattr(
        slack, "AsyncWebClient", functools.partial(AsyncWebClient, base_url=api.base_url + "/api/")
    )


# Twilio ------------------------------------------------------------------------------------

TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-auth-token-standin"
TWILIO_NUMBER = "+15550001111"


class TwilioApi(StandIn):
    """Twilio's Messages API: a message resource, `queued`, for each create. A user's media
    (`add_media`) is on `GET .../Messages/{MM}/Media/{ME}` with the account's Basic auth
    only (Twilio's 401 `20003` otherwise, as for an account that protects its media), which
    redirects to the bytes on a CDN (`cdn`, another origin) that refuses a request carrying
    an `Authorization` header, as S3's signed URLs do."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self._sids = itertools.count(1)
        #: media path -> (bytes, media type)
        self.media: Dict[str, Tuple[bytes, str]] = {}
        self.cdn = StandIn(self._cdn_answer)

    def start(self) -> TwilioApi:
        self.cdn.start()
        super().start()
        return self

    def stop(self) -> None:
        super().stop()
        self.cdn.stop()

    def add_media(self, number: int, data: bytes, media_type: str) -> str:
        """A file a user sent by MMS or WhatsApp: its URL, as the webhook's `MediaUrl0`."""
        path = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM{number:032d}/Media/ME{number:032d}"
        self.media[path] = (data, media_type)
        return self.base_url + path

    def _media_answer(self, request: Received) -> Answer:
        if request.headers.get("authorization") != basic_auth(TWILIO_SID, TWILIO_TOKEN):
            return 401, {
                "code": 20003,
                "message": "Authenticate",
                "more_info": "https://www.twilio.com/docs/errors/20003",
                "status": 401,
            }
        if request.path not in self.media:
            return 404, {
                "code": 20404,
                "message": f"The requested resource {request.path} was not found",
                "more_info": "https://www.twilio.com/docs/errors/20404",
                "status": 404,
            }
        return 307, Redirect(f"{self.cdn.base_url}/media{request.path}")

    def _cdn_answer(self, request: Received) -> Answer:
        if "authorization" in request.headers:
            message = "Only one auth mechanism allowed"
            error = f"<Error><Code>InvalidArgument</Code><Message>{message}</Message></Error>"
            return 400, Blob(error.encode(), "application/xml")
        found = self.media.get(request.path.removeprefix("/media"))
        if found is None:
            return 404, Blob(b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
        return 200, Blob(*found)

    def _answer(self, request: Received) -> Answer:
        if request.method == "GET" and "/Media/" in request.path:
            return self._media_answer(request)
        expected = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
        if request.method != "POST" or request.path != expected:
            return 404, {"code": 20404, "message": "not found", "status": 404}
        form = request.form()
        return 201, {
            "sid": f"SM{next(self._sids):032d}",
            "account_sid": TWILIO_SID,
            "to": form.get("To", [None])[0],
            "from": form.get("From", [None])[0],
            "body": form.get("Body", [""])[0],
            "status": "queued",
            "num_media": str(len(form.get("MediaUrl", []))),
            "direction": "outbound-api",
            "api_version": "2010-04-01",
        }

    def messages(self) -> List[Dict[str, List[str]]]:
        """The forms of the messages created, in order."""
        return [r.form() for r in self.received if r.path.endswith("/Messages.json")]


def point_twilio_at(monkeypatch: pytest.MonkeyPatch, api: TwilioApi) -> None:
    """Twilio's client sends to `https://api.twilio.com`: send to the stand-in instead."""
    import twilio.base.client_base as client_base
    from twilio.http.http_client import TwilioHttpClient

    class StandInHttpClient(TwilioHttpClient):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            url = url.replace("https://api.twilio.com", api.base_url)
            return super().request(method, url, *args, **kwargs)

    monkeypatch.setattr(client_base, "TwilioHttpClient", StandInHttpClient)
    monkeypatch.setattr(twilio_platform, "API_URL", api.base_url)  # users' media


# Telegram ----------------------------------------------------------------------------------

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


class TelegramApi(StandIn):
    """Telegram's Bot API: a sent message for each `send*`; `fail_media` makes `sendPhoto`
    and `sendDocument` fail as Telegram does when it cannot fetch the URL. A user's files
    (`add_file`) are found with `getFile` and downloaded from `/file/bot{token}/{file_path}`,
    both only with `TELEGRAM_TOKEN`; a file over the Bot API's 20 MB is "too big"."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self._ids = itertools.count(1)
        self.fail_media = False
        #: The number of the `send*` call (1 for the first) answered once with Telegram's
        #: 429 flood wait, as when a chat gets messages too fast.
        self.refuse_send_once: Optional[int] = None
        self._sends = 0
        #: The ids of the button presses (callback queries) Telegram sent and the bot has
        #: not answered yet (`pressed`): each may be answered once.
        self.open_queries: List[str] = []
        #: file id -> (file path, bytes, media type, the size Telegram says)
        self.files: Dict[str, Tuple[str, bytes, str, int]] = {}

    def add_file(
        self, file_id: str, file_path: str, data: bytes, media_type: str, size: int = -1
    ) -> None:
        """A file a user sent; `size` is what Telegram says it is (default: its length)."""
        self.files[file_id] = (file_path, data, media_type, len(data) if size < 0 else size)

    def pressed(self, query_id: str) -> str:
        """A press of an inline button: Telegram sends the bot a callback query by this id."""
        self.open_queries.append(query_id)
        return query_id

    def _answer_query(self, fields: Dict[str, Any]) -> Answer:
        query_id = fields.get("callback_query_id")
        if query_id not in self.open_queries:  # unknown, answered already, or none given
            description = (
                "Bad Request: query is too old and response timeout expired or query ID is "
                "invalid"
            )
            return 400, {"ok": False, "error_code": 400, "description": description}
        self.open_queries.remove(query_id)
        return 200, {"ok": True, "result": True}

    def downloads(self) -> List[str]:
        """The file paths downloaded, in order."""
        prefix = f"/file/bot{TELEGRAM_TOKEN}/"
        return [r.path[len(prefix) :] for r in self.received if r.path.startswith(prefix)]

    def _file_answer(self, request: Received) -> Answer:
        for file_path, data, media_type, _ in self.files.values():
            if request.path == f"/file/bot{TELEGRAM_TOKEN}/{file_path}":
                return 200, Blob(data, media_type)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _get_file(self, fields: Dict[str, Any]) -> Answer:
        file_id = fields.get("file_id") or ""
        if file_id not in self.files:
            description = "Bad Request: invalid file_id"
            return 400, {"ok": False, "error_code": 400, "description": description}
        file_path, _, _, size = self.files[file_id]
        if size > 20 * 1024 * 1024:
            description = "Bad Request: file is too big"
            return 400, {"ok": False, "error_code": 400, "description": description}
        result = {"file_id": file_id, "file_unique_id": "u" + file_id[-8:], "file_size": size}
        return 200, {"ok": True, "result": {**result, "file_path": file_path}}

    def _answer(self, request: Received) -> Answer:
        if request.path.startswith("/file/"):
            return self._file_answer(request)
        method = request.path.rsplit("/", 1)[-1]
        fields = request.fields()
        if method == "getFile":
            if request.path != f"/bot{TELEGRAM_TOKEN}/getFile":
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            query = {key: values[0] for key, values in request.query.items()}
            return self._get_file({**query, **fields})
        if method == "answerCallbackQuery":
            return self._answer_query(fields)
        if self.fail_media and method in ("sendPhoto", "sendDocument"):
            description = "Bad Request: wrong file identifier/HTTP URL specified"
            return 400, {"ok": False, "error_code": 400, "description": description}
        if method == "getMe":
            return 200, {
                "ok": True,
                "result": {"id": 1, "is_bot": True, "first_name": "Acme", "username": "acme_bot"},
            }
        if not method.startswith("send") or method == "sendChatAction":
            return 200, {"ok": True, "result": True}
        self._sends += 1
        if self._sends == self.refuse_send_once:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
        chat = {"id": int(fields.get("chat_id", 0)), "type": "private"}
        message = {"message_id": next(self._ids), "date": 1_700_000_000, "chat": chat}
        return 200, {"ok": True, "result": message}

    def calls(self) -> List[Tuple[str, Dict[str, Any]]]:
        """(method, parameters) of each call, `reply_markup` parsed."""
        made = []
        for request in self.received:
            fields = request.fields()
            if isinstance(fields.get("reply_markup"), str):
                fields["reply_markup"] = json.loads(fields["reply_markup"])
            made.append((request.path.rsplit("/", 1)[-1], fields))
        return made


# Facebook Messenger ------------------------------------------------------------------------

PAGE_TOKEN = "page-access-token-standin"


class GraphApi(StandIn):
    """Messenger's Send API: a message id for each message, success for a sender action."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self._ids = itertools.count(1)

    def _answer(self, request: Received) -> Answer:
        if not request.path.endswith("/me/messages"):
            return 404, {"error": {"message": "Unknown path", "code": 803}}
        if request.query.get("access_token") != [PAGE_TOKEN]:
            return 400, {"error": {"message": "Invalid OAuth access token", "code": 190}}
        body = request.json()
        recipient = body.get("recipient", {}).get("id")
        if "sender_action" in body:
            return 200, {"recipient_id": recipient}
        return 200, {"recipient_id": recipient, "message_id": f"m_{next(self._ids)}"}

    def sent(self) -> List[Dict[str, Any]]:
        return [r.json() for r in self.received]


def point_messenger_at(monkeypatch: pytest.MonkeyPatch, api: GraphApi) -> None:
    """fbmessenger's client posts to `https://graph.facebook.com/v...`: to the stand-in."""
    import rasa.core.channels.facebook as facebook
    from fbmessenger import MessengerClient

    def client(page_access_token: str, **kwargs: Any) -> MessengerClient:
        made = MessengerClient(page_access_token, **kwargs)
        made.graph_url = f"{api.base_url}/v{made.api_version}"
        return made

    monkeypatch.setattr(facebook, "MessengerClient", client)


# The callback channel ----------------------------------------------------------------------


class CallbackServer(StandIn):
    """The bot owner's callback URL: records each message Rasa's callback channel posts. With
    a `port`, its URL is known before it starts (a callback URL that is down, then up)."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(lambda request: (200, None), port=port)
        if port:
            self.base_url = f"http://127.0.0.1:{port}"

    @property
    def url(self) -> str:
        return self.base_url + "/callback"

    def messages(self) -> List[Dict[str, Any]]:
        return [r.json() for r in self.received if r.path == "/callback"]

    def texts(self) -> List[str]:
        return [message.get("text") or "" for message in self.messages()]


# The stand-ins as fixtures (a conftest imports them) ----------------------------------------


@pytest.fixture(name="slack_api")
def slack_api_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackApi]:
    with SlackApi() as api:
        point_slack_at(monkeypatch, api)
        yield api


@pytest.fixture(name="twilio_api")
def twilio_api_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[TwilioApi]:
    with TwilioApi() as api:
        point_twilio_at(monkeypatch, api)
        yield api


@pytest.fixture(name="graph_api")
def graph_api_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphApi]:
    with GraphApi() as api:
        point_messenger_at(monkeypatch, api)
        yield api


@pytest.fixture(name="telegram_api")
def telegram_api_fixture() -> Iterator[TelegramApi]:
    with TelegramApi() as api:
        yield api


@pytest.fixture(name="callback")
def callback_fixture() -> Iterator[CallbackServer]:
    with CallbackServer() as server:
        yield server


# Rasa's input channels, pointed at the stand-ins ------------------------------------------


def slack_input(use_threads: bool = True, granularity: str = "sender") -> SlackInput:
    """Rasa's Slack channel as credentials.yml makes it."""
    channel = SlackInput.from_credentials(
        {
            "slack_token": SLACK_TOKEN,
            "slack_channel": "C0DEFAULT",  # where get_output_channel() alone would post
            "slack_signing_secret": SLACK_SIGNING_SECRET,
            "use_threads": use_threads,
            "conversation_granularity": granularity,
        }
    )
    assert isinstance(channel, SlackInput)
    return channel


def slack_event_metadata(channel: str, ts: str, thread_ts: Optional[str] = None) -> Dict[str, Any]:
    """What Rasa's `SlackInput.get_metadata` makes of Slack's event for a user's message."""
    event = {"type": "message", "user": "U0USER", "channel": channel, "ts": ts, "text": "hi"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    body = {"type": "event_callback", "event": event, "authorizations": [{"user_id": "U0BOT"}]}
    request = SimpleNamespace(headers={"content-type": "application/json"}, json=body)
    return slack_input().get_metadata(request)  # type: ignore[arg-type]


def text(value: str) -> Dict[str, Any]:
    return {"type": "text", "text": value}


def twilio_input() -> TwilioInput:
    return TwilioInput(TWILIO_SID, TWILIO_TOKEN, TWILIO_NUMBER)


def facebook_input() -> FacebookInput:
    return FacebookInput("verify-token", "app-secret", PAGE_TOKEN)


def add_telegram(channels: List[InputChannel], api: TelegramApi) -> TelegramOutput:
    """A Telegram channel, its kept output channel pointed at the stand-in."""
    channels.append(TelegramInput(TELEGRAM_TOKEN, "acme_bot", "https://bot.example.org/tg"))
    output = user_output(channels, None, "telegram")
    assert isinstance(output, TelegramOutput)
    output.server = TelegramAPIServer.from_base(api.base_url)
    return output


def without_chat(fields: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in fields.items() if key != "chat_id"}


# The agent's rich messages, as SunCo contents ---------------------------------------------

DOCS = "https://example.org/docs"
PLANS = "https://example.org/plans"
TACO = "https://example.org/image.jpg"
MAP = "https://www.openstreetmap.org/?mlat=52.52&mlon=13.405"


def text_with(text: str, *actions: Tuple[str, str, str]) -> Dict[str, Any]:
    """A SunCo text content offering `actions`, each (type, label, payload or a link's URI)."""
    return {
        "type": "text",
        "text": text,
        "actions": [
            {"type": kind, "text": label, ("uri" if kind == "link" else "payload"): value}
            for kind, label, value in actions
        ],
    }


QUICK_REPLIES = text_with("Which size?", ("reply", "Small", "SIZE_S"), ("reply", "Large", "SIZE_L"))
POSTBACK_AND_LINK = text_with("Pick one", ("postback", "Yes", "YES"), ("link", "Docs", DOCS))
#: Tacos and Ramen, each "Select" (postback) and "More info".
CAROUSEL = copy.deepcopy(load_examples()["carousel"]["content"])
LOCATION = {
    "type": "location",
    "coordinates": {"lat": 52.52, "long": 13.405},
    "location": {"name": "Acme store", "address": "1 Main St"},
}
FORM = {
    "type": "form",
    "fields": [
        {
            "type": "select",
            "name": "size",
            "label": "Size",
            "options": [{"name": "s", "label": "Small"}, {"name": "l", "label": "Large"}],
        }
    ],
}
LIST = {
    "type": "list",
    "items": [
        {
            "title": "Plan A",
            "description": "10 EUR a month",
            "actions": [{"type": "postback", "text": "Choose", "payload": "PLAN_A"}],
        }
    ],
    "actions": [{"type": "link", "text": "All plans", "uri": PLANS}],
}
IMAGE_WITH_ACTIONS = {
    "type": "image",
    "mediaUrl": TACO,
    "text": "Like it?",
    "actions": [{"type": "reply", "text": "Yes"}, {"type": "reply", "text": "No"}],
}
ALL = [QUICK_REPLIES, POSTBACK_AND_LINK, CAROUSEL, LOCATION, FORM, LIST, IMAGE_WITH_ACTIONS]
