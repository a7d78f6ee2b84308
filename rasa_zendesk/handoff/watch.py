"""Conversations this process saw a running handoff in, for the Rasa server's timers.

The policy notes every conversation whose handoff runs when it predicts for it (that includes
the turn right after an escalation, which the action server wrote). It is only a shortcut: the
timers also find running handoffs in the tracker store itself (see
`rasa_zendesk.channel.timers`).
"""

from __future__ import annotations

from typing import Set

_running: Set[str] = set()


def note_running(sender_id: str) -> None:
    """A conversation whose handoff runs, for the timers to look at."""
    _running.add(sender_id)


def take() -> Set[str]:
    """The conversations noted since the last call."""
    global _running
    taken, _running = _running, set()
    return taken
