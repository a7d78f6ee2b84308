"""Conversations this process saw a running handoff in, for the Rasa server's timers.

The policy notes every conversation whose handoff runs when it predicts for it (that includes
the turn right after an escalation, which the action server wrote), and the channel notes the
ones it writes to. It is only a shortcut: the timers also find running handoffs in the tracker
store itself (see `rasa_zendesk.channel.timers`).
"""

from __future__ import annotations

from typing import Set

_noticed: Set[str] = set()


def notice(sender_id: str) -> None:
    _noticed.add(sender_id)


def take() -> Set[str]:
    """The conversations noticed since the last call."""
    global _noticed
    taken, _noticed = _noticed, set()
    return taken
