"""The agent's rich messages, as Agent Workspace sends them: quick replies, a link button, a
carousel and a location (`POST /_emulator/conversations/{id}/agent-rich`).

The body names the kind and its parts; the answer is the message as SunCo stores it:

    {"kind": "quickReplies", "text": "Which one?", "replies": [{"text": "Red", "payload"?: "r"}]}
    {"kind": "link", "text": "Track it here", "buttonText": "Open", "uri": "https://..."}
    {"kind": "carousel", "items": [{"title", "description"?, "mediaUrl"?,
        "actions": [{"type": "link", "text", "uri"} | {"type": "postback", "text", "payload"}]}]}
    {"kind": "location", "lat": 52.52, "long": 13.40, "name"?: "Acme store", "address"?: "..."}

each with an optional `agentName`. A reply's payload defaults to its text. The content is
checked with the same models the SunCo API checks a posted message with, so the emulator never
sends what it would refuse. What the user clicked is their next message (its text is the
button's): the console shows it against the offer.
"""

from typing import Any, Dict, List, Literal, Optional

from aiohttp import web
from pydantic import Field, confloat, conlist, constr, root_validator, validator

from .bodies import Body, Content, check_uri, parse_body
from .control import PREFIX, AgentName, _avatar
from .httputil import public_base, read_json
from .registry import registry

Label = constr(strict=True, min_length=1, max_length=128)


class Reply(Body):
    text: Label
    payload: Optional[constr(strict=True, min_length=1, max_length=1000)] = None


class ItemAction(Body):
    type: Literal["link", "postback"]
    text: Label
    uri: Optional[constr(strict=True, min_length=1)] = None
    payload: Optional[constr(strict=True, min_length=1, max_length=1000)] = None

    _uri = validator("uri", allow_reuse=True)(check_uri)

    @root_validator(skip_on_failure=True)
    def _target(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        needed = "uri" if values["type"] == "link" else "payload"
        if not values.get(needed):
            raise ValueError(f"a {values['type']} action needs {needed}")
        return values


class Item(Body):
    title: Label
    description: Optional[constr(strict=True, max_length=128)] = None
    mediaUrl: Optional[constr(strict=True, min_length=1)] = None
    actions: conlist(ItemAction, min_items=1, max_items=3)

    @validator("mediaUrl")
    def _media_url(cls, value: Optional[str]) -> Optional[str]:
        """An absolute address, or a path on the emulator (e.g. a sample image)."""
        return value if value is None or value.startswith("/") else check_uri(value)


class RichBody(Body):
    kind: Literal["quickReplies", "link", "carousel", "location"]
    text: Optional[constr(strict=True, min_length=1, max_length=4096)] = None
    replies: Optional[conlist(Reply, min_items=1, max_items=10)] = None
    buttonText: Optional[Label] = None
    uri: Optional[constr(strict=True, min_length=1)] = None
    items: Optional[conlist(Item, min_items=1, max_items=10)] = None
    lat: Optional[confloat(ge=-90, le=90)] = None
    long: Optional[confloat(ge=-180, le=180)] = None
    name: Optional[constr(strict=True, min_length=1, max_length=256)] = None
    address: Optional[constr(strict=True, min_length=1, max_length=512)] = None
    agentName: AgentName = None

    _uri = validator("uri", allow_reuse=True)(check_uri)

    @root_validator(skip_on_failure=True)
    def _complete(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        needs = {
            "quickReplies": ("text", "replies"),
            "link": ("text", "buttonText", "uri"),
            "carousel": ("items",),
            "location": ("lat", "long"),
        }[values["kind"]]
        missing = [name for name in needs if values.get(name) is None]
        if missing:
            raise ValueError(f"{values['kind']} needs {', '.join(missing)}")
        return values


class _Checked(Body):
    """A content as the SunCo API accepts it in a posted message."""

    content: Content = Field(..., discriminator="type")


def rich_content(body: RichBody, base_url: str) -> Dict[str, Any]:
    """SunCo's content for the agent's rich message (a path on the emulator, such as a sample
    image, becomes an address on it)."""
    if body.kind == "quickReplies":
        actions = [
            {"type": "reply", "text": r.text, "payload": r.payload or r.text}
            for r in body.replies or []
        ]
        content: Dict[str, Any] = {"type": "text", "text": body.text, "actions": actions}
    elif body.kind == "link":
        link = {"type": "link", "text": body.buttonText, "uri": body.uri}
        content = {"type": "text", "text": body.text, "actions": [link]}
    elif body.kind == "carousel":
        content = {"type": "carousel", "items": [_item(i, base_url) for i in body.items or []]}
    else:
        content = {"type": "location", "coordinates": {"lat": body.lat, "long": body.long}}
        place = {key: getattr(body, key) for key in ("name", "address") if getattr(body, key)}
        if place:
            content["location"] = place
    parse_body(_Checked, {"content": content})
    return content


def _item(item: Item, base_url: str) -> Dict[str, Any]:
    actions: List[Dict[str, Any]] = [a.dict(exclude_none=True) for a in item.actions]
    made: Dict[str, Any] = {"title": item.title, "actions": actions}
    if item.description:
        made["description"] = item.description
    if item.mediaUrl:
        url = base_url + item.mediaUrl if item.mediaUrl.startswith("/") else item.mediaUrl
        made["mediaUrl"] = url
    return made


async def agent_rich(request: web.Request) -> web.Response:
    emulator, conversation = registry(request).conversation(request.match_info["conversationId"])
    body = parse_body(RichBody, await read_json(request))
    content = rich_content(body, public_base(request, emulator.config))
    name = body.agentName or emulator.config.agent_name
    message = emulator.agent_message(conversation, content, name, _avatar(request))
    return web.json_response({"message": message.to_api()}, status=201)


def add_routes(app: web.Application) -> None:
    app.router.add_post(PREFIX + "/conversations/{conversationId}/agent-rich", agent_rich)
