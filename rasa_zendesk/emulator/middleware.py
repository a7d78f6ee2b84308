"""Every request passes here: errors become SunCo error bodies (never a traceback), and API
calls are logged, recorded for `/_emulator/requests`, delayed, faulted, and authenticated, each
by the app it is addressed to (`/v2/apps/{appId}/...`), with that app's key only. Control calls
that change state must be JSON (`_require_json`).

`guarded_call` is that treatment for any API: the Support API (`support_api`) uses it with its
own authentication and Zendesk's error bodies."""

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Optional

from aiohttp import web

from .auth import authorized, check_authorization, refusal
from .engine import Emulator
from .errors import ApiError, error_response
from .faults import Fault, FaultInjector
from .ids import now_iso
from .registry import APPS, AppRegistry

logger = logging.getLogger("rasa_zendesk.emulator")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Turns an ApiError into the answer (SunCo's error body unless an API says otherwise).
Render = Callable[[ApiError], web.Response]
API_PREFIX = "/sc/"
PUBLIC_API_PREFIX = "/sc/attachments/"  # uploaded media: public, as access=public says
CONTROL_PREFIX = "/_emulator/"
#: The control API's methods that only read; every other one must be a JSON request.
READING_METHODS = ("GET", "HEAD")
LOGGED_BODY_CHARS = 2000
LOGGED_BODY_BYTES = 20000  # larger JSON bodies are recorded by size only

_HTTP_CODES = {
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Request body too large"),
}


def _from_http_exception(exc: web.HTTPException) -> ApiError:
    code, title = _HTTP_CODES.get(exc.status, ("bad_request", exc.reason))
    return ApiError(exc.status, code, title)


async def _answer(
    request: web.Request,
    call: Callable[[], Awaitable[web.StreamResponse]],
    render: Render = error_response,
) -> web.StreamResponse:
    """Run `call`; any failure becomes a JSON error response, made by `render`."""
    try:
        return await call()
    except ApiError as exc:
        return render(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects
        return render(_from_http_exception(exc))
    except Exception:  # a bug, not bad input: say so, keep serving
        logger.exception("internal error on %s %s", request.method, request.path)
        return render(ApiError(500, "internal_error", "Internal error in the emulator"))


async def _loggable_body(request: web.Request) -> Any:
    if not request.can_read_body or request.content_type.startswith("multipart/"):
        return None if not request.can_read_body else f"<{request.content_type}>"
    raw = await request.read()  # cached: the handler reads the same bytes
    if not raw:
        return None
    if len(raw) > LOGGED_BODY_BYTES:
        return f"<{len(raw)} bytes>"
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw[:LOGGED_BODY_CHARS].decode("utf-8", "replace")
    if isinstance(body, dict) and "client_secret" in body:  # an OAuth client's: never kept
        body = {**body, "client_secret": "<hidden>"}
    return body


async def _hang(request: web.Request, faults: FaultInjector, hang_seconds: float) -> None:
    """Hold the call until the client leaves, the emulator stops, or `hang_seconds` pass."""
    task = asyncio.current_task()
    assert task is not None
    faults.hanging.add(task)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + hang_seconds
        while loop.time() < deadline and not faults.stopping:
            transport = request.transport
            if transport is None or transport.is_closing():
                logger.info("hang fault: client gave up on %s %s", request.method, request.path)
                break
            await asyncio.sleep(0.05)
    finally:
        faults.hanging.discard(task)


async def _apply_fault(request: web.Request, fault: Fault, emulator: Emulator) -> web.Response:
    if fault.hang:
        await _hang(request, emulator.faults, emulator.config.hang_seconds)
        raise ApiError(504, "gateway_timeout", "Injected hang")
    headers = {}
    if fault.status == 429:
        headers["Retry-After"] = str(fault.retry_after if fault.retry_after is not None else 1)
        raise ApiError(429, "too_many_requests", "Too many requests (injected)", headers=headers)
    raise ApiError(int(fault.status or 500), "internal_error", "Injected failure")


def _addressed_app(request: web.Request, apps: AppRegistry) -> Emulator:
    """The app whose log, faults and key apply: the path's app (the default app when the path
    names none it knows), or for a public media download the app that stored it."""
    app = apps.get(request.match_info.get("appId"))
    if app is None and request.path.startswith(PUBLIC_API_PREFIX):
        found = apps.attachment(request.match_info.get("attachmentId", ""))
        app = found[0] if found else None
    return app or apps.default


def _authenticate(request: web.Request, apps: AppRegistry) -> None:
    """With the addressed app's key only (401 with another app's); an unknown app is a 404 for
    a caller with a valid key of some app, as SunCo says app_not_found."""
    header = request.headers.get("Authorization")
    app_id: Optional[str] = request.match_info.get("appId")
    app = apps.get(app_id)
    if app is not None or app_id is None:
        config = (app or apps.default).config
        check_authorization(header, config.key_id, config.key_secret)
        return
    if not any(authorized(header, e.config.key_id, e.config.key_secret) for e in apps):
        raise refusal(header)
    raise ApiError(404, "app_not_found", "App not found")


async def _api_call(
    request: web.Request, handler: Handler, apps: AppRegistry
) -> web.StreamResponse:
    def authenticate(request: web.Request) -> None:
        if not request.path.startswith(PUBLIC_API_PREFIX):
            _authenticate(request, apps)

    return await guarded_call(request, handler, _addressed_app(request, apps), authenticate)


async def guarded_call(
    request: web.Request,
    handler: Handler,
    emulator: Emulator,
    authenticate: Callable[[web.Request], None],
    render: Render = error_response,
) -> web.StreamResponse:
    """Serve an API call as Zendesk would, unkindness included: recorded in `emulator`'s
    request log (never its headers), delayed and faulted by `emulator`'s injector, refused
    unless `authenticate` passes, every error answered by `render`."""
    started = time.monotonic()
    entry: Dict[str, Any] = {
        "appId": emulator.app_id,
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "body": None,
        "status": None,
        "fault": None,
        "faultAfter": False,
        "at": now_iso(),
        "durationMs": None,
    }
    emulator.requests.append(entry)

    async def fail(fault: Fault) -> web.Response:
        entry["fault"] = "hang" if fault.hang else fault.status
        entry["faultAfter"] = fault.after
        return await _apply_fault(request, fault, emulator)

    async def call() -> web.StreamResponse:
        entry["body"] = await _loggable_body(request)
        fault = emulator.faults.take(request.method, request.path)
        if fault is not None and not fault.after:
            return await fail(fault)
        try:
            response = await handle()
        except Exception:
            if fault is not None:
                emulator.faults.give_back(fault)
            raise
        if fault is None:
            return response
        if response.status >= 400:  # refused, so nothing was applied: the fault waits
            emulator.faults.give_back(fault)
            return response
        return await fail(fault)  # applied (stored, webhooks sent), and then it fails

    async def handle() -> web.StreamResponse:
        if emulator.faults.latency_ms:
            await asyncio.sleep(emulator.faults.latency_ms / 1000)
        authenticate(request)
        return await handler(request)

    response = await _answer(request, call, render)
    entry["status"] = response.status
    entry["durationMs"] = int((time.monotonic() - started) * 1000)
    logger.info(
        "%s %s -> %d (%d ms)", request.method, request.path_qs, response.status, entry["durationMs"]
    )
    return response


def _require_json(request: web.Request) -> None:
    """A control call that changes state must say `Content-Type: application/json`, even
    without a body: a web page can make the developer's browser POST a form or text/plain to
    localhost unasked (a CORS "simple" request), JSON only after a preflight the emulator never
    answers, so no page can repoint the webhooks (and their secret) or act as the agent."""
    if request.content_type.lower() != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            "Control calls that change state need Content-Type: application/json"
            " (even without a body)",
        )


async def _control_call(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(CONTROL_PREFIX) and request.method not in READING_METHODS:
        _require_json(request)
    return await handler(request)


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(API_PREFIX):
        return await _api_call(request, handler, request.app[APPS])
    response = await _answer(request, lambda: _control_call(request, handler))
    if request.method != "GET":
        logger.info("%s %s -> %d", request.method, request.path, response.status)
    return response
