"""Request bodies of the SunCo calls the emulator serves, as pydantic 1.10 models.

They check what the spec requires (required fields, enums, lengths, the 4096-character text
limit, flat metadata) so that a client which would be refused by Zendesk is refused here too,
with a 400 whose titles name each offending field.
"""

import json
from typing import Any, Callable, Dict, Iterator, List, Literal, Optional, Type, TypeVar, Union
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Extra,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    conlist,
    constr,
    root_validator,
    validator,
)

from .errors import ApiError

MAX_TEXT = 4096
MAX_METADATA_BYTES = 4096

Model = TypeVar("Model", bound=BaseModel)


def check_uri(value: Optional[str]) -> Optional[str]:
    if value is None:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value


def _check_metadata(value: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if value is None:
        return value
    for key, item in value.items():
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise ValueError(f"must be flat: {key!r} is not a string, number or boolean")
    if len(json.dumps(value).encode("utf-8")) > MAX_METADATA_BYTES:
        raise ValueError("is limited to 4KB")
    return value


class Body(BaseModel):
    class Config:
        extra = Extra.allow

    @validator("metadata", check_fields=False, allow_reuse=True)
    def _flat_metadata(cls, value: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        return _check_metadata(value)


class JsonObject(dict):
    """A JSON object, as sent: pydantic 1 would otherwise turn `[]` into `{}`."""

    @classmethod
    def __get_validators__(cls) -> Iterator[Callable[[Any], Dict[str, Any]]]:
        yield cls.validate

    @classmethod
    def validate(cls, value: Any) -> Dict[str, Any]:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise TypeError("must be a JSON object")
        return value


Metadata = Optional[JsonObject]
Text4096 = constr(strict=True, max_length=MAX_TEXT)


class Profile(Body):
    givenName: Optional[constr(strict=True, min_length=1, max_length=128)] = None
    surname: Optional[constr(strict=True, min_length=1, max_length=128)] = None
    email: Optional[constr(strict=True, min_length=3, max_length=128, regex=r"^[^@\s]+@[^@\s]+$")]
    avatarUrl: Optional[constr(strict=True, min_length=1, max_length=2048)] = None
    locale: Optional[constr(strict=True, min_length=1, max_length=64)] = None

    _uri = validator("avatarUrl", allow_reuse=True)(check_uri)


class UserCreateBody(Body):
    externalId: Optional[constr(strict=True, min_length=1, max_length=1024)] = None
    profile: Optional[Profile] = None
    metadata: Metadata = None
    signedUpAt: Optional[StrictStr] = None
    toBeRetained: Optional[StrictBool] = None


class Participant(Body):
    userId: Optional[StrictStr] = None
    userExternalId: Optional[StrictStr] = None
    subscribeSDKClient: Optional[StrictBool] = None

    @root_validator(skip_on_failure=True)
    def _one_reference(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if bool(values.get("userId")) == bool(values.get("userExternalId")):
            raise ValueError("one of userId or userExternalId is required, but not both")
        return values


class ConversationCreateBody(Body):
    type: Literal["personal", "sdkGroup"]
    participants: Optional[conlist(Participant, max_items=10)] = None
    displayName: Optional[constr(strict=True, min_length=1, max_length=100)] = None
    description: Optional[constr(strict=True, max_length=10000)] = None
    iconUrl: Optional[StrictStr] = None
    metadata: Metadata = None

    _uri = validator("iconUrl", allow_reuse=True)(check_uri)

    @root_validator(skip_on_failure=True)
    def _personal_has_one(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values.get("type") == "personal" and len(values.get("participants") or []) != 1:
            raise ValueError("personal conversations must have exactly one participant")
        return values


class ConversationUpdateBody(Body):
    displayName: Optional[constr(strict=True, min_length=1, max_length=100)] = None
    description: Optional[constr(strict=True, max_length=10000)] = None
    iconUrl: Optional[StrictStr] = None
    metadata: Metadata = None

    _uri = validator("iconUrl", allow_reuse=True)(check_uri)


class Author(Body):
    type: Literal["user", "business"]
    userId: Optional[StrictStr] = None
    userExternalId: Optional[StrictStr] = None
    displayName: Optional[StrictStr] = None
    avatarUrl: Optional[StrictStr] = None
    subtypes: Optional[conlist(Literal["AI", "activity", "agent", "bot"], max_items=1)] = None

    _uri = validator("avatarUrl", allow_reuse=True)(check_uri)

    @root_validator(skip_on_failure=True)
    def _user_reference(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values.get("type") == "user":
            if bool(values.get("userId")) == bool(values.get("userExternalId")):
                raise ValueError("a user author needs one of userId or userExternalId")
        return values


class Action(Body):
    type: Literal["buy", "link", "locationRequest", "postback", "reply", "webview"]
    text: StrictStr


class TextContent(Body):
    type: Literal["text"]
    text: Optional[Text4096] = None
    htmlText: Optional[Text4096] = None
    markdownText: Optional[Text4096] = None
    actions: Optional[List[Action]] = None
    payload: Optional[StrictStr] = None
    blockChatInput: Optional[StrictBool] = None

    @root_validator(skip_on_failure=True)
    def _has_something(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if not any(values.get(key) for key in ("text", "htmlText", "markdownText", "actions")):
            raise ValueError("text is required unless actions, htmlText or markdownText is given")
        return values


class ImageContent(Body):
    type: Literal["image"]
    mediaUrl: StrictStr
    altText: Optional[constr(strict=True, max_length=128)] = None
    text: Optional[Text4096] = None
    actions: Optional[List[Action]] = None

    _uri = validator("mediaUrl", allow_reuse=True)(check_uri)


class FileContent(Body):
    type: Literal["file"]
    mediaUrl: StrictStr
    altText: Optional[constr(strict=True, max_length=128)] = None
    text: Optional[Text4096] = None

    _uri = validator("mediaUrl", allow_reuse=True)(check_uri)


class CarouselContent(Body):
    type: Literal["carousel"]
    items: conlist(JsonObject, min_items=1, max_items=10)


class ListContent(Body):
    type: Literal["list"]
    items: conlist(JsonObject, min_items=1, max_items=10)


class Coordinates(Body):
    lat: float
    long: float


class LocationContent(Body):
    type: Literal["location"]
    coordinates: Coordinates


class FormContent(Body):
    type: Literal["form"]
    fields: conlist(JsonObject, min_items=1, max_items=20)


class FormResponseContent(Body):
    type: Literal["formResponse"]
    fields: conlist(JsonObject, min_items=1, max_items=20)


class TemplateContent(Body):
    type: Literal["template"]
    template: JsonObject


Content = Union[
    TextContent,
    ImageContent,
    FileContent,
    CarouselContent,
    ListContent,
    LocationContent,
    FormContent,
    FormResponseContent,
    TemplateContent,
]


class MessagePostBody(Body):
    author: Author
    content: Content = Field(..., discriminator="type")
    metadata: Metadata = None
    destination: Optional[JsonObject] = None
    override: Optional[JsonObject] = None
    schema_: Optional[StrictStr] = Field(None, alias="schema")


class ActivityBody(Body):
    author: Author
    type: Literal["conversation:read", "typing:start", "typing:stop"]

    @root_validator(skip_on_failure=True)
    def _user_may_only_read(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        author = values.get("author")
        if author is not None and author.type == "user" and values["type"] != "conversation:read":
            raise ValueError("a user author may only send conversation:read")
        return values


class SwitchboardTargetBody(Body):
    switchboardIntegration: constr(strict=True, min_length=1)
    metadata: Metadata = None


class MetadataBody(Body):
    metadata: Metadata = None


def _title(error: Dict[str, Any]) -> str:
    # Drop pydantic's own markers (root validators, the union member tried) from the location.
    parts = [str(p) for p in error["loc"] if p != "__root__" and not str(p).endswith("Content")]
    location = ".".join(parts)
    return f"{location}: {error['msg']}" if location else str(error["msg"])


def parse_body(model: Type[Model], data: Any) -> Model:
    """Validate `data` as `model`, or raise a 400 listing every problem."""
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "The request body must be a JSON object")
    try:
        return model.parse_obj(data)
    except ValidationError as exc:
        titles = [_title(error) for error in exc.errors()]
        raise ApiError(
            400, "bad_request", titles[0], extra=[("bad_request", t) for t in titles[1:]]
        ) from None
