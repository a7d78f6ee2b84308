"""Conversations this process saw a running handoff in, for the Rasa server's timers.

The policy notes every conversation whose handoff runs when it predicts for it (that includes
the turn right after an escalation, which the action server wrote), and one whose record a
plugin action has just ended. It is only a shortcut: the timers also find running handoffs
in the tracker store itself (see `rasa_zendesk.channel.timers`). A listener (the index of open
handoffs of a Redis, MongoDB or DynamoDB store, `rasa_zendesk.channel.open_index`) is told at
once, so other instances learn of a new handoff without waiting for this process's next timer
round; its failure is logged, never the turn's.
"""

from __future__ import annotations

import logging
from typing import Callable, Optional, Set

logger = logging.getLogger(__name__)

_running: Set[str] = set()
_listener: Optional[Callable[[str], None]] = None


def note_running(sender_id: str) -> None:
    """A conversation whose handoff runs (or whose record just changed), for the timers to
    look at."""
    if _listener is not None:
        try:
            _listener(sender_id)
            return
        except Exception as error:  # the timers' next round takes it from `_running`
            logger.warning("Handoff of sender %s not told at once: %r", sender_id, error)
    _running.add(sender_id)


def listen(listener: Optional[Callable[[str], None]]) -> None:
    """Tell `listener` of every conversation noted from now on (None: nobody)."""
    global _listener
    _listener = listener


def take() -> Set[str]:
    """The conversations noted since the last call."""
    global _running
    taken, _running = _running, set()
    return taken
