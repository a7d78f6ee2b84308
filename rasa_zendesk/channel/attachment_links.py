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

A link can also name a file a user sent on their platform (Telegram's, through
`rasa_zendesk.channel.media_inputs`): the platform's name and its file id, signed the same way
(with the default connector's key). The platform's download address may carry a secret (a
Telegram bot token), so it must never reach the tracker, the logs or the action server; the
link does not carry it: when the link is requested, the platform makes the download request
(`Platform.user_file`, with the Rasa server's own input channel) and the channel streams it
back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import mimetypes
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple
from urllib.parse import quote, unquote, urlsplit

import httpx
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_zendesk import clock
from rasa_zendesk.platforms import registry
from rasa_zendesk.platforms.base import FileUnavailable
from rasa_zendesk.platforms.rich import Rich
from rasa_zendesk.settings import (
    DEFAULT_CONNECTOR,
    Connectors,
    SettingsError,
    Sources,
    ZendeskSettings,
    public_url,
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
#: What a link names: a connector's private attachment, or (the platform's name) a file a
#: user sent on their platform.
ZENDESK_SOURCE = "zendesk"
#: Platforms' file ids are well under this (Telegram's); anything longer is not one.
MAX_FILE_ID = 512
#: The longest token a link may carry: its claims (a path, a file name, an expiry) are far
#: shorter; anything longer is refused before a byte of it is decoded.
MAX_TOKEN_CHARS = 8192


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
        return cls(public_url=public_url(sources), ttl=ttl, private=private)


@dataclass(frozen=True)
class SignedMedia:
    """What a valid link names."""

    connector: str
    #: The attachment's path (and query) under the connector's SunCo origin, or the platform's
    #: file id (`source`, the platform's name, says which).
    path: str
    name: str
    expires: int
    source: str = ZENDESK_SOURCE


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

    def platform_link(self, platform: str, file_id: str, name: str) -> Optional[str]:
        """The link that serves a file a user sent on `platform` (a channel name; fetched
        only when the link is requested); None, with a warning naming the setting, without
        `public_url`."""
        if not self.settings.public_url:
            logger.warning(
                "A %s user's file cannot be passed on to Zendesk: set public_url "
                "(ZENDESK_PUBLIC_URL) to where the action server reaches this Rasa server",
                platform,
            )
            return None
        return self._url(self.connectors.default_name, file_id, name, platform)

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
        """What the link names; `LinkRefused` (404, or 410 when expired) otherwise.

        The signature is checked first, on the token as it came (bounded, ASCII): nothing of
        the claims is decoded before a connector's key is found to have signed them."""
        if not 0 < len(token) <= MAX_TOKEN_CHARS or not token.isascii():
            raise LinkRefused(404, "not a link of this channel")
        body, dot, signature = token.partition(".")
        try:
            given = _unb64(signature) if dot else b""
        except ValueError:
            given = b""
        connector = self._signer(body, given)
        if connector is None:
            raise LinkRefused(404, "bad signature")
        try:
            claims = json.loads(_unb64(body))
        except (ValueError, RecursionError):
            claims = None
        if not isinstance(claims, dict) or claims.get("c") != connector:
            raise LinkRefused(404, "not a link of this channel")
        path, name, expires = claims.get("p"), claims.get("n"), claims.get("x")
        source = claims.get("s", ZENDESK_SOURCE)
        settings = self.connectors.by_name[connector]
        if source != ZENDESK_SOURCE and source in registry.PLATFORMS:
            if not isinstance(path, str) or not 0 < len(path) <= MAX_FILE_ID:
                raise LinkRefused(404, "not a file id")
        elif (
            source != ZENDESK_SOURCE
            or not isinstance(path, str)
            or _attachment_path(settings, _origin(settings) + path) is None
        ):
            raise LinkRefused(404, "not an attachment of the connector")
        if not isinstance(expires, int) or expires < clock.now():
            raise LinkRefused(410, "expired")
        return SignedMedia(connector, path, str(name or "file"), expires, source)

    def _signer(self, body: str, signature: bytes) -> Optional[str]:
        """The connector whose key signed `body` with `signature` (each compared in constant
        time), or None."""
        signer = None
        for connector in self.connectors.by_name:
            if hmac.compare_digest(signature, self._mac(connector, body)):
                signer = connector
        return signer

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
        if media.source != ZENDESK_SOURCE:
            return await self._serve_platform_file(request, media)
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

    async def _serve_platform_file(
        self, request: Request, media: SignedMedia
    ) -> Optional[HTTPResponse]:
        """A file a user sent on their platform, downloaded as the platform says (with the
        Rasa server's own input channel: its secrets never logged, never in an answer)."""
        channels = getattr(request.app.ctx, "input_channels", None) or []
        client = self._plain_client()
        try:
            download = await registry.named(media.source).user_file(channels, client, media.path)
            upstream = await client.send(download, stream=True)
        except FileUnavailable as unavailable:
            message = "not found" if unavailable.status == 404 else "the file is not available"
            return _error(unavailable.status, message)
        except (httpx.HTTPError, ValueError) as error:
            logger.warning(
                "A %s user's file could not be fetched: %s", media.source, type(error).__name__
            )
            return _error(502, "the file could not be fetched; try again later")
        try:
            if upstream.status_code >= 400:
                logger.warning(
                    "%s answered %d for a user's file", media.source, upstream.status_code
                )
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
        """The client of requests that carry no Zendesk credentials (platforms' APIs)."""
        client = self._clients.get(_PLAIN_CLIENT)
        if client is None:
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
_PLAIN_CLIENT = " platforms"


def links_of(input_channels: Iterable[Any]) -> Optional[AttachmentLinks]:
    """The links of the Zendesk channel among Rasa's input channels (None without one)."""
    for channel in input_channels:
        links = getattr(getattr(channel, "processor", None), "links", None)
        if isinstance(links, AttachmentLinks):
            return links
    return None


async def _stream(request: Request, upstream: httpx.Response, media: SignedMedia) -> None:
    """Stream the upstream answer to the link's requester, with the link's headers."""
    headers = _answer_headers(upstream, media)
    content_type = upstream.headers.get("content-type") or "application/octet-stream"
    if media.source != ZENDESK_SOURCE and content_type.startswith("application/octet-stream"):
        content_type = mimetypes.guess_type(media.name)[0] or content_type  # e.g. Telegram's
    streamed = await request.respond(headers=headers, content_type=content_type)
    if request.method != "HEAD":
        async for chunk in upstream.aiter_bytes():
            await streamed.send(chunk)
    await streamed.eof()


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
    if not text or len(text) > MAX_TOKEN_CHARS:
        raise ValueError("empty or too long")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError(str(error)) from None
