"""SunCo's error body, `{"errors":[{"code","title"}]}`, and the exception that produces it."""

from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web


class ApiError(Exception):
    """Raised by handlers; the middleware answers it with SunCo's error body."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        extra: Optional[List[Tuple[str, str]]] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> None:
        super().__init__(f"{status} {code}: {title}")
        self.status = status
        self.errors = [(code, title)] + list(extra or [])
        self.headers = headers or {}


def error_body(errors: List[Tuple[str, str]]) -> Dict[str, Any]:
    """The JSON body of an error response."""
    return {"errors": [{"code": code, "title": title} for code, title in errors]}


def error_response(error: ApiError) -> web.Response:
    """Turn an ApiError into the HTTP answer."""
    return web.json_response(error_body(error.errors), status=error.status, headers=error.headers)


def bad_request(title: str) -> ApiError:
    return ApiError(400, "bad_request", title)


CONVERSATION_NOT_FOUND = ("conversation_not_found", "Conversation not found")
USER_NOT_FOUND = ("user_not_found", "User not found")
