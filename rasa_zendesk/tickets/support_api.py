"""The Zendesk Support API client: the one place that authenticates a Support API call.

Zendesk stops API tokens on 30 Apr 2027, so only OAuth is used: a static access token
(`support_oauth_token`), or an OAuth client's credentials (`support_oauth_client_id` and
`support_oauth_client_secret`, the `client_credentials` grant of a confidential client at
`POST /oauth/tokens`). A fetched token is kept per connector and fetched again before it
expires (`REFRESH_BEFORE`, on `rasa_zendesk.clock`) or when Zendesk refuses it (401, once).

Every call has a short timeout; a failure raises `SupportApiError` with the call and its
status, never a token or a secret, and the caller decides what it means.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Optional, Tuple

import httpx

from rasa_zendesk import clock
from rasa_zendesk.settings import ZendeskSettings

#: A fetched token is replaced this long before it expires (at most half its lifetime).
REFRESH_BEFORE = 300.0
TOKEN_PATH = "/oauth/tokens"


class SupportApiError(RuntimeError):
    """The Support API did not answer, or not with what it should (no secret in the text).
    `status` is the HTTP status, None when there was no answer."""

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def passing(self) -> bool:
        """Worth trying again later: no answer, 429 or a 5xx."""
        return self.status is None or self.status == 429 or self.status >= 500


@dataclass(frozen=True)
class _Token:
    value: str
    refresh_at: Optional[float]  # None: until Zendesk refuses it


#: Fetched tokens, by (Support API root, client id).
_tokens: Dict[Tuple[str, str], _Token] = {}


@dataclass(frozen=True)
class TokenInfo:
    """What Zendesk says of the token in use (`GET /api/v2/oauth/tokens/current.json`)."""

    scopes: Tuple[str, ...]
    expires_at: Optional[float]  # epoch seconds; None: it does not expire


async def _send(
    method: str,
    url: str,
    what: str,
    timeout: float,
    headers: Optional[Dict[str, str]] = None,
    **kwargs: Any,
) -> httpx.Response:
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            # The whole call within `timeout`, not each of its phases.
            return await asyncio.wait_for(
                http.request(method, url, headers=headers, **kwargs), timeout
            )
    except asyncio.TimeoutError:
        raise SupportApiError(f"{what}: no answer within {timeout:g} s") from None
    except httpx.HTTPError as error:
        raise SupportApiError(f"{what}: {type(error).__name__}") from None


def _json_object(answer: httpx.Response, what: str) -> Dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        raise SupportApiError(f"{what}: not JSON", answer.status_code) from None
    if not isinstance(body, dict):
        raise SupportApiError(f"{what}: not a JSON object", answer.status_code)
    return body


async def _fetch_token(settings: ZendeskSettings, timeout: float) -> _Token:
    """A new access token for the connector's OAuth client (`client_credentials`)."""
    what = f"POST {TOKEN_PATH} (client {settings.support_oauth_client_id})"
    body = {
        "grant_type": "client_credentials",
        "client_id": settings.support_oauth_client_id,
        "client_secret": settings.support_oauth_client_secret,
        "scope": settings.support_oauth_scope,
    }
    answer = await _send("POST", settings.support_base_url + TOKEN_PATH, what, timeout, json=body)
    if answer.status_code != 200:
        error = ""
        if answer.headers.get("content-type", "").startswith("application/json"):
            error = str(_json_object(answer, what).get("error") or "")
        raise SupportApiError(
            f"{what}: {answer.status_code}" + (f" {error}" if error else ""), answer.status_code
        )
    token = _json_object(answer, what)
    if not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise SupportApiError(f"{what}: no access_token in the answer", answer.status_code)
    lifetime = token.get("expires_in")
    refresh_at = None
    if isinstance(lifetime, (int, float)) and lifetime > 0:
        refresh_at = clock.now() + lifetime - min(REFRESH_BEFORE, lifetime / 2)
    return _Token(token["access_token"], refresh_at)


async def _access_token(settings: ZendeskSettings, timeout: float, fresh: bool = False) -> str:
    if settings.support_oauth_token:
        return settings.support_oauth_token
    if not settings.support_oauth_client_id:
        raise SupportApiError(
            "the Support API needs support_oauth_token, or support_oauth_client_id and "
            "support_oauth_client_secret"
        )
    key = (settings.support_base_url, settings.support_oauth_client_id)
    token = _tokens.get(key)
    if fresh or token is None or (token.refresh_at is not None and clock.now() >= token.refresh_at):
        token = _tokens[key] = await _fetch_token(settings, timeout)
    return token.value


async def request(
    settings: ZendeskSettings,
    method: str,
    path: str,
    timeout: float,
    params: Optional[Dict[str, str]] = None,
    json: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """`method /api/v2/<path>` with the connector's OAuth token; the answer's JSON object.
    A fetched token Zendesk refuses (revoked, expired early) is fetched again, once."""
    what = f"{method} /api/v2/{path}"
    url = f"{settings.support_base_url}/api/v2/{path}"
    answer = None
    for fresh in (False, True):
        token = await _access_token(settings, timeout, fresh)
        headers = {"Authorization": f"Bearer {token}"}
        answer = await _send(method, url, what, timeout, headers, params=params, json=json)
        if answer.status_code != 401 or settings.support_oauth_token:
            break
    assert answer is not None
    if answer.status_code not in (200, 201):
        raise SupportApiError(f"{what}: {answer.status_code}", answer.status_code)
    return _json_object(answer, what)


async def token_info(settings: ZendeskSettings, timeout: float) -> TokenInfo:
    """The scopes and expiry Zendesk gives for the token in use."""
    token = (await request(settings, "GET", "oauth/tokens/current.json", timeout)).get("token")
    if not isinstance(token, dict):
        raise SupportApiError("GET /api/v2/oauth/tokens/current.json: no token object")
    scopes = token.get("scopes") or []
    expires = token.get("expires_at")
    expires_at = None
    if expires:
        try:
            expires_at = datetime.fromisoformat(str(expires).replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise SupportApiError("GET /api/v2/oauth/tokens/current.json: bad expires_at") from None
    return TokenInfo(tuple(str(scope) for scope in scopes), expires_at)


def grants(scopes: Tuple[str, ...], needed: str) -> bool:
    """Whether Zendesk's `scopes` allow `needed` (`read`, `tickets:write`, ...): the scope
    itself, or the broad `read`/`write` it belongs to."""
    broad = needed.split(":")[-1]
    return needed in scopes or broad in scopes
