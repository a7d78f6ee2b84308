"""Error pages that a malformed `Accept` header cannot turn into a 500.

Sanic 21.12 (Rasa 3.6's) parses the request's `Accept` header to choose the format of every
error it answers itself (no such route: 404, wrong method: 405, a body that is not JSON:
400), and a header it cannot parse (`foo`, `é`, `*/*;q=x`) raises inside its error handler:
the answer becomes "500 An error occurred while handling an error", for Rasa's routes and the
plugin's alike. `sturdy(app)` makes the server's error handler read such a header as absent.
"""

from __future__ import annotations

from typing import Any

from sanic import Sanic
from sanic.headers import parse_accept


def sturdy(app: Sanic) -> None:
    """Install the lenient reading of `Accept` in `app`'s error handler, and in the one it
    wraps (Rasa's CORS extension wraps Sanic's), once."""
    handler: Any = app.error_handler
    while handler is not None:
        _lenient(handler)
        handler = getattr(handler, "orig_handler", None)


def _lenient(handler: Any) -> None:
    if getattr(handler, "_rasa_zendesk_sturdy", False):
        return
    default = handler.default

    def lenient(request: Any, exception: Exception) -> Any:
        if request is not None:
            try:
                request.accept  # noqa: B018 (parsed and kept by Sanic)
            except Exception:  # an Accept header Sanic cannot parse: as if none was sent
                request.parsed_accept = parse_accept("")
        return default(request, exception)

    handler.default = lenient
    handler._rasa_zendesk_sturdy = True
