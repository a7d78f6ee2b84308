"""Small helpers shared by the SunCo routes and the control routes."""

import json
from typing import Any

from aiohttp import web

from .config import EmulatorConfig
from .errors import ApiError, bad_request

MAX_JSON_BYTES = 100 * 1024  # SunCo's limit for JSON bodies


async def read_json(request: web.Request, required: bool = True) -> Any:
    """The request's JSON body; 400 if it is broken, `{}` if absent and not required."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise bad_request("The request body must be a JSON object")
        return {}
    if len(raw) > MAX_JSON_BYTES:
        raise ApiError(413, "payload_too_large", "JSON bodies are limited to 100kB")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The request body is not valid JSON") from None


def public_base(request: web.Request, config: EmulatorConfig) -> str:
    """Base URL for links the emulator hands out (media, avatars, paging links)."""
    return config.public_url or f"{request.scheme}://{request.host}"
