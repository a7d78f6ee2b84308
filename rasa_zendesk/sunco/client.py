"""An async client for the Sunshine Conversations v2 API as Zendesk hosts it.

One `SunCoClient` holds one httpx connection pool; share it. Auth, retries and errors live in
`_request`, the one place every call goes through:
- 429, 5xx, timeouts and connection errors are retried with exponential backoff and full
  jitter, honouring `Retry-After`, until a total deadline; then `SunCoUnavailable`.
- Any other 4xx fails at once with `SunCoError` (status, SunCo's code and title).
- The key secret is only ever in the Authorization header; no error or log line carries it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import httpx

from rasa_zendesk.settings import ZendeskSettings
from rasa_zendesk.sunco.errors import SunCoError, SunCoTimeout, SunCoUnavailable
from rasa_zendesk.sunco.models import (
    Attachment,
    Author,
    Content,
    Conversation,
    Message,
    MessagePage,
    Profile,
    User,
)

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
ActivityType = str  # "typing:start" | "typing:stop" | "conversation:read"


class JWTAuth(httpx.Auth):
    """App-scoped JWT (`kid` = key id, `scope: app`), signed once and reused."""

    def __init__(self, key_id: str, key_secret: str) -> None:
        import jwt  # PyJWT, a Rasa dependency

        token = jwt.encode({"scope": "app"}, key_secret, algorithm="HS256", headers={"kid": key_id})
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "JWTAuth(<redacted>)"


class SunCoClient:
    """SunCo v2 calls the plugin needs, on one shared connection pool."""

    def __init__(
        self,
        *,
        app_id: str,
        key_id: str,
        key_secret: str,
        base_url: str,
        auth_scheme: str = "basic",
        timeout: float = 10.0,
        deadline: float = 30.0,
        backoff_base: float = 0.25,
        backoff_cap: float = 8.0,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        if auth_scheme not in ("basic", "jwt"):
            raise ValueError("auth_scheme must be 'basic' or 'jwt'")
        auth: httpx.Auth = (
            JWTAuth(key_id, key_secret)
            if auth_scheme == "jwt"
            else httpx.BasicAuth(key_id, key_secret)
        )
        self.app_id = app_id
        self._timeout = timeout
        self._deadline = deadline
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._http = httpx.AsyncClient(
            base_url=f"{base_url.rstrip('/')}/v2/apps/{app_id}",
            auth=auth,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json"},
        )

    @classmethod
    def from_settings(cls, settings: ZendeskSettings, **options: Any) -> SunCoClient:
        return cls(
            app_id=settings.app_id,
            key_id=settings.key_id,
            key_secret=settings.key_secret,
            base_url=settings.base_url,
            **options,
        )

    def __repr__(self) -> str:
        return f"SunCoClient(app_id={self.app_id!r}, base_url={str(self._http.base_url)!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> SunCoClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    # Users -----------------------------------------------------------------------------

    async def get_or_create_user(
        self,
        external_id: str,
        profile: Optional[Profile] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> User:
        """The SunCo user for this external id; a 409 means it exists, so fetch it."""
        body: Dict[str, Any] = {"externalId": external_id}
        if profile is not None:
            body["profile"] = profile.to_wire()
        if metadata:
            body["metadata"] = dict(metadata)
        try:
            data = await self._request("POST", "/users", json=body)
        except SunCoError as error:
            if error.status != 409:
                raise
            data = await self._request("GET", f"/users/{_quote(external_id)}")
        return User.parse_obj(data["user"])

    # Conversations -----------------------------------------------------------------------

    async def create_conversation(
        self,
        user_external_id: str,
        metadata: Optional[Mapping[str, Any]] = None,
        display_name: Optional[str] = None,
    ) -> Conversation:
        body: Dict[str, Any] = {
            "type": "personal",
            "participants": [{"userExternalId": user_external_id}],
        }
        if metadata:
            body["metadata"] = dict(metadata)
        if display_name:
            body["displayName"] = display_name
        data = await self._request("POST", "/conversations", json=body)
        return Conversation.parse_obj(data["conversation"])

    async def get_conversation(self, conversation_id: str) -> Conversation:
        data = await self._request("GET", f"/conversations/{_quote(conversation_id)}")
        return Conversation.parse_obj(data["conversation"])

    # Messages ----------------------------------------------------------------------------

    async def post_message(
        self,
        conversation_id: str,
        author: Author,
        content: Union[Content, str],
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Message:
        """Post one message; a plain string is sent as text content."""
        if isinstance(content, str):
            content = Content.of_text(content)
        body: Dict[str, Any] = {"author": author.to_wire(), "content": content.to_wire()}
        if metadata:
            body["metadata"] = dict(metadata)
        data = await self._request(
            "POST", f"/conversations/{_quote(conversation_id)}/messages", json=body
        )
        return Message.parse_obj(data["messages"][0])

    async def list_messages(
        self, conversation_id: str, before: Optional[str] = None, after: Optional[str] = None
    ) -> MessagePage:
        params = {}
        if before:
            params["page[before]"] = before
        if after:
            params["page[after]"] = after
        data = await self._request(
            "GET", f"/conversations/{_quote(conversation_id)}/messages", params=params
        )
        meta = data.get("meta") or {}
        return MessagePage(
            messages=[Message.parse_obj(m) for m in data.get("messages", [])],
            has_more=bool(meta.get("hasMore")),
            before_cursor=meta.get("beforeCursor"),
            after_cursor=meta.get("afterCursor"),
        )

    async def post_activity(
        self, conversation_id: str, activity: ActivityType, author: Optional[Author] = None
    ) -> None:
        """Typing indicators (`typing:start`/`typing:stop`, business only) or a read receipt."""
        body = {"type": activity, "author": (author or Author.business()).to_wire()}
        await self._request("POST", f"/conversations/{_quote(conversation_id)}/activity", json=body)

    async def upload_attachment(
        self, conversation_id: str, filename: str, data: bytes, content_type: str
    ) -> Attachment:
        params = {"access": "public", "for": "message", "conversationId": conversation_id}
        files = {"source": (filename, data, content_type)}
        body = await self._request("POST", "/attachments", params=params, files=files)
        return Attachment.parse_obj(body["attachment"])

    # Switchboard -------------------------------------------------------------------------

    async def pass_control(
        self,
        conversation_id: str,
        switchboard_integration: str,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """Give control to a switchboard integration (id, name, type, or `next`)."""
        await self._switchboard(conversation_id, "passControl", switchboard_integration, metadata)

    async def offer_control(
        self,
        conversation_id: str,
        switchboard_integration: str,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> None:
        await self._switchboard(conversation_id, "offerControl", switchboard_integration, metadata)

    async def release_control(
        self, conversation_id: str, metadata: Optional[Mapping[str, Any]] = None
    ) -> None:
        await self._switchboard(conversation_id, "releaseControl", None, metadata)

    async def _switchboard(
        self,
        conversation_id: str,
        operation: str,
        target: Optional[str],
        metadata: Optional[Mapping[str, Any]],
    ) -> None:
        body: Dict[str, Any] = {}
        if target is not None:
            body["switchboardIntegration"] = target
        if metadata:
            body["metadata"] = dict(metadata)
        await self._request(
            "POST", f"/conversations/{_quote(conversation_id)}/{operation}", json=body
        )

    # The one place for retries and errors --------------------------------------------------

    async def _request(self, method: str, path: str, **kwargs: Any) -> Dict[str, Any]:
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            remaining = self._deadline - (time.monotonic() - started)
            try:
                response = await self._http.request(
                    method, path, timeout=max(0.001, min(self._timeout, remaining)), **kwargs
                )
            except httpx.TimeoutException:
                failure: SunCoError = SunCoTimeout(
                    f"SunCo {method} {path} timed out"
                    + (f" after {attempt} attempts" if attempt > 1 else ""),
                    method=method,
                    path=path,
                    attempts=attempt,
                )
                retry_after = None
            except httpx.TransportError as exc:
                failure = SunCoUnavailable(
                    f"SunCo {method} {path} unreachable ({type(exc).__name__})"
                    + (f" after {attempt} attempts" if attempt > 1 else ""),
                    method=method,
                    path=path,
                    attempts=attempt,
                )
                retry_after = None
            else:
                body = _json_or_none(response)
                if response.status_code < 400:
                    return body if isinstance(body, dict) else {}
                failure = SunCoError.from_response(
                    response.status_code, body, method, path, attempt
                )
                if response.status_code not in RETRYABLE_STATUS:
                    raise failure
                retry_after = _retry_after_seconds(response)

            delay = self._delay(attempt, retry_after)
            if time.monotonic() - started + delay >= self._deadline:
                raise failure
            logger.info("SunCo %s %s: %s; retrying in %.2fs", method, path, failure, delay)
            await asyncio.sleep(delay)

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return retry_after
        ceiling = min(self._backoff_cap, self._backoff_base * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _retry_after_seconds(response: httpx.Response) -> Optional[float]:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _quote(segment: str) -> str:
    from urllib.parse import quote

    return quote(segment, safe="")


__all__: Tuple[str, ...] = ("SunCoClient", "JWTAuth", "RETRYABLE_STATUS")
