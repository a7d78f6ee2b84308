"""How a user ends a handoff: an unambiguous gesture, never a guess of the bot's NLU.

A bot's NLU is trained on its own domain; messages meant for a person ("I cannot log in since
yesterday", "cancel my order", "stop charging me") are outside it, and some of them will look
like `end_handoff`. So during a handoff:
- a command ends it at once: `/end`, or the payload `/end_handoff` (a button);
- when the NLU reads `end_handoff` in ordinary words, the bot asks first
  (`utter_zendesk_confirm_end`, which Rasa renders itself) and ends it only on a yes;
- any other answer goes to the agent, together with the message that made the bot ask, which
  was meant for the agent after all; a plain "no" is only an answer, so it is not passed on.
The question itself never reaches the agent.
"""

from __future__ import annotations

import re
from typing import Any, Optional, Sequence

from rasa_zendesk.handoff import pending
from rasa_zendesk.handoff.events import field, kind

#: Typed or sent by a button: end the handoff now.
END_COMMANDS = frozenset({"/end", "/end_handoff"})
#: Answers to the confirmation question that end the handoff.
YES_ANSWERS = frozenset(
    {"yes", "y", "yeah", "yep", "yes please", "sure", "ok", "okay", "end", "end chat"}
)
#: Answers that keep the handoff and are not passed on to the agent.
NO_ANSWERS = frozenset({"no", "n", "nope", "no thanks", "stay"})

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
    """Lower case, punctuation and extra spaces gone: "Yes!" and "yes" are one answer."""
    return " ".join(_PUNCTUATION.sub(" ", (text or "").lower()).split())


def is_end_command(text: Optional[str]) -> bool:
    """`/end` or the `/end_handoff` payload, exactly (a button may add a confidence)."""
    stripped = (text or "").strip().lower()
    return stripped.split("@", 1)[0] in END_COMMANDS


def choice(text: Optional[str]) -> Optional[str]:
    """The user's choice after no agent came in time, if `text` is one."""
    stripped = (text or "").strip().lower()
    said = stripped if stripped.startswith("/") else normalized(text)
    return next((name for name, words in _CHOICES.items() if said in words), None)


def is_restart(text: Optional[str], intent: Optional[str] = None) -> bool:
    """`/restart`, or Rasa's `restart` intent when the bot has one."""
    return (text or "").strip().lower() in RESTART_COMMANDS or intent == "restart"


def is_yes(text: Optional[str]) -> bool:
    return normalized(text) in YES_ANSWERS


def is_no(text: Optional[str]) -> bool:
    return normalized(text) in NO_ANSWERS


def held_message(events: Sequence[Any], confirm_action: str) -> Optional[Any]:
    """The user message that made the bot ask, when the latest user message answers the
    confirmation question (the bot asked right after it; nothing but listening between)."""
    answered = asked = False
    for event in reversed(events):
        what = kind(event)
        if what == "user" and pending.is_poll_event(event):
            continue  # a front end's poll is no answer
        if what == "user":
            if asked:
                return event
            if answered:
                return None
            answered = True
        elif what == "action" and answered and not asked:
            name = field(event, "name")
            if name == confirm_action:
                asked = True
            elif name != "action_listen":
                return None
    return None
