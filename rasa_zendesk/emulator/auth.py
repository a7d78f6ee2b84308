"""SunCo API authentication: Basic (key id + secret) or a JWT signed with the key (`kid`)."""

import base64
import binascii
import hmac
import warnings
from typing import Optional

import jwt

from .errors import ApiError


def _unauthorized(title: str) -> ApiError:
    return ApiError(401, "unauthorized", title)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _check_basic(token: str, key_id: str, key_secret: str) -> bool:
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    user, sep, password = decoded.partition(":")
    # Evaluate both comparisons: no early exit that tells which part was wrong.
    return bool(sep) & _same(user, key_id) & _same(password, key_secret)


def _check_jwt(token: str, key_id: str, key_secret: str) -> bool:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "HS256" or not _same(str(header.get("kid", "")), key_id):
            return False
        with warnings.catch_warnings():  # short demo secrets are the user's choice here
            warnings.simplefilter("ignore")
            payload = jwt.decode(token, key_secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return False
    return isinstance(payload, dict) and payload.get("scope") == "app"


def authorized(header: Optional[str], key_id: str, key_secret: str) -> bool:
    """Whether `header` carries this app key (Basic or Bearer JWT)."""
    if not header or not key_id:
        return False
    scheme, _, token = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        return _check_basic(token, key_id, key_secret)
    return scheme == "bearer" and _check_jwt(token.strip(), key_id, key_secret)


def refusal(header: Optional[str]) -> ApiError:
    """The 401 for a call without valid credentials."""
    return _unauthorized("Invalid credentials" if header else "Authorization is required")


def check_authorization(header: Optional[str], key_id: str, key_secret: str) -> None:
    """Raise a 401 ApiError unless `header` carries the app key (Basic or Bearer JWT)."""
    if not authorized(header, key_id, key_secret):
        raise refusal(header)
