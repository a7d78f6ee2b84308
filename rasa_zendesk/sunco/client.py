"""An async client for the Sunshine Conversations v2 API as Zendesk hosts it.

One `SunCoClient` holds one httpx connection pool; share it. Auth, retries and errors live in
`_request`, the one place every call goes through:
- 429, 5xx, timeouts and connection errors are retried with exponential backoff and full
  jitter, honouring `Retry-After`, until a total deadline; then `SunCoUnavailable`.
- Writes that create something (a message, a conversation) are not repeated when SunCo applied
  them but answered a 5xx, or nothing: each carries an id of ours in its metadata
  (`WRITE_ID_KEY`), and before a retry after such an ambiguous failure the client looks for it
  (one GET, within the same deadline). Found: that is the answer. A 429 is never applied, so
  it is retried without looking; a lookup that fails lets the retry go ahead.
- Any other 4xx fails at once with `SunCoError` (status, SunCo's code and title).
- A caller's run may have a deadline of its own (`run_deadline`: an action's whole run): every
  call made inside it, with its retries and lookups, ends by then, however slowly SunCo
  answers (httpx's timeouts are per read; this one is total).
- The key secret is only ever in the Authorization header; no error or log line carries it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any, Awaitable, Callable, Dict, Iterator, Mapping, Optional, Tuple, Union

import httpx

from rasa_zendesk.constants import WRITE_ID_KEY
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
#: Metadata key of the id the client puts on every message and conversation it creates.
#: Conversations of one user read when looking for one just created (one page, the most SunCo
#: gives); a user with more is not worth a second call.
CONVERSATION_LOOKUP_PAGE = 100

#: Given the call's deadline (monotonic time), the answer of a write that was applied, or None.
Lookup = Callable[[float], Awaitable[Optional[Dict[str, Any]]]]
#: Told of every attempt (method, path, HTTP status or None without an answer, seconds): the
#: channel's metrics of SunCo latency and errors.
CallObserver = Callable[[str, str, Optional[int], float], None]

#: Until when (monotonic time) the run this task belongs to may wait on SunCo (`run_deadline`).
_RUN_UNTIL: ContextVar[Optional[float]] = ContextVar("rasa_zendesk_run_until", default=None)


@contextmanager
def run_deadline(seconds: float) -> Iterator[None]:
    """Every SunCo call made inside (in this task, and the tasks it starts) ends within
    `seconds` from now, all of them together: the bound of an action's whole run. Nested, the
    earlier deadline holds."""
    until = time.monotonic() + seconds
    earlier = _RUN_UNTIL.get()
    token = _RUN_UNTIL.set(until if earlier is None else min(until, earlier))
    try:
        yield
    finally:
        _RUN_UNTIL.reset(token)


@contextmanager
def clean_up_within(seconds: float) -> Iterator[None]:
    """The calls made inside get `seconds` of their own, even when the run's deadline has
    passed: a clean-up that must be tried (a release after a pass of control whose outcome is
    unknown), bounded, so the run ends at most that much later."""
    token = _RUN_UNTIL.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _RUN_UNTIL.reset(token)


def time_left() -> Optional[float]:
    """Seconds left of the run's deadline (None: no deadline); never below 0."""
    until = _RUN_UNTIL.get()
    return None if until is None else max(0.0, until - time.monotonic())


class SunCoClient:
    """SunCo v2 calls the plugin needs, on one shared connection pool."""

    def __init__(
        self,
        *,
        app_id: str,
        key_id: str,
        key_secret: str,
        base_url: str,
        timeout: float = 10.0,
        deadline: float = 30.0,
        backoff_base: float = 0.25,
        backoff_cap: float = 8.0,
        transport: Optional[httpx.AsyncBaseTransport] = None,
        observer: Optional[CallObserver] = None,
    ) -> None:
        self.app_id = app_id
        self.observer = observer
        self._timeout = timeout
        self._deadline = deadline
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._http = httpx.AsyncClient(
            base_url=f"{base_url.rstrip('/')}/v2/apps/{app_id}",
            auth=httpx.BasicAuth(key_id, key_secret),
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
        """A personal conversation; the caller's metadata gets the client's `WRITE_ID_KEY`."""
        body: Dict[str, Any] = {
            "type": "personal",
            "participants": [{"userExternalId": user_external_id}],
        }
        body["metadata"], write_id = _with_write_id(metadata)
        if display_name:
            body["displayName"] = display_name

        async def created(until: float) -> Optional[Dict[str, Any]]:
            params = {
                "filter[userExternalId]": user_external_id,
                "page[size]": str(CONVERSATION_LOOKUP_PAGE),
            }
            data = await self._request("GET", "/conversations", params=params, until=until)
            found = _carrying(data.get("conversations"), write_id)
            return {"conversation": found} if found else None

        data = await self._request("POST", "/conversations", json=body, lookup=created)
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
        *,
        look_first: bool = False,
    ) -> Message:
        """Post one message; a plain string is sent as text content. The caller's metadata
        gets the client's `WRITE_ID_KEY`. `look_first`: an earlier call with the caller's id
        may have been applied (its caller died before it heard back): look for it before
        posting, as a retry would."""
        if isinstance(content, str):
            content = Content.of_text(content)
        body: Dict[str, Any] = {"author": author.to_wire(), "content": content.to_wire()}
        body["metadata"], write_id = _with_write_id(metadata)
        path = f"/conversations/{_quote(conversation_id)}/messages"

        async def posted(until: float) -> Optional[Dict[str, Any]]:
            data = await self._request("GET", path, until=until)  # the newest page
            found = _carrying(data.get("messages"), write_id)
            return {"messages": [found]} if found else None

        found = None
        if look_first:
            found = await self._look(posted, self._until(), "POST", path)
        data = found or await self._request("POST", path, json=body, lookup=posted)
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

    # Attachments -------------------------------------------------------------------------

    async def upload_attachment(
        self,
        source: IO[bytes],
        filename: str,
        media_type: str,
        conversation_id: Optional[str] = None,
    ) -> Attachment:
        """Upload a file (multipart field `source`, public access) for a later image or file
        message; SunCo answers its `mediaUrl`. The file is streamed from `source` in chunks,
        never held whole in memory; each try reads it from the start. A retry after an unclear
        failure may leave an unused copy on SunCo's side, never a second message."""
        params = {"access": "public"}
        if conversation_id:
            params.update({"for": "message", "conversationId": conversation_id})
        files = {"source": (filename, source, media_type)}
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

    async def _request(
        self,
        method: str,
        path: str,
        *,
        lookup: Optional[Lookup] = None,
        until: Optional[float] = None,
        **kwargs: Any,
    ) -> Dict[str, Any]:
        """One call with its retries, until the client's deadline.

        `lookup`: the call creates something; after an ambiguous failure, before trying again,
        it says whether the call was applied after all (then its answer is the call's).
        `until`: a lookup's own call, made once, bounded by the deadline of the call it serves.
        """
        once = until is not None
        until = until if until is not None else self._until()
        attempt = 0
        failure: Optional[SunCoError] = None
        while True:
            attempt += 1
            remaining = until - time.monotonic()
            if remaining <= 0:  # the deadline passed (the run's, or during a lookup)
                raise failure or SunCoTimeout.of_call("not tried: no time left", method, path)
            started, status = time.monotonic(), None
            try:
                response = await asyncio.wait_for(  # httpx's timeout is per read; this, total
                    self._http.request(
                        method, path, timeout=min(self._timeout, remaining), **kwargs
                    ),
                    remaining,
                )
                status = response.status_code
            except (httpx.TimeoutException, asyncio.TimeoutError) as exc:
                failure = SunCoTimeout.of_call("timed out", method, path, attempt)
                retry_after = None
                # Whether SunCo may have applied the failed attempt: it got the request.
                sent = not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            except httpx.TransportError as exc:
                unreachable = f"unreachable ({type(exc).__name__})"
                failure = SunCoUnavailable.of_call(unreachable, method, path, attempt)
                retry_after = None
                sent = not isinstance(exc, httpx.ConnectError)
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
                sent = response.status_code != 429  # SunCo applies nothing it answers 429
            finally:
                if self.observer is not None:
                    self.observer(method, path, status, time.monotonic() - started)
            if once:
                raise failure

            delay = self._delay(attempt, retry_after)
            retry = time.monotonic() + delay < until
            if retry:
                logger.info("SunCo %s %s: %s; retrying in %.2fs", method, path, failure, delay)
                await asyncio.sleep(delay)
            if lookup is not None and sent:
                found = await self._look(lookup, until, method, path)
                if found is not None:
                    return found
            if not retry:
                raise failure

    async def _look(
        self, lookup: Lookup, until: float, method: str, path: str
    ) -> Optional[Dict[str, Any]]:
        """Whether the failed write was applied: its answer, or None (also if unknown)."""
        if time.monotonic() >= until:
            return None
        try:
            found = await lookup(until)
        except SunCoError as error:
            logger.info(
                "SunCo %s %s: could not look whether it was applied: %s", method, path, error
            )
            return None
        if found is not None:
            logger.info(
                "SunCo %s %s had been applied despite the failure; not sent again", method, path
            )
        return found

    def _until(self) -> float:
        """When a call must end: the client's deadline from now, or the run's if earlier."""
        until = time.monotonic() + self._deadline
        run_until = _RUN_UNTIL.get()
        return until if run_until is None else min(until, run_until)

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return retry_after
        ceiling = min(self._backoff_cap, self._backoff_base * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


def _with_write_id(metadata: Optional[Mapping[str, Any]]) -> Tuple[Dict[str, Any], Any]:
    """The caller's metadata plus our write id (a caller's own id under the key is kept)."""
    body = dict(metadata or {})
    body.setdefault(WRITE_ID_KEY, uuid.uuid4().hex)
    return body, body[WRITE_ID_KEY]


def _carrying(records: Any, write_id: Any) -> Optional[Dict[str, Any]]:
    """The record (message or conversation, as SunCo sent it) whose metadata has our id."""
    for record in records if isinstance(records, list) else []:
        if (
            isinstance(record, dict)
            and (record.get("metadata") or {}).get(WRITE_ID_KEY) == write_id
        ):
            return record
    return None


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


__all__: Tuple[str, ...] = (
    "SunCoClient",
    "RETRYABLE_STATUS",
    "WRITE_ID_KEY",
    "run_deadline",
    "clean_up_within",
    "time_left",
)
