"""Errors raised by the SunCo client.

They carry what an operator needs (HTTP status, SunCo's error code and title, the call that
failed) and never a credential: the key secret is not part of any request line or body.
"""

from __future__ import annotations

from typing import Any, Optional


class SunCoError(Exception):
    """A SunCo call failed: a 4xx answer, or a retryable failure that outlived the deadline."""

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        title: Optional[str] = None,
        method: Optional[str] = None,
        path: Optional[str] = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        #: SunCo's answer, when it answered: the HTTP status, its error's code and title.
        self.status, self.code, self.title = status, code, title
        #: The call that failed, and how many times it was tried.
        self.method, self.path, self.attempts = method, path, attempts

    @classmethod
    def of_call(
        cls, what: str, method: str, path: str, attempts: int = 1, **answer: Any
    ) -> SunCoError:
        """ "SunCo {method} {path} {what}", with the number of attempts when there were more
        than one; `answer`: SunCo's status, code and title when it answered."""
        message = f"SunCo {method} {path} {what}"
        if attempts > 1:
            message += f" after {attempts} attempts"
        return cls(message, method=method, path=path, attempts=attempts, **answer)

    @classmethod
    def from_response(
        cls, status: int, body: Any, method: str, path: str, attempts: int = 1
    ) -> SunCoError:
        code, title = _first_error(body)
        detail = f"{status} {code or 'error'}" + (f" ({title})" if title else "")
        error_cls = SunCoUnavailable if status == 429 or status >= 500 else cls
        return error_cls.of_call(
            f"failed: {detail}", method, path, attempts, status=status, code=code, title=title
        )


class SunCoUnavailable(SunCoError):
    """SunCo kept answering 429/5xx (or nothing) until the client's deadline ran out."""


class SunCoTimeout(SunCoUnavailable):
    """SunCo did not answer in time, on every attempt until the deadline."""


def _first_error(body: Any) -> tuple[Optional[str], Optional[str]]:
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0].get("code"), errors[0].get("title")
    return None, None
