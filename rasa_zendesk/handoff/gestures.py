"""How a user ends a handoff: an unambiguous gesture, never a guess of the bot's NLU.

A bot's NLU is trained on its own domain; messages meant for a person ("I cannot log in since
yesterday", "cancel my order", "stop charging me") are outside it, and any of them may look
like anything to it. So during a handoff every user message goes to the agent at once,
unchanged, whatever the NLU made of it, and the bot says nothing. Only these reach the bot:
- a command: `/end`, or the payload `/end_handoff` (the "End chat" button of
  `utter_zendesk_handoff_started`);
- the choices the plugin itself offered (no agent in time: `/wait`, `/leave_message`, `/bot`
  and their words, only while the offer is open);
- `/restart`, Rasa's own command.
"""

from __future__ import annotations

import re
from typing import Optional

#: Typed or sent by a button: end the handoff now.
END_COMMANDS = frozenset({"/end", "/end_handoff"})
#: The user's choices when no agent came in time (`utter_zendesk_agent_timeout`): its buttons'
#: payloads, and words the bot understands on every channel, only while the offer is open.
KEEP_WAITING = "keep_waiting"
LEAVE_MESSAGE = "leave_message"
BACK_TO_BOT = "back_to_bot"
_CHOICES = {
    KEEP_WAITING: {"/wait", "wait", "keep waiting", "i will wait", "i ll wait", "1"},
    LEAVE_MESSAGE: {"/leave_message", "leave a message", "message", "leave message", "2"},
    BACK_TO_BOT: {"/bot", "bot", "back to the bot", "go back to the bot", "the bot", "3"},
}
#: A restart (`/restart`, Rasa's own command) ends a running handoff first.
RESTART_COMMANDS = frozenset({"/restart"})

_PUNCTUATION = re.compile(r"[^\w\s/]+")


def normalized(text: Optional[str]) -> str:
    """Lower case, punctuation and extra spaces gone: "Wait!" and "wait" are one choice."""
    return " ".join(_PUNCTUATION.sub(" ", (text or "").lower()).split())


def _command(text: Optional[str]) -> str:
    """A typed or button command as sent, without what a button may add (`@confidence`)."""
    return (text or "").strip().lower().split("@", 1)[0]


def is_end_command(text: Optional[str]) -> bool:
    """`/end` or the `/end_handoff` payload, exactly."""
    return _command(text) in END_COMMANDS


def choice(text: Optional[str]) -> Optional[str]:
    """The user's choice after no agent came in time, if `text` is one."""
    stripped = (text or "").strip().lower()
    said = stripped if stripped.startswith("/") else normalized(text)
    return next((name for name, words in _CHOICES.items() if said in words), None)


def is_restart(text: Optional[str]) -> bool:
    """`/restart` as typed: a `restart` intent the NLU read in words is only a guess."""
    return _command(text) in RESTART_COMMANDS
