"""The SunCo v2 routes, under `/sc/v2/apps/{appId}/`: thin HTTP over that app's `Emulator`."""

import mimetypes
import posixpath
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import quote, unquote, urlencode

from aiohttp import BodyPartReader, web

from .bodies import (
    ActivityBody,
    ConversationCreateBody,
    ConversationUpdateBody,
    MessagePostBody,
    MetadataBody,
    SwitchboardTargetBody,
    UserCreateBody,
    parse_body,
)
from .engine import Emulator
from .errors import ApiError, bad_request
from .httputil import public_base, read_json
from .registry import registry
from .store import Conversation, page

APP = "/sc/v2/apps/{appId}"
CONVERSATION = APP + "/conversations/{conversationId}"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
CONVERSATION_PAGE_DEFAULT = 25


def _emulator(request: web.Request) -> Emulator:
    """The app of the path (the middleware has checked that it exists and the key is its)."""
    return registry(request).require(request.match_info["appId"])


def _conversation(request: web.Request) -> Conversation:
    return _emulator(request).store.get_conversation(request.match_info["conversationId"])


def _page_response(
    request: web.Request,
    key: str,
    items: Sequence[Any],
    has_more: bool,
    start: int,
    end: int,
    total: int,
) -> web.Response:
    """One page of records (`items[start:end]` of `total`) under `key`, with SunCo's cursors
    (`meta`) and links to the pages before and after (`links`)."""
    base = public_base(request, _emulator(request).config) + request.path
    # Keep the other parameters (filters, page size); replace the cursor.
    kept = [(k, v) for k, v in request.query.items() if k not in ("page[before]", "page[after]")]
    meta: Dict[str, Any] = {"hasMore": has_more}
    links: Dict[str, Any] = {}
    if start > 0 and items:
        meta["beforeCursor"] = items[0].id
        links["prev"] = f"{base}?{urlencode(kept + [('page[before]', items[0].id)])}"
    if end < total and items:
        meta["afterCursor"] = items[-1].id
        links["next"] = f"{base}?{urlencode(kept + [('page[after]', items[-1].id)])}"
    return web.json_response({key: [item.to_api() for item in items], "meta": meta, "links": links})


# Users.
async def create_user(request: web.Request) -> web.Response:
    body = parse_body(UserCreateBody, await read_json(request))
    user = _emulator(request).create_user(body)
    return web.json_response({"user": user.to_api()}, status=201)


async def get_user(request: web.Request) -> web.Response:
    user = _emulator(request).store.get_user(request.match_info["userIdOrExternalId"])
    return web.json_response({"user": user.to_api()})


# Conversations.
async def create_conversation(request: web.Request) -> web.Response:
    body = parse_body(ConversationCreateBody, await read_json(request))
    conversation = _emulator(request).create_conversation(body)
    return web.json_response({"conversation": conversation.to_api()}, status=201)


async def list_conversations(request: web.Request) -> web.Response:
    emulator = _emulator(request)
    query = request.query
    user_id, external_id = query.get("filter[userId]"), query.get("filter[userExternalId]")
    if bool(user_id) == bool(external_id):
        raise bad_request("One of filter[userId] or filter[userExternalId] is required")
    user = emulator.store.require_user(user_id, external_id)
    try:
        size = int(query.get("page[size]", CONVERSATION_PAGE_DEFAULT))
    except ValueError:
        raise bad_request("page[size] must be an integer") from None
    if not 1 <= size <= 100:
        raise bad_request("page[size] must be between 1 and 100")
    conversations = emulator.store.conversations_of(user)
    ids = [c.id for c in conversations]

    def index_of(record_id: str) -> Optional[int]:
        return ids.index(record_id) if record_id in ids else None

    before, after = query.get("page[before]"), query.get("page[after]")
    items, has_more, start, end = page(conversations, index_of, before, after, size)
    return _page_response(request, "conversations", items, has_more, start, end, len(conversations))


async def get_conversation(request: web.Request) -> web.Response:
    return web.json_response({"conversation": _conversation(request).to_api()})


async def update_conversation(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    body = parse_body(ConversationUpdateBody, await read_json(request))
    _emulator(request).update_conversation(conversation, body)
    return web.json_response({"conversation": conversation.to_api()})


# Messages.
async def post_message(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    raw = await read_json(request)
    body = parse_body(MessagePostBody, raw)
    message = _emulator(request).post_message(conversation, body, raw)
    return web.json_response({"messages": [message.to_api()]}, status=201)


async def list_messages(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    before, after = request.query.get("page[before]"), request.query.get("page[after]")
    items, has_more, start, end = _emulator(request).store.message_page(conversation, before, after)
    total = len(conversation.messages)
    return _page_response(request, "messages", items, has_more, start, end, total)


# Activity and switchboard.
async def post_activity(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    body = parse_body(ActivityBody, await read_json(request))
    _emulator(request).post_activity(conversation, body)
    return web.json_response({})


async def pass_control(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    body = parse_body(SwitchboardTargetBody, await read_json(request))
    _emulator(request).pass_control(conversation, body.switchboardIntegration, body.metadata)
    return web.json_response({})


async def offer_control(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    body = parse_body(SwitchboardTargetBody, await read_json(request))
    _emulator(request).offer_control(conversation, body.switchboardIntegration, body.metadata)
    return web.json_response({})


async def accept_control(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    body = parse_body(MetadataBody, await read_json(request, required=False))
    _emulator(request).accept_control(conversation, body.metadata)
    return web.json_response({})


async def release_control(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    body = parse_body(MetadataBody, await read_json(request, required=False))
    _emulator(request).release_control(conversation, body.metadata)
    return web.json_response({})


# Attachments.
async def _source_part(request: web.Request) -> BodyPartReader:
    if not request.content_type.startswith("multipart/form-data"):
        raise bad_request("Attachments are uploaded as multipart/form-data")
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if isinstance(part, BodyPartReader) and part.name == "source":
                return part
            await part.release()
    except (ValueError, AssertionError, RuntimeError) as exc:
        raise bad_request(f"Invalid multipart body: {exc}") from None
    raise bad_request("should have required property 'source'")


async def upload_attachment(request: web.Request) -> web.Response:
    emulator = _emulator(request)
    access = request.query.get("access")
    if access is None:
        raise bad_request("The access query parameter is required")
    if access != "public":
        raise bad_request("Only public access is supported")
    conversation_id = request.query.get("conversationId")
    if request.query.get("for") == "message" and not conversation_id:
        raise bad_request("conversationId is required when for=message")
    if conversation_id:
        emulator.store.get_conversation(conversation_id)
    part = await _source_part(request)
    data = bytearray()
    while True:
        chunk = await part.read_chunk()
        if not chunk:
            break
        data.extend(chunk)
        if len(data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "payload_too_large", "Files are limited to 50MB")
    # aiohttp clients percent-encode the file name; browsers and urllib3 send it raw.
    filename = unquote(part.filename or "file")
    filename = posixpath.basename(filename.replace("\\", "/")) or "file"
    media_type = part.headers.get("Content-Type") or ""
    if not media_type or media_type == "application/octet-stream":
        media_type = mimetypes.guess_type(filename)[0] or media_type or "application/octet-stream"
    attachment = emulator.store.add_attachment(filename, media_type, bytes(data))
    base = public_base(request, emulator.config)
    media_url = f"{base}/sc/attachments/v2/{attachment.id}/{quote(filename)}"
    return web.json_response(
        {"attachment": {"mediaUrl": media_url, "mediaType": media_type}}, status=201
    )


async def download_attachment(request: web.Request) -> web.Response:
    found = registry(request).attachment(request.match_info["attachmentId"])
    if found is None:
        raise ApiError(404, "not_found", "Attachment not found")
    _, attachment = found
    return web.Response(
        body=attachment.data,
        content_type=attachment.media_type.split(";")[0],
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(attachment.filename)}"},
    )


# Switchboards.
async def list_switchboards(request: web.Request) -> web.Response:
    return web.json_response({"switchboards": [_emulator(request).switchboard.to_api()]})


async def list_switchboard_integrations(request: web.Request) -> web.Response:
    switchboard = _emulator(request).switchboard
    if request.match_info["switchboardId"] != switchboard.id:
        raise ApiError(404, "switchboard_not_found", "Switchboard not found")
    integrations: List[Dict[str, Any]] = [i.to_api() for i in switchboard.integrations]
    return web.json_response({"switchboardIntegrations": integrations})


def add_routes(app: web.Application) -> None:
    """Register the SunCo routes."""
    router = app.router
    router.add_post(APP + "/users", create_user)
    router.add_get(APP + "/users/{userIdOrExternalId}", get_user)
    router.add_post(APP + "/conversations", create_conversation)
    router.add_get(APP + "/conversations", list_conversations)
    router.add_get(CONVERSATION, get_conversation)
    router.add_patch(CONVERSATION, update_conversation)
    router.add_post(CONVERSATION + "/messages", post_message)
    router.add_get(CONVERSATION + "/messages", list_messages)
    router.add_post(CONVERSATION + "/activity", post_activity)
    router.add_post(CONVERSATION + "/passControl", pass_control)
    router.add_post(CONVERSATION + "/offerControl", offer_control)
    router.add_post(CONVERSATION + "/acceptControl", accept_control)
    router.add_post(CONVERSATION + "/releaseControl", release_control)
    router.add_post(APP + "/attachments", upload_attachment)
    router.add_get(APP + "/switchboards", list_switchboards)
    router.add_get(
        APP + "/switchboards/{switchboardId}/switchboardIntegrations",
        list_switchboard_integrations,
    )
    router.add_get("/sc/attachments/v2/{attachmentId}/{filename}", download_attachment)
