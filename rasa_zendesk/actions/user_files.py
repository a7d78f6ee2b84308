"""The files a user sends during a handoff: found where the user's channel puts them, fetched
(bounded), and uploaded through SunCo's attachments API so that the agent gets an image or a
file message that does not depend on the channel's short-lived or private address.

Where a user's file arrives is its platform's knowledge (`rasa_zendesk.platforms`, which loads
no Rasa module): in the message metadata (`rasa_zendesk.actions.attachments`, as socket.io's
`customData`, the REST channel's `metadata`, `TwilioMediaInput`'s MMS media and
`TelegramMediaInput`'s links make it), as a refused file in `metadata.attachments_refused`
(`[{"name": ..., "reason": ...}]`, told to the user here), or as a message whose text is the
file's address (`Platform.file_as_text`).

Only addresses on the hosts of `ZENDESK_USER_FILE_HOSTS` (default: Messenger's and Twilio's
media hosts) are fetched, and the Rasa server's own attachment links (`ZENDESK_PUBLIC_URL`'s
host and port, under its `/webhooks/zendesk/attachments/`) when the action server has that
variable (`rasa_zendesk.settings.UserFileSettings`): the action server never fetches an
address a user's client chose on a host it does not trust. An address on another host is
passed on as it is, as before (SunCo and the agent's browser fetch it), unless its address
is one no client can read (a control character, a port out of range): that file is refused.
The limits are SunCo's: 50 MB a file, no executables. A file is held once, in a spooled
temporary file (memory up to `SPOOL_BYTES`, then disk), and streamed from there to SunCo. A
transfer (download and upload) has a total deadline, not only a timeout per read: a file that
trickles in is refused ("it took too long") before the action outlives the conversation's lock
(`rasa_zendesk.actions.base`).

Every hop is checked, each redirect's target as the first address: its host must be trusted,
and its name is resolved once, here, and the request goes to the address found (with the
name as `Host` and TLS server name), so a name cannot point elsewhere between the check and
the connection (DNS rebinding). A loopback, private, link-local, multicast, unspecified or
cloud-metadata address (IPv4-mapped, 6to4 and NAT64 forms included) is refused unless the
operator listed that exact `host:port` (or it is `ZENDESK_PUBLIC_URL`'s origin). Whatever
stops a fetch (an HTTP status, a refused hop, a connection error), the user is told the same
words, `UNFETCHED`: the detail, which would map the network, is only logged.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import mimetypes
import posixpath
import socket
import tempfile
from dataclasses import dataclass
from typing import IO, Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import unquote, urlsplit

import httpx

from rasa_zendesk import constants
from rasa_zendesk.actions.attachments import MAX_ALT_TEXT, metadata_list, parse_attachments
from rasa_zendesk.platforms import registry
from rasa_zendesk.settings import Sources, UserFileSettings
from rasa_zendesk.sunco.client import SunCoClient
from rasa_zendesk.sunco.errors import SunCoError
from rasa_zendesk.sunco.models import Content

logger = logging.getLogger(__name__)

#: The path of the Rasa server's attachment links (`rasa_zendesk.channel.attachment_links`).
LINKS_PATH = "/webhooks/zendesk/attachments/"
#: SunCo's limit for one uploaded file.
MAX_FILE_BYTES = 50 * 1024 * 1024
#: The longest wait for one read of a file (the whole transfer has its own deadline).
FETCH_TIMEOUT_SECONDS = 20.0
#: A fetched file is kept in memory up to this size, then on disk.
SPOOL_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
#: What the user is told of any fetch that failed (the detail is only logged).
UNFETCHED = "it could not be fetched"
#: What the user is told of a file whose transfer outlived its deadline.
TOO_SLOW = "it took too long to pass on"
#: What the user is told of an address no client can read (SunCo would refuse the message).
BAD_ADDRESS = "its address is not valid"
#: Cloud metadata services (AWS, GCP, Azure, ...: link-local already, named for their
#: IPv4-mapped forms too).
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
DEFAULT_PORTS = {"http": 80, "https": 443}
#: Kinds SunCo refuses to store (programs and scripts), by extension and by media type.
REFUSED_EXTENSIONS = frozenset(
    "apk app bat cmd com cpl dll dmg exe hta jar js jse msc msi msp ps1 scr sh vb vbs wsf".split()
)
REFUSED_MEDIA_TYPES = frozenset(
    {
        "application/java-archive",
        "application/javascript",
        "application/vnd.android.package-archive",
        "application/x-msdos-program",
        "application/x-msdownload",
        "application/x-executable",
        "application/x-sh",
        "text/javascript",
    }
)


class FileRefused(Exception):
    """A file that cannot reach the agent; the text says why, in words for the user."""


@dataclass(frozen=True)
class UserFile:
    """A file a user's message carries: its address, the kind the channel said (or None: the
    fetched media type decides), and its name if the channel gave one."""

    url: str
    kind: Optional[str] = None
    name: Optional[str] = None
    #: Why the user's channel could not pass it on (then there is no address).
    refused: Optional[str] = None

    @property
    def alt_text(self) -> Optional[str]:
        """The name, cut to SunCo's limit for alt text."""
        return self.name[:MAX_ALT_TEXT] if self.name else None

    @property
    def label(self) -> str:
        """How the user knows the file: its name, else the last part of its address."""
        return self.name or unquote(posixpath.basename(urlsplit(self.url).path)) or "your file"


@dataclass(frozen=True)
class Fetched:
    """A fetched file: its bytes in `file` (read from the start; the caller closes it)."""

    file: IO[bytes]
    media_type: str
    filename: str


def files_of(message: Mapping[str, Any]) -> Tuple[List[UserFile], str, List[str]]:
    """The files a user message carries, the text left to relay, and a problem per malformed
    metadata entry."""
    text = (message.get("text") or "").strip()
    attachments, problems = parse_attachments(message.get("metadata"))
    files = [UserFile(str(a.url), a.type, a.name) for a in attachments]
    refused, bad = _refused_by_channel(message.get("metadata"))
    files += refused
    problems += bad
    platform = registry.named(message.get("input_channel"))
    if platform.file_as_text and _single_url(text) and trusted(text):
        files.append(UserFile(text))  # a file sent as its address (Messenger's CDN)
        text = ""
    return files, text, problems


def _refused_by_channel(metadata: Any) -> Tuple[List[UserFile], List[str]]:
    """The files the user's channel could not pass on (`USER_ATTACHMENTS_REFUSED_KEY`), and
    a problem per malformed entry."""
    raw, problems = metadata_list(metadata, constants.USER_ATTACHMENTS_REFUSED_KEY)
    files: List[UserFile] = []
    for index, entry in enumerate(raw):
        reason = entry.get("reason") if isinstance(entry, Mapping) else None
        if not isinstance(reason, str) or not reason:
            problems.append(
                f"metadata.{constants.USER_ATTACHMENTS_REFUSED_KEY}[{index}] needs a reason"
            )
            continue
        name = entry.get("name")
        files.append(UserFile("", name=name if isinstance(name, str) else None, refused=reason))
    return files, problems


async def content_for(
    client: SunCoClient, conversation_id: str, file: UserFile, within: float
) -> Content:
    """The image or file message content for one user file: uploaded to SunCo when its host
    is trusted (download and upload within `within` seconds), else its address as it is.
    Raises `FileRefused` (the user is told why) or `SunCoError` (SunCo failed: the message
    waits for the next relay)."""
    if file.refused:
        raise FileRefused(file.refused)
    if not trusted(file.url):
        check_address(file.url)
        return Content.of_media(file.kind or "file", file.url, alt_text=file.alt_text)
    check_kind(file.label, "")  # a program is refused before a byte of it is read
    try:
        return await asyncio.wait_for(_transfer(client, conversation_id, file), within)
    except asyncio.TimeoutError:
        logger.warning(
            "A user's file at %s took more than %.0f s to pass on", _host_of(file.url), within
        )
        raise FileRefused(TOO_SLOW) from None


async def _transfer(client: SunCoClient, conversation_id: str, file: UserFile) -> Content:
    """Fetch the file, then stream it to SunCo's attachments: its image or file content."""
    fetched = await fetch(file.url, FETCH_TIMEOUT_SECONDS, file.name)
    with fetched.file:
        check_kind(fetched.filename, fetched.media_type)
        try:
            uploaded = await client.upload_attachment(
                fetched.file, fetched.filename, fetched.media_type, conversation_id
            )
        except SunCoError as error:
            if error.status == 413:
                raise FileRefused(too_big()) from None
            if error.status in (400, 415, 422):
                raise FileRefused("Zendesk does not accept files of this kind") from None
            raise
    media_type = uploaded.media_type or fetched.media_type
    kind = "image" if media_type.startswith("image/") and file.kind != "file" else "file"
    return Content.of_media(kind, uploaded.media_url, alt_text=file.alt_text or fetched.filename)


def check_address(url: str) -> None:
    """Refuse an address that no client can read (SunCo answers a message carrying it with a
    400 that no retry changes): a control character, a port out of range."""
    try:
        port = httpx.URL(url).port
    except httpx.InvalidURL:
        raise FileRefused(BAD_ADDRESS) from None
    if port is not None and not 0 < port < 65536:
        raise FileRefused(BAD_ADDRESS)


class _Unfetched(Exception):
    """Why a fetch stopped, for the log only."""


async def fetch(
    url: str, timeout: float, name: Optional[str] = None, files: Optional[UserFileSettings] = None
) -> Fetched:
    """The file, at most `MAX_FILE_BYTES` (the size announced is checked before any byte is
    read, and the bytes counted as they come), each hop checked (`_open`)."""
    files = files or settings()
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            for _ in range(MAX_REDIRECTS + 1):
                response = await _open(http, url, files)
                try:
                    if response.is_redirect:
                        url = str(httpx.URL(url).join(response.headers["Location"]))
                        continue
                    return await _read(response, url, name)
                finally:
                    await response.aclose()
            raise _Unfetched(f"more than {MAX_REDIRECTS} redirects")
    except (_Unfetched, httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as error:
        detail = str(error) if isinstance(error, _Unfetched) else type(error).__name__
        logger.warning("A user's file at %s was not fetched: %s", _host_of(url), detail)
        raise FileRefused(UNFETCHED) from None


async def _read(response: httpx.Response, url: str, name: Optional[str]) -> Fetched:
    if response.status_code != 200:
        raise _Unfetched(f"HTTP {response.status_code}")
    announced = response.headers.get("Content-Length", "")
    if announced.isascii() and announced.isdigit() and int(announced) > MAX_FILE_BYTES:
        raise FileRefused(too_big())
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (the caller's)
    try:
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise FileRefused(too_big())
            spool.write(chunk)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    filename = _filename(name, httpx.URL(url).path, media_type)
    if not media_type or media_type == "application/octet-stream":
        media_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return Fetched(spool, media_type, filename)  # type: ignore[arg-type]


async def _open(http: httpx.AsyncClient, url: str, files: UserFileSettings) -> httpx.Response:
    """One hop: the answer of `url`'s host, when it is trusted, at an address it resolves to
    now, every one of them public unless the operator named this exact host and port."""
    if not trusted(url, files):
        raise _Unfetched(f"{_host_of(url)} is not a trusted host (ZENDESK_USER_FILE_HOSTS)")
    target = httpx.URL(url)
    host, port = target.host, target.port or DEFAULT_PORTS[target.scheme]
    addresses = await _resolve(host, port)
    if not addresses:
        raise _Unfetched(f"{host} has no address")
    if not _named_exactly(url, files):
        for address in addresses:
            if not public(address):
                raise _Unfetched(f"{host} resolves to {address}, not a public address")
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    refused: Optional[httpx.ConnectError] = None
    for address in addresses:
        request = http.build_request(
            "GET",
            target.copy_with(host=address),
            headers={"Host": target.netloc.decode("ascii")},
            extensions=extensions,
        )
        try:
            return await http.send(request, stream=True)
        except httpx.ConnectError as error:
            refused = error
    assert refused is not None
    raise refused


async def _resolve(host: str, port: int) -> List[str]:
    """The addresses `host` has now, in the resolver's order, each once."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(entry[4][0]).split("%")[0] for entry in found))


def public(address: str) -> bool:
    """Whether `address` is on the public internet: not loopback, private, link-local,
    multicast, unspecified, reserved or a metadata service, nor an IPv4 one of those inside
    an IPv6 address (mapped, 6to4, NAT64)."""
    ip = ipaddress.ip_address(address)
    inside: List[Any] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        inside += [ip.ipv4_mapped, ip.sixtofour]
        if ip in NAT64:
            inside.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return all(
        one.is_global and not one.is_multicast and one not in METADATA_ADDRESSES
        for one in inside
        if one is not None
    )


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc.rpartition("@")[2] or "?"
    except ValueError:
        return "?"


def check_kind(filename: str, media_type: str) -> None:
    """Refuse what SunCo refuses to store: programs and scripts."""
    extension = posixpath.splitext(filename)[1].lstrip(".").lower()
    if extension in REFUSED_EXTENSIONS or media_type.lower() in REFUSED_MEDIA_TYPES:
        shown = f".{extension}" if extension else media_type
        raise FileRefused(f"Zendesk does not accept {shown} files (programs and scripts)")


def too_big() -> str:
    return f"it is larger than Zendesk's limit of {MAX_FILE_BYTES // (1024 * 1024)} MB"


def settings() -> UserFileSettings:
    """The action server's `user_file_hosts` and `public_url` (its environment)."""
    return UserFileSettings.read(Sources(where="the environment"))


def trusted(url: str, files: Optional[UserFileSettings] = None) -> bool:
    """Whether the action server may fetch this address: http(s) on a host of the list (a
    name matches itself and its subdomains; `host:port` matches exactly), or one of the Rasa
    server's attachment links."""
    files = files or settings()
    origin = _origin(url)
    if origin is None:
        return False
    if _own_link(url, files) or _listed_port(origin, files):
        return True
    host = origin[1]
    return any(
        ":" not in entry and (host == entry or host.endswith("." + entry)) for entry in files.hosts
    )


def _origin(url: str) -> Optional[Tuple[str, str, int]]:
    """Scheme, host (lower case) and port (the scheme's by default) of an http(s) address."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def _listed_port(origin: Tuple[str, str, int], files: UserFileSettings) -> bool:
    """Whether a `host:port` entry of the list names this host and port."""
    _, host, port = origin
    for entry in files.hosts:
        name, colon, number = entry.rpartition(":")
        if colon and name.strip("[]") == host and number == str(port):
            return True
    return False


def _named_exactly(url: str, files: UserFileSettings) -> bool:
    """Whether the operator named this very host and port: a `host:port` of the list, or the
    origin of `public_url` (a loopback or private address is fetched only then)."""
    origin = _origin(url)
    if origin is None:
        return False
    own = _origin(files.public_url) if files.public_url else None
    return origin == own or _listed_port(origin, files)


def _own_link(url: str, files: UserFileSettings) -> bool:
    """Whether `url` is one of the Rasa server's attachment links: the scheme, host and port
    of `public_url`, under its attachment links' path."""
    if not files.public_url:
        return False
    if _origin(url) is None or _origin(url) != _origin(files.public_url):
        return False
    mine, theirs = urlsplit(files.public_url), urlsplit(url)
    segments = unquote(theirs.path).split("/")
    return (
        theirs.path.startswith(mine.path + LINKS_PATH)
        and ".." not in segments
        and "." not in segments
    )


def refusal(file: UserFile, reason: str) -> Dict[str, str]:
    """The response's variables for one refused file."""
    return {"file": file.label, "reason": reason}


def _single_url(text: str) -> bool:
    return text.startswith(("http://", "https://")) and not any(c.isspace() for c in text)


def _filename(name: Optional[str], path: str, media_type: str) -> str:
    filename = posixpath.basename((name or "").replace("\\", "/")) or posixpath.basename(
        unquote(path)
    )
    filename = filename or "file"
    if not posixpath.splitext(filename)[1] and media_type:
        filename += mimetypes.guess_extension(media_type) or ""
    return filename
