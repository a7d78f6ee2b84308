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
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest
from aiogram.bot.api import TelegramAPIServer
from rasa.core.channels.callback import CallbackInput
from rasa.core.channels.channel import InputChannel
from rasa.core.channels.facebook import FacebookInput
from rasa.core.channels.slack import SlackInput
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.core.channels.twilio import TwilioInput
from rasa.utils.endpoints import EndpointConfig

from rasa_zendesk import clock
from rasa_zendesk.platforms.outputs import user_output
from testkit.spec import load_examples

Answer = Tuple[int, Any]


@dataclass(frozen=True)
class Blob:
    """An answer that is bytes of a media type, not JSON (a file download)."""

    data: bytes
    media_type: str = "application/octet-stream"


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
                else:
                    data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
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
    """Slack's Web API: `chat.postMessage` answers `ok` with the message's `ts`, checked as
    Slack checks it (HTTP 200 with `ok: false` and the error): the bot token (`not_authed`,
    `invalid_auth`), a channel (`channel_not_found`), text or blocks (`no_text`), 40,000
    characters of text (`msg_too_long`), and the channels that refuse (`refuse`: channel ->
    `is_archived`, `not_in_channel`, `channel_not_found`)."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self._ts = itertools.count(1)
        self.refuse: Dict[str, str] = {}

    def _answer(self, request: Received) -> Answer:
        if not request.path.startswith("/api/"):
            return 404, {"ok": False, "error": "unknown_method"}
        authorization = request.headers.get("authorization", "")
        if not authorization:
            return 200, {"ok": False, "error": "not_authed"}
        if authorization != f"Bearer {SLACK_TOKEN}":
            return 200, {"ok": False, "error": "invalid_auth"}
        body = request.fields()
        if request.path == "/api/chat.postMessage":
            channel = body.get("channel")
            error = self.refuse.get(channel) if channel else "channel_not_found"
            if error is None and not body.get("text") and not body.get("blocks"):
                error = "no_text"
            if error is None and len(body.get("text") or "") > 40000:
                error = "msg_too_long"
            if error is not None:
                return 200, {"ok": False, "error": error}
        ts = f"1700000000.{next(self._ts):06d}"
        return 200, {"ok": True, "channel": body.get("channel"), "ts": ts, "message": body}

    def posts(self) -> List[Dict[str, Any]]:
        """The bodies of `chat.postMessage`, in order."""
        return [r.fields() for r in self.received if r.path == "/api/chat.postMessage"]


SLACK_TOKEN = "xoxb-0000000000-standin"
SLACK_SIGNING_SECRET = "slack-signing-secret-standin"


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
    """Twilio's Messages API: a message resource, `queued`, for each create, checked as Twilio
    checks it: Basic auth with the account SID and auth token (20003), the account's path
    (20404), `To` (21604), `From` (21603), a body or media (21602), E.164 numbers (21211), the
    same channel on both sides (21910), 1,600 characters of SMS body, 4,096 on WhatsApp
    (21617), no unsubscribed recipient (21610, `unsubscribed`). A WhatsApp user can be
    written to only within 24 hours of their last message (`user_wrote`): outside it the
    stand-in refuses the create with 63016 at once, where Twilio accepts it and fails it
    with 63016 right after (a plugin that skipped its own check would see it here)."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self._sids = itertools.count(1)
        #: Numbers that replied STOP.
        self.unsubscribed: Set[str] = set()
        #: WhatsApp address -> when its user last wrote (epoch seconds, the plugin's clock).
        self.whatsapp_users: Dict[str, float] = {}

    def user_wrote(self, address: str, at: Optional[float] = None) -> None:
        """A WhatsApp user's message reached the business: their 24 hours start."""
        self.whatsapp_users[address] = clock.now() if at is None else at

    def _refusal(self, request: Received) -> Optional[Answer]:
        expected = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
        if request.headers.get("authorization") != basic_auth(TWILIO_SID, TWILIO_TOKEN):
            return twilio_error(401, 20003, "Authenticate")
        if request.method != "POST" or request.path != expected:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        form = {key: values[0] for key, values in request.form().items()}
        to, sender = form.get("To", ""), form.get("From", "")
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender and not form.get("MessagingServiceSid"):
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if not form.get("Body") and not request.form().get("MediaUrl"):
            return twilio_error(400, 21602, "Message body is required.")
        whatsapp = to.startswith("whatsapp:")
        if whatsapp != sender.startswith("whatsapp:"):
            return twilio_error(400, 21910, "Invalid 'From' and 'To' pair.")
        if not E164.fullmatch(to.removeprefix("whatsapp:")):
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if len(form.get("Body", "")) > (4096 if whatsapp else 1600):
            return twilio_error(400, 21617, "The concatenated message body exceeds the limit.")
        if to in self.unsubscribed:
            return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
        wrote = self.whatsapp_users.get(to)
        if whatsapp and (wrote is None or clock.now() - wrote > 24 * 3600):
            return twilio_error(
                400,
                63016,
                "Failed to send freeform message because you are " "outside the allowed window.",
            )
        return None

    def _answer(self, request: Received) -> Answer:
        refused = self._refusal(request)
        if refused is not None:
            return refused
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


E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def twilio_error(status: int, code: int, message: str) -> Answer:
    """Twilio's error body."""
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return status, {"code": code, "message": message, "more_info": more_info, "status": status}


def point_twilio_at(monkeypatch: pytest.MonkeyPatch, api: TwilioApi) -> None:
    """Twilio's client sends to `https://api.twilio.com`: send to the stand-in instead."""
    import twilio.base.client_base as client_base
    from twilio.http.http_client import TwilioHttpClient

    class StandInHttpClient(TwilioHttpClient):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            url = url.replace("https://api.twilio.com", api.base_url)
            return super().request(method, url, *args, **kwargs)

    monkeypatch.setattr(client_base, "TwilioHttpClient", StandInHttpClient)


# Telegram ----------------------------------------------------------------------------------

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


class TelegramApi(StandIn):
    """Telegram's Bot API: a sent message for each `send*`; `fail_media` makes `sendPhoto`
    and `sendDocument` fail as Telegram does when it cannot fetch the URL. A user's files
    (`add_file`) are found with `getFile` and downloaded from `/file/bot{token}/{file_path}`,
    both only with `TELEGRAM_TOKEN`; a file over the Bot API's 20 MB is "too big". Every
    method needs the bot token in its path (401); a `send*` call is checked as the Bot API
    checks it (`_refusal`), with its error shapes."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self._ids = itertools.count(1)
        self.fail_media = False
        #: file id -> (file path, bytes, media type, the size Telegram says)
        self.files: Dict[str, Tuple[str, bytes, str, int]] = {}
        #: Chats (ids as text) the bot does not know, and those whose user blocked it.
        self.gone: Set[str] = set()
        self.blocked: Set[str] = set()

    def add_file(
        self, file_id: str, file_path: str, data: bytes, media_type: str, size: int = -1
    ) -> None:
        """A file a user sent; `size` is what Telegram says it is (default: its length)."""
        self.files[file_id] = (file_path, data, media_type, len(data) if size < 0 else size)

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
        if method != "getFile" and request.path != f"/bot{TELEGRAM_TOKEN}/{method}":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        refused = self._refusal(method, fields)
        if refused is not None:
            return refused
        if method == "getFile":
            if request.path != f"/bot{TELEGRAM_TOKEN}/getFile":
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            query = {key: values[0] for key, values in request.query.items()}
            return self._get_file({**query, **fields})
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
        chat = {"id": int(fields["chat_id"]), "type": "private"}
        message = {"message_id": next(self._ids), "date": 1_700_000_000, "chat": chat}
        return 200, {"ok": True, "result": message}

    def _refusal(self, method: str, fields: Dict[str, Any]) -> Optional[Answer]:
        """What the Bot API refuses of a `send*` call: no `chat_id`, a chat the bot does not
        know (`gone`) or that blocked it (`blocked`), a missing or too long text or caption."""
        if not method.startswith("send"):
            return None
        chat = str(fields.get("chat_id") or "")
        if not chat:
            return telegram_error(400, "Bad Request: chat_id is empty")
        if chat in self.gone:
            return telegram_error(400, "Bad Request: chat not found")
        if chat in self.blocked:
            return telegram_error(403, "Forbidden: bot was blocked by the user")
        if method == "sendMessage" and not fields.get("text"):
            return telegram_error(400, "Bad Request: message text is empty")
        if len(str(fields.get("text") or "")) > 4096:
            return telegram_error(400, "Bad Request: message is too long")
        if len(str(fields.get("caption") or "")) > 1024:
            return telegram_error(400, "Bad Request: message caption is too long")
        return None

    def calls(self) -> List[Tuple[str, Dict[str, Any]]]:
        """(method, parameters) of each call, `reply_markup` parsed."""
        made = []
        for request in self.received:
            fields = request.fields()
            if isinstance(fields.get("reply_markup"), str):
                fields["reply_markup"] = json.loads(fields["reply_markup"])
            made.append((request.path.rsplit("/", 1)[-1], fields))
        return made


def telegram_error(status: int, description: str) -> Answer:
    """The Bot API's error body."""
    return status, {"ok": False, "error_code": status, "description": description}


# Facebook Messenger ------------------------------------------------------------------------

PAGE_TOKEN = "page-access-token-standin"


class GraphApi(StandIn):
    """Messenger's Send API: a message id for each message, success for a sender action,
    checked as Meta checks it: the page's `access_token` (190), the `/me/messages` path,
    a recipient (100), `messaging_type` (100), text up to 2,000 characters (100), a user who
    wrote to the page (100/2018001, `user_wrote`) and is available (551, `unavailable`),
    and the windows: `RESPONSE` within 24 hours of the user's last message, the
    `HUMAN_AGENT` tag within 7 days, else 10/2018278."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self._ids = itertools.count(1)
        #: Page-scoped id -> when the user last wrote (epoch seconds, the plugin's clock).
        self.users: Dict[str, float] = {}
        #: Users who cannot get messages (blocked the page, deactivated).
        self.unavailable: Set[str] = set()

    def user_wrote(self, psid: str, at: Optional[float] = None) -> None:
        self.users[psid] = clock.now() if at is None else at

    def _refusal(self, request: Received) -> Optional[Answer]:
        if not request.path.endswith("/me/messages"):
            return graph_error(404, 803, "(#803) Some of the aliases you requested do not exist")
        if request.query.get("access_token") != [PAGE_TOKEN]:
            return graph_error(400, 190, "Invalid OAuth access token.", kind="OAuthException")
        body = request.json()
        recipient = (body.get("recipient") or {}).get("id")
        if not recipient:
            return graph_error(400, 100, "(#100) The parameter recipient is required")
        action = "sender_action" in body
        if not action and body.get("messaging_type") not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return graph_error(
                400,
                100,
                "(#100) param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}",
            )
        text = (body.get("message") or {}).get("text")
        if isinstance(text, str) and len(text) > 2000:
            return graph_error(
                400, 100, "(#100) Length of param message[text] must be less than or equal to 2000"
            )
        if recipient not in self.users:
            return graph_error(400, 100, "(#100) No matching user found", subcode=2018001)
        if recipient in self.unavailable:
            return graph_error(
                400, 551, "(#551) This person isn't available right now.", subcode=1545041
            )
        since = clock.now() - self.users[recipient]
        tagged = body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT"
        allowed = 7 * 24 * 3600 if tagged and not action else 24 * 3600
        if since > allowed:
            message = "(#10) This message is sent outside of allowed window."
            return graph_error(400, 10, message, subcode=2018278)
        return None

    def _answer(self, request: Received) -> Answer:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        body = request.json()
        recipient = body["recipient"]["id"]
        if "sender_action" in body:
            return 200, {"recipient_id": recipient}
        return 200, {"recipient_id": recipient, "message_id": f"m_{next(self._ids)}"}

    def sent(self) -> List[Dict[str, Any]]:
        return [r.json() for r in self.received]


def graph_error(
    status: int,
    code: int,
    message: str,
    subcode: Optional[int] = None,
    kind: str = "OAuthException",
) -> Answer:
    """The Graph API's error body."""
    error: Dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    return status, {"error": {**error, "fbtrace_id": "AStandInTrace"}}


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
        super().__init__(lambda request: (self.status, None), port=port)
        #: The status every post gets (the bot owner's server refusing, or down).
        self.status = 200
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


#: Twilio's WhatsApp sender (the sandbox's number).
WHATSAPP_SENDER = "whatsapp:+14155238886"


def whatsapp_input() -> TwilioInput:
    """Rasa's Twilio channel with a WhatsApp sender as `twilio_number`."""
    return TwilioInput(TWILIO_SID, TWILIO_TOKEN, WHATSAPP_SENDER)


def callback_input(server: CallbackServer) -> CallbackInput:
    """Rasa's callback channel posting to `server`."""
    return CallbackInput(EndpointConfig(url=server.url))


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
