"""`POST /oauth/tokens`: Zendesk's token endpoint, for the `client_credentials` grant of a
confidential OAuth client (the account's clients: `support_state`).

The body is JSON: `grant_type`, `client_id`, `client_secret`, `scope` (space-separated, each
one the client may ask for) and optional `expires_in` (more than 300 seconds, less than two
days). The answer is `{"access_token", "token_type": "bearer", "scope", "expires_in"}`; a
failure is OAuth's `{"error", "error_description"}`: 400 `unsupported_grant_type`,
`invalid_request` or `invalid_scope`, 401 `invalid_client`. The request log never keeps the
secret (`middleware`); faults and latency apply as to every API call.
"""

import hmac
from typing import Any, Dict, Tuple

from aiohttp import web

from .errors import ApiError
from .httputil import read_json
from .middleware import guarded_call
from .registry import registry

PATH = "/oauth/tokens"
GRANT = "client_credentials"
MIN_LIFETIME, MAX_LIFETIME = 300, 172800


#: The resources Zendesk's scopes name (`tickets:write`); any other is unknown.
RESOURCES = (
    "tickets",
    "users",
    "auditlogs",
    "organizations",
    "hc",
    "apps",
    "triggers",
    "automations",
    "targets",
    "webhooks",
    "zis",
)


def allowed(scope: str, scopes: Tuple[str, ...]) -> bool:
    """Whether `scopes` cover `scope` (`read`, `write` or `<resource>:read|write`): itself,
    or the broad `read`/`write` it is part of."""
    resource, _, access = scope.rpartition(":")
    if access not in ("read", "write") or (resource and resource not in RESOURCES):
        return False
    return scope in scopes or access in scopes


def oauth_error(error: ApiError) -> web.Response:
    code, title = error.errors[0]
    body = {"error": code, "error_description": title}
    return web.json_response(body, status=error.status, headers=error.headers)


def _refused(status: int, code: str, description: str) -> ApiError:
    return ApiError(status, code, description)


async def create_token(request: web.Request) -> web.Response:
    support = registry(request).default.support
    body: Dict[str, Any] = await read_json(request)
    if not isinstance(body, dict):
        raise _refused(400, "invalid_request", "The request body must be a JSON object")
    if body.get("grant_type") != GRANT:
        raise _refused(
            400, "unsupported_grant_type", "The authorization grant type is not supported"
        )
    client = support.clients.get(str(body.get("client_id") or ""))
    secret = str(body.get("client_secret") or "")
    if client is None or not hmac.compare_digest(secret.encode(), client.secret.encode()):
        raise _refused(401, "invalid_client", "Client authentication failed")
    scopes = tuple(str(body.get("scope") or "").split())
    if not scopes:
        raise _refused(400, "invalid_request", "The request is missing a required parameter: scope")
    if any(not allowed(scope, client.scopes) for scope in scopes):
        raise _refused(400, "invalid_scope", "The requested scope is invalid or unknown")
    lifetime = body.get("expires_in")
    if lifetime is not None and not (
        isinstance(lifetime, int) and MIN_LIFETIME < lifetime < MAX_LIFETIME
    ):
        raise _refused(400, "invalid_request", "expires_in must be between 300 and 172800")
    token = support.issue(client, scopes, lifetime)
    return web.json_response(
        {
            "access_token": token.value,
            "token_type": "bearer",
            "scope": " ".join(token.scopes),
            "expires_in": int(token.expires_at - token.created_at) if token.expires_at else None,
        }
    )


async def _guarded(request: web.Request) -> web.StreamResponse:
    """The token route, logged and faulted like the default app's API calls."""
    return await guarded_call(
        request, create_token, registry(request).default, lambda _: None, oauth_error
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post(PATH, _guarded)
