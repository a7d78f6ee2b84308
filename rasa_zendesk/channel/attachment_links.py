"""Private Zendesk attachments, given to the user as links the channel serves itself.

With Zendesk's "private attachments" on, a SunCo `mediaUrl` answers only a request that
carries the app's credentials: the user's platform (a browser, Slack, Telegram, Twilio) cannot
open it. For a connector with `private_attachments` (`ZENDESK_PRIVATE_ATTACHMENTS`, or
`ZENDESK_CONNECTOR_<NAME>_PRIVATE_ATTACHMENTS`), each image, file and card image of an agent's
message that lies under its SunCo API's `/attachments/` is sent to the user as

    <public_url>/webhooks/zendesk/attachments/<token>/<file name>

where `public_url` (`ZENDESK_PUBLIC_URL`) is where the user's platform reaches this Rasa
server. The token names the connector, the attachment's path and the link's expiry
(`attachment_link_ttl`, `ZENDESK_ATTACHMENT_LINK_TTL`, seconds, default 86400), signed with
HMAC-SHA256 under a key derived from the connector's webhook secret: it cannot be made or
altered without that secret, and any instance of the bot can check it. `GET` (or `HEAD`) on
the link checks it (404 for a link that is not one of ours, 410 once it expired), fetches the
attachment from Zendesk with the connector's key and streams it back. The key never leaves the
server: neither the link nor the answer carries it, and only the connector's own attachments
are ever fetched with it. The answer keeps the attachment's type, names the file, may be cached
privately until the link expires, and cannot run in the page (`nosniff`, a sandboxing
Content-Security-Policy; only images, audio, video and PDF are shown inline).

Without `public_url` a private attachment cannot be given to the user: it is linked as it is
(the user cannot open it) and a warning says which setting is missing. The tracker always keeps
the SunCo URL: a link is made for each delivery.

A link can also name a file a Telegram user sent (`rasa_zendesk.channel.media_inputs`): its
Telegram file id, signed the same way (with the default connector's key). Telegram's download
address carries the bot token, so it must never reach the tracker, the logs or the action
server; the link does not carry it: when the link is requested, the channel asks the Bot API
for the file (`getFile`, then the file's download path) with the token of the Rasa server's
Telegram input channel and streams it back. The requests' addresses are never logged (httpx's
request log is redacted).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple
from urllib.parse import quote, unquote, urlsplit

import httpx
from pydantic import BaseModel
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_zendesk import clock
from rasa_zendesk.channel.rich import Rich
from rasa_zendesk.settings import (
    DEFAULT_CONNECTOR,
    Connectors,
    SettingsError,
    Sources,
    ZendeskSettings,
)

logger = logging.getLogger(__name__)

#: Where the channel serves the links, under its `/webhooks/zendesk` prefix.
ROUTE = "/attachments"
DEFAULT_TTL_SECONDS = 24 * 3600
#: What the link key is derived from the webhook secret with (a new version, new links).
KEY_CONTEXT = b"rasa-zendesk attachment links v1"
FETCH_TIMEOUT_SECONDS = 30.0
INLINE_TYPES = ("image/", "audio/", "video/", "application/pdf")
#: Headers of Zendesk's answer passed on to the user (never its cookies or auth headers).
PASSED_HEADERS = ("content-length", "last-modified", "etag")
#: What a link names: a connector's private attachment, or a file a Telegram user sent.
ZENDESK_SOURCE = "zendesk"
TELEGRAM_SOURCE = "telegram"
#: Telegram file ids are well under this; anything longer is not one.
MAX_FILE_ID = 512
#: A bot token in a Bot API address (`/bot<id>:<secret>/`), as it is redacted from logs.
BOT_TOKEN_IN_URL = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")


class LinkRefused(Exception):
    """A link that is not served: the HTTP status and why (the reason is only logged)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class LinkSettings:
    """Where the user's platform reaches this server, how long a link lives, and which
    connectors' attachments need the app's credentials."""

    public_url: Optional[str] = None
    ttl: int = DEFAULT_TTL_SECONDS
    private: Mapping[str, bool] = field(default_factory=dict)

    @classmethod
    def read(cls, sources: Sources, connectors: Connectors) -> LinkSettings:
        private: Dict[str, bool] = {}
        for name in connectors.by_name:
            own = sources if name == DEFAULT_CONNECTOR else sources.connector(name)
            private[name] = own.flag("private_attachments", False)
        ttl = sources.seconds("attachment_link_ttl", DEFAULT_TTL_SECONDS)
        if ttl <= 0:
            raise SettingsError(
                "Zendesk setting attachment_link_ttl "
                f"({sources.env_name('attachment_link_ttl')}) must be a positive number of "
                f"seconds, for example attachment_link_ttl: {DEFAULT_TTL_SECONDS}"
            )
        return cls(public_url=_public_url(sources), ttl=ttl, private=private)


@dataclass(frozen=True)
class SignedMedia:
    """What a valid link names."""

    connector: str
    #: The attachment's path (and query) under the connector's SunCo origin, or the Telegram
    #: file id (`source` says which).
    path: str
    name: str
    expires: int
    source: str = ZENDESK_SOURCE


class TelegramFile(BaseModel):
    """The part of the Bot API's `File` the download needs."""

    file_path: Optional[str] = None


class GetFileAnswer(BaseModel):
    """The Bot API's answer to `getFile`."""

    ok: bool
    result: Optional[TelegramFile] = None
    description: Optional[str] = None


class AttachmentLinks:
    """Makes the links of private attachments and serves them."""

    def __init__(
        self,
        settings: LinkSettings,
        connectors: Connectors,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        self.settings = settings
        self.connectors = connectors
        self._transport = transport
        self._clients: Dict[str, httpx.AsyncClient] = {}
        for name, private in settings.private.items():
            if private and not settings.public_url:
                logger.warning(
                    "Connector %s has private_attachments on but public_url "
                    "(ZENDESK_PUBLIC_URL) is not set: its agents' attachments reach users as "
                    "links they cannot open",
                    name,
                )

    # Making links --------------------------------------------------------------------------

    def media_links(self, connector: Optional[str]) -> Optional[Callable[[Rich], Rich]]:
        """What turns a message's private media into links, for a conversation of
        `connector` (None: the default); None when its attachments are public."""
        name = self._connector_name(connector)
        if not self.settings.private.get(name):
            return None

        def rewrite(rich: Rich) -> Rich:
            return rich.with_media(lambda url, file_name: self.link(name, url, file_name))

        return rewrite

    def link(self, connector: str, url: str, name: str) -> str:
        """The link that serves `url`, when it is a private attachment of `connector`'s
        app; else `url` itself."""
        settings = self.connectors.by_name.get(connector)
        path = _attachment_path(settings, url) if settings else None
        if path is None:
            return url
        if not self.settings.public_url:
            logger.warning(
                "A private attachment of connector %s reaches the user as a link they cannot "
                "open: set public_url (ZENDESK_PUBLIC_URL) to where users reach this server",
                connector,
            )
            return url
        return self._url(connector, path, name)

    def telegram_link(self, file_id: str, name: str) -> Optional[str]:
        """The link that serves a Telegram user's file (fetched with the bot token only when
        the link is requested); None, with a warning naming the setting, without
        `public_url`."""
        if not self.settings.public_url:
            logger.warning(
                "A Telegram user's file cannot be passed on to Zendesk: set public_url "
                "(ZENDESK_PUBLIC_URL) to where the action server reaches this Rasa server"
            )
            return None
        return self._url(self.connectors.default_name, file_id, name, TELEGRAM_SOURCE)

    def _url(self, connector: str, path: str, name: str, source: str = ZENDESK_SOURCE) -> str:
        token = self.sign(connector, path, name, source)
        return f"{self.settings.public_url}/webhooks/zendesk{ROUTE}/{token}/{quote(name, safe='')}"

    def sign(self, connector: str, path: str, name: str, source: str = ZENDESK_SOURCE) -> str:
        expires = int(clock.now()) + self.settings.ttl
        claims: Dict[str, Any] = {"c": connector, "p": path, "n": name, "x": expires}
        if source != ZENDESK_SOURCE:  # a Zendesk link's claims stay as they were
            claims["s"] = source
        body = _b64(json.dumps(claims).encode())
        return f"{body}.{_b64(self._mac(connector, body))}"

    def verify(self, token: str) -> SignedMedia:
        """What the link names; `LinkRefused` (404, or 410 when expired) otherwise."""
        body, dot, signature = token.partition(".")
        try:
            claims = json.loads(_unb64(body)) if dot else None
        except ValueError:
            claims = None
        if not isinstance(claims, dict):
            raise LinkRefused(404, "not a link of this channel")
        connector = claims.get("c")
        if not isinstance(connector, str) or connector not in self.connectors.by_name:
            raise LinkRefused(404, "no such connector")
        try:
            given = _unb64(signature)
        except ValueError:
            raise LinkRefused(404, "bad signature") from None
        if not hmac.compare_digest(given, self._mac(connector, body)):
            raise LinkRefused(404, "bad signature")
        path, name, expires = claims.get("p"), claims.get("n"), claims.get("x")
        source = claims.get("s", ZENDESK_SOURCE)
        settings = self.connectors.by_name[connector]
        if source == TELEGRAM_SOURCE:
            if not isinstance(path, str) or not 0 < len(path) <= MAX_FILE_ID:
                raise LinkRefused(404, "not a Telegram file id")
        elif (
            source != ZENDESK_SOURCE
            or not isinstance(path, str)
            or _attachment_path(settings, _origin(settings) + path) is None
        ):
            raise LinkRefused(404, "not an attachment of the connector")
        if not isinstance(expires, int) or expires < clock.now():
            raise LinkRefused(410, "expired")
        return SignedMedia(connector, path, str(name or "file"), expires, source)

    def _mac(self, connector: str, body: str) -> bytes:
        secret = self.connectors.by_name[connector].webhook_secret.encode("utf-8")
        key = hmac.new(secret, KEY_CONTEXT, hashlib.sha256).digest()
        return hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()

    def _connector_name(self, connector: Optional[str]) -> str:
        if connector and connector in self.connectors.by_name:
            return connector
        return self.connectors.default_name

    # Serving links -------------------------------------------------------------------------

    async def serve(self, request: Request, token: str) -> Optional[HTTPResponse]:
        """Answer a link: the attachment streamed from Zendesk, or an error status."""
        try:
            media = self.verify(token)
        except LinkRefused as refused:
            logger.info("Attachment link %s… from %s refused: %s", token[:12], request.ip, refused)
            return _error(
                refused.status, "this link has expired" if refused.status == 410 else "not found"
            )
        if media.source == TELEGRAM_SOURCE:
            return await self._serve_telegram(request, media)
        settings = self.connectors.by_name[media.connector]
        client = self._client(settings)
        url = _origin(settings) + media.path
        try:
            upstream = await client.send(client.build_request("GET", url), stream=True)
        except httpx.HTTPError as error:
            logger.warning(
                "Attachment of connector %s could not be fetched from Zendesk: %r",
                media.connector,
                error,
            )
            return _error(502, "the attachment could not be fetched; try again later")
        try:
            if upstream.status_code >= 400:
                status = 404 if upstream.status_code in (404, 410) else 502
                logger.warning(
                    "Zendesk answered %d for an attachment of connector %s%s",
                    upstream.status_code,
                    media.connector,
                    " (is the key's access to attachments right?)"
                    if upstream.status_code in (401, 403)
                    else "",
                )
                return _error(status, "the attachment is not available")
            await _stream(request, upstream, media)
            return None
        finally:
            await upstream.aclose()

    async def _serve_telegram(self, request: Request, media: SignedMedia) -> Optional[HTTPResponse]:
        """A Telegram user's file: its path from `getFile`, then its bytes, both with the bot
        token of this server's Telegram channel (never logged, never in an answer)."""
        channel = telegram_channel(getattr(request.app.ctx, "input_channels", None) or [])
        if channel is None:
            logger.warning("A Telegram file link was requested but no Telegram channel runs here")
            return _error(404, "not found")
        token: str = channel.access_token
        server = telegram_api_server(channel)
        client = self._plain_client()
        try:
            found = await client.get(
                server.api_url(token, "getFile"), params={"file_id": media.path}
            )
            answer = GetFileAnswer.parse_raw(found.content)
            file_path = answer.result.file_path if answer.ok and answer.result else None
            if not file_path:
                logger.warning(
                    "Telegram's getFile answered %d for a user's file: %s",
                    found.status_code,
                    (answer.description or "no file path")[:200],
                )
                too_big = "too big" in (answer.description or "")
                return _error(413 if too_big else 404, "the file is not available")
            upstream = await client.send(
                client.build_request("GET", server.file_url(token, file_path)), stream=True
            )
        except (httpx.HTTPError, ValueError) as error:
            logger.warning("A Telegram user's file could not be fetched: %s", type(error).__name__)
            return _error(502, "the file could not be fetched; try again later")
        try:
            if upstream.status_code >= 400:
                logger.warning("Telegram answered %d for a user's file", upstream.status_code)
                return _error(
                    404 if upstream.status_code == 404 else 502, "the file is not available"
                )
            await _stream(request, upstream, media)
            return None
        finally:
            await upstream.aclose()

    def _client(self, settings: ZendeskSettings) -> httpx.AsyncClient:
        client = self._clients.get(settings.name)
        if client is None:
            client = httpx.AsyncClient(
                auth=httpx.BasicAuth(settings.key_id, settings.key_secret),
                timeout=FETCH_TIMEOUT_SECONDS,
                follow_redirects=True,  # httpx drops the credentials on a redirect elsewhere
                transport=self._transport,
            )
            self._clients[settings.name] = client
        return client

    def _plain_client(self) -> httpx.AsyncClient:
        """The client of requests that carry no Zendesk credentials (Telegram's Bot API)."""
        client = self._clients.get(_PLAIN_CLIENT)
        if client is None:
            _redact_bot_tokens()
            client = httpx.AsyncClient(
                timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=True, transport=self._transport
            )
            self._clients[_PLAIN_CLIENT] = client
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


#: The key of the plain client among the per-connector ones (no connector has this name).
_PLAIN_CLIENT = " telegram"


def links_of(input_channels: Iterable[Any]) -> Optional[AttachmentLinks]:
    """The links of the Zendesk channel among Rasa's input channels (None without one)."""
    for channel in input_channels:
        links = getattr(getattr(channel, "processor", None), "links", None)
        if isinstance(links, AttachmentLinks):
            return links
    return None


def telegram_channel(input_channels: Iterable[Any]) -> Optional[Any]:
    """Rasa's Telegram input channel (the one whose token fetches its users' files)."""
    for channel in input_channels:
        if channel.name() == TELEGRAM_SOURCE and getattr(channel, "access_token", None):
            return channel
    return None


def telegram_api_server(channel: Any) -> Any:
    """The Bot API server of the channel's kept output channel (Telegram's, or a local Bot API
    server's), so files come from where its messages go."""
    from aiogram.bot.api import TELEGRAM_PRODUCTION

    from rasa_zendesk.channel.outputs import output_channel_for

    output = output_channel_for([channel], channel.name())
    return getattr(output, "server", None) or TELEGRAM_PRODUCTION


class _RedactBotTokens(logging.Filter):
    """httpx logs each request's address; a Bot API address carries the bot token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if BOT_TOKEN_IN_URL.search(message):
            record.msg, record.args = BOT_TOKEN_IN_URL.sub("/bot<token>", message), ()
        return True


def _redact_bot_tokens() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactBotTokens) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactBotTokens())


async def _stream(request: Request, upstream: httpx.Response, media: SignedMedia) -> None:
    """Stream the upstream answer to the link's requester, with the link's headers."""
    headers = _answer_headers(upstream, media)
    content_type = upstream.headers.get("content-type") or "application/octet-stream"
    if media.source == TELEGRAM_SOURCE and content_type.startswith("application/octet-stream"):
        content_type = mimetypes.guess_type(media.name)[0] or content_type  # Telegram's default
    streamed = await request.respond(headers=headers, content_type=content_type)
    if request.method != "HEAD":
        async for chunk in upstream.aiter_bytes():
            await streamed.send(chunk)
    await streamed.eof()


def _public_url(sources: Sources) -> Optional[str]:
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


def _origin(settings: ZendeskSettings) -> str:
    parts = urlsplit(settings.base_url)
    return f"{parts.scheme}://{parts.netloc}"


def _normal_origin(url: str) -> Tuple[str, str, Optional[int]]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def _attachment_path(settings: ZendeskSettings, url: str) -> Optional[str]:
    """The path (and query) of `url` when it is an attachment of the connector's SunCo API:
    same origin, under `<API root>/attachments/`. None for anything else."""
    if not isinstance(url, str) or _normal_origin(url) != _normal_origin(settings.base_url):
        return None
    parts = urlsplit(url)
    prefix = urlsplit(settings.base_url).path.rstrip("/") + "/attachments/"
    segments = unquote(parts.path).split("/")
    if not parts.path.startswith(prefix) or "." in segments or ".." in segments:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _answer_headers(upstream: httpx.Response, media: SignedMedia) -> Dict[str, str]:
    headers = {name: upstream.headers[name] for name in PASSED_HEADERS if name in upstream.headers}
    if "content-encoding" in upstream.headers:  # httpx hands out the decoded bytes
        headers.pop("content-length", None)
    content_type = (upstream.headers.get("content-type") or "").lower()
    disposition = "inline" if content_type.startswith(INLINE_TYPES) else "attachment"
    headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(media.name, safe='')}"
    headers["Cache-Control"] = f"private, max-age={max(0, media.expires - int(clock.now()))}"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    )
    headers["Referrer-Policy"] = "no-referrer"
    return headers


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"status": "error", "error": message}, status=status)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or len(text) > 8192:
        raise ValueError("empty or too long")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError(str(error)) from None
