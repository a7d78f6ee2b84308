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
variable: the action server never fetches an address a user's client chose on a host it does
not trust. An address on another host is passed on as it is, as before (SunCo and the agent's
browser fetch it). The limits are SunCo's: 50 MB a file, no executables.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import posixpath
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import unquote, urlsplit

import httpx

from rasa_zendesk import constants
from rasa_zendesk.actions.attachments import MAX_ALT_TEXT, parse_attachments
from rasa_zendesk.platforms import registry
from rasa_zendesk.settings import SettingsError
from rasa_zendesk.sunco.client import SunCoClient
from rasa_zendesk.sunco.errors import SunCoError
from rasa_zendesk.sunco.models import Content

logger = logging.getLogger(__name__)

HOSTS_ENV = "ZENDESK_USER_FILE_HOSTS"
#: Where the Rasa server is reached; its attachment links are trusted.
PUBLIC_URL_ENV = "ZENDESK_PUBLIC_URL"
#: The path of the Rasa server's attachment links (`rasa_zendesk.channel.attachment_links`).
LINKS_PATH = "/webhooks/zendesk/attachments/"
DEFAULT_HOSTS = ("fbcdn.net", "fbsbx.com", "api.twilio.com", "twiliocdn.com")
#: SunCo's limit for one uploaded file.
MAX_FILE_BYTES = 50 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 20.0
MAX_REDIRECTS = 3
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
    data: bytes
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
    raw = (
        metadata.get(constants.USER_ATTACHMENTS_REFUSED_KEY)
        if isinstance(metadata, Mapping)
        else None
    )
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [f"metadata.{constants.USER_ATTACHMENTS_REFUSED_KEY} must be a list"]
    files: List[UserFile] = []
    problems: List[str] = []
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


async def content_for(client: SunCoClient, conversation_id: str, file: UserFile) -> Content:
    """The image or file message content for one user file: uploaded to SunCo when its host
    is trusted, else its address as it is. Raises `FileRefused` (the user is told why) or
    `SunCoError` (SunCo failed: the message waits for the next relay)."""
    if file.refused:
        raise FileRefused(file.refused)
    alt_text = file.alt_text
    if not trusted(file.url):
        return Content.of_media(file.kind or "file", file.url, alt_text=alt_text)
    check_kind(file.label, "")  # a program is refused before a byte of it is read
    fetched = await fetch(file.url, FETCH_TIMEOUT_SECONDS, file.name)
    check_kind(fetched.filename, fetched.media_type)
    try:
        uploaded = await client.upload_attachment(
            fetched.data, fetched.filename, fetched.media_type, conversation_id
        )
    except SunCoError as error:
        if error.status == 413:
            raise FileRefused(too_big()) from None
        if error.status in (400, 415, 422):
            raise FileRefused("Zendesk does not accept files of this kind") from None
        raise
    media_type = uploaded.media_type or fetched.media_type
    kind = "image" if media_type.startswith("image/") and file.kind != "file" else "file"
    return Content.of_media(kind, uploaded.media_url, alt_text=alt_text or fetched.filename)


async def fetch(url: str, timeout: float, name: Optional[str] = None) -> Fetched:
    """The file's bytes, at most `MAX_FILE_BYTES` (the size announced is checked before any
    byte is read, and the bytes read as they come)."""
    try:
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=True, max_redirects=MAX_REDIRECTS
        ) as http:
            async with http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise FileRefused(f"it could not be fetched (HTTP {response.status_code})")
                announced = response.headers.get("Content-Length", "")
                if announced.isdigit() and int(announced) > MAX_FILE_BYTES:
                    raise FileRefused(too_big())
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data.extend(chunk)
                    if len(data) > MAX_FILE_BYTES:
                        raise FileRefused(too_big())
                media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
                final_path = response.url.path
    except httpx.HTTPError as error:
        raise FileRefused(f"it could not be fetched ({type(error).__name__})") from None
    filename = _filename(name, final_path, media_type)
    if not media_type or media_type == "application/octet-stream":
        media_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return Fetched(bytes(data), media_type, filename)


def check_kind(filename: str, media_type: str) -> None:
    """Refuse what SunCo refuses to store: programs and scripts."""
    extension = posixpath.splitext(filename)[1].lstrip(".").lower()
    if extension in REFUSED_EXTENSIONS or media_type.lower() in REFUSED_MEDIA_TYPES:
        shown = f".{extension}" if extension else media_type
        raise FileRefused(f"Zendesk does not accept {shown} files (programs and scripts)")


def too_big() -> str:
    return f"it is larger than Zendesk's limit of {MAX_FILE_BYTES // (1024 * 1024)} MB"


def trusted(url: str, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether the action server may fetch this address: http(s) on a host of the list (a
    name matches itself and its subdomains; `host:port` matches exactly)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname.lower()
    netloc = f"{host}:{parts.port}" if parts.port else host
    if _own_link(url, environ):
        return True
    for entry in file_hosts(environ):
        if ":" in entry:
            if netloc == entry:
                return True
        elif host == entry or host.endswith("." + entry):
            return True
    return False


def file_hosts(environ: Optional[Mapping[str, str]] = None) -> Tuple[str, ...]:
    """The trusted hosts: `ZENDESK_USER_FILE_HOSTS` (comma-separated), else the defaults."""
    raw = (os.environ if environ is None else environ).get(HOSTS_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_HOSTS
    hosts = tuple(entry.strip().lower() for entry in raw.split(",") if entry.strip())
    for entry in hosts:
        if "/" in entry or " " in entry:
            raise SettingsError(f"{HOSTS_ENV} lists host names or host:port pairs, not {entry!r}")
    return hosts


def _own_link(url: str, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether `url` is one of the Rasa server's attachment links: the scheme, host and port
    of `ZENDESK_PUBLIC_URL`, under its attachment links' path."""
    public = ((os.environ if environ is None else environ).get(PUBLIC_URL_ENV) or "").strip()
    if not public:
        return False
    mine, theirs = urlsplit(public.rstrip("/")), urlsplit(url)
    try:
        same_origin = (mine.scheme, mine.hostname, mine.port) == (
            theirs.scheme,
            theirs.hostname,
            theirs.port,
        )
    except ValueError:  # a port that is not a number
        return False
    segments = unquote(theirs.path).split("/")
    return (
        same_origin
        and theirs.path.startswith(mine.path + LINKS_PATH)
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
