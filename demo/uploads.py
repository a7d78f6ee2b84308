"""Files the demo's customers attach in the web chat: what a bot author's own site does.

rasa-webchat sends text only, so the page first uploads the file here (`POST /uploads`,
multipart field `file`) and then sends its message with the file's address in `customData`
(`{"attachments": [{"type", "url", "name"}]}`, the shape the relay action reads). The action
server fetches it from here (the stack lists this host in `ZENDESK_USER_FILE_HOSTS`) and
uploads it to Zendesk. Files live in memory, the newest `MAX_FILES` only: a demo, not storage.
"""

from __future__ import annotations

import mimetypes
import posixpath
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import BodyPartReader, web

#: SunCo's limit for one file; a larger one is refused here already, with the reason.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_FILES = 20


@dataclass(frozen=True)
class Upload:
    name: str
    media_type: str
    data: bytes


class Uploads:
    """The routes and the newest files, in memory."""

    def __init__(self) -> None:
        self.files: OrderedDict[str, Upload] = OrderedDict()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/uploads", self.upload)
        app.router.add_get("/uploads/{id}/{name}", self.download)

    async def upload(self, request: web.Request) -> web.Response:
        """Store one file; answer `{"url", "name", "type": "image"|"file", "mediaType"}`."""
        if not request.content_type.startswith("multipart/form-data"):
            return _error(400, "send the file as multipart/form-data, field 'file'")
        reader = await request.multipart()
        part = await reader.next()
        while part is not None and not (isinstance(part, BodyPartReader) and part.name == "file"):
            await part.release()
            part = await reader.next()
        if part is None:
            return _error(400, "no 'file' field")
        name = posixpath.basename((part.filename or "file").replace("\\", "/")) or "file"
        data = bytearray()
        while chunk := await part.read_chunk():
            data.extend(chunk)
            if len(data) > MAX_UPLOAD_BYTES:
                return _error(413, "the file is larger than 50 MB")
        media_type = part.headers.get("Content-Type") or ""
        if not media_type or media_type == "application/octet-stream":
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        file_id = uuid.uuid4().hex
        self.files[file_id] = Upload(name, media_type, bytes(data))
        while len(self.files) > MAX_FILES:
            self.files.popitem(last=False)
        url = f"{request.scheme}://{request.host}/uploads/{file_id}/{quote(name)}"
        kind = "image" if media_type.startswith("image/") else "file"
        return web.json_response(
            {"url": url, "name": name, "type": kind, "mediaType": media_type}, status=201
        )

    async def download(self, request: web.Request) -> web.Response:
        found = self.files.get(request.match_info["id"])
        if found is None:
            return _error(404, "no such file (the demo keeps only the newest ones)")
        return web.Response(body=found.data, headers={"Content-Type": found.media_type})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
