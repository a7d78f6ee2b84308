"""Comparing what a request presents (a header, a signature) with a secret: in constant time,
and never an error, whatever bytes the request carried."""

from __future__ import annotations

import hmac
from typing import Optional


def same_secret(given: Optional[str], expected: str) -> bool:
    """Whether `given` is `expected`, in constant time. An absent or empty value is never
    equal; bytes that are not UTF-8 (Sanic keeps a header's as surrogates) compare as they
    came, unequal, never as an error."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))
