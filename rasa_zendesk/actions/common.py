"""What the Zendesk actions share: response names, the user's latest turn, the handoff's
record, and logging.

The response names come from `rasa_zendesk.constants`; a bot's domain defines their text (see
the example bot's `domain.yml`).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rasa_sdk.events import SlotSet

from rasa_zendesk.constants import (  # noqa: F401  (the actions import them from here)
    SLOT_HANDOFF,
    UTTER_HANDOFF_ENDED,
    UTTER_HANDOFF_FAILED,
    UTTER_HANDOFF_STARTED,
    UTTER_RELAY_FAILED,
)
from rasa_zendesk.handoff.state import Handoff
from rasa_zendesk.settings import SettingsError
from rasa_zendesk.sunco.errors import SunCoError

# What an action expects when Zendesk cannot be reached: SunCo failed after its retries, or the
# action server is not configured for Zendesk. Both leave the bot in charge.
ZendeskFailure = (SunCoError, SettingsError)


def latest_user_event_of(events: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The most recent `user` event, as Rasa sent it (text, metadata, ...)."""
    for event in reversed(events):
        if event.get("event") == "user":
            return event
    return None


def record(handoff: Handoff) -> Dict[str, Any]:
    """The event that stores a transition of the handoff (see `rasa_zendesk.handoff.state`)."""
    return SlotSet(SLOT_HANDOFF, handoff.as_slot())


def log_failure(logger: logging.Logger, what: str, sender_id: str, error: Exception) -> None:
    """One line an operator can act on. SunCo and settings errors carry status, code and the
    failing call, never a credential, so their text is logged as is; anything else (an answer
    the client could not read, a bug) is logged with its traceback, as an error."""
    if isinstance(error, ZendeskFailure):
        logger.warning("Zendesk %s failed for sender %s: %s", what, sender_id, error)
    else:
        logger.error(
            "Zendesk %s failed unexpectedly for sender %s", what, sender_id, exc_info=error
        )
