"""The attachments a user's input channel may pass along with a message, for the relay action.

Rasa's input channels put whatever they receive besides the text into the user message's
`metadata` (the REST channel's `metadata` field, socket.io's `customData`, or a custom channel's
`get_metadata`). The relay action reads this shape from there:

    {"attachments": [{"type": "image" | "file", "url": "https://...", "name": "photo.jpg"}]}

`type` and an absolute http(s) `url` are required; `name` is optional and becomes the message's
alt text (cut to SunCo's 128 characters; `rasa_zendesk.actions.user_files` makes the message).
A malformed entry is reported, never silently dropped.
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple

from pydantic import AnyHttpUrl, BaseModel, Extra, ValidationError, validator

from rasa_zendesk import constants

MAX_ALT_TEXT = 128


class UserAttachment(BaseModel):
    """One file or image the user sent; the URL must be reachable by SunCo."""

    type: str
    url: AnyHttpUrl
    name: Optional[str] = None

    class Config:
        extra = Extra.ignore

    @validator("type")
    def _known_type(cls, value: str) -> str:  # noqa: N805 (pydantic validators take cls)
        if value not in ("image", "file"):
            raise ValueError("type must be 'image' or 'file'")
        return value


def metadata_list(metadata: Any, key: str) -> Tuple[List[Any], List[str]]:
    """The entries of the list under `key` in a message's metadata (none when it is absent),
    and the problem when it is not a list."""
    raw = metadata.get(key) if isinstance(metadata, Mapping) else None
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [f"metadata.{key} must be a list"]
    return raw, []


def parse_attachments(
    metadata: Optional[Mapping[str, Any]],
) -> Tuple[List[UserAttachment], List[str]]:
    """The valid attachments in a message's metadata, and a reason for each invalid entry."""
    raw, problems = metadata_list(metadata, constants.USER_ATTACHMENTS_KEY)
    valid: List[UserAttachment] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            problems.append(f"metadata.{constants.USER_ATTACHMENTS_KEY}[{index}] must be an object")
            continue
        try:
            valid.append(UserAttachment.parse_obj(entry))
        except ValidationError as error:
            fields = ", ".join(str(e["loc"][0]) for e in error.errors())
            problems.append(f"metadata.{constants.USER_ATTACHMENTS_KEY}[{index}] invalid: {fields}")
    return valid, problems
