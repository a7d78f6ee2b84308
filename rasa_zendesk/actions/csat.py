"""`action_zendesk_csat`: the user's rating (1 to 5) and optional comment of a handoff with
an agent, recorded once in the handoff's record and written to its ticket (`tickets.csat`).

The bot's form fills the slots `zendesk_csat_rating` and `zendesk_csat_comment`, checked by
`validate_zendesk_csat_form` (`ActionValidateZendeskCsatForm`) when the form has that name:
an answer that is not 1 to 5 is asked again, once; "no" or "skip" ends the form unrated. The
action records the rating (`handoff.state.rated`, so a replay or a second run changes nothing),
thanks the user and returns at once. The ticket is written in the background of the action
server: a Support API failure that may pass (no answer, 429, 5xx) is tried again after
`retry_delays`, so Zendesk being slow never holds the user's turn and a rating is not lost to
one failure; the write itself is idempotent (`tickets.csat.write`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Set

from rasa_sdk.events import SlotSet

from rasa_zendesk import constants
from rasa_zendesk.actions.base import Turn, ZendeskAction, log_failure, record
from rasa_zendesk.handoff import state
from rasa_zendesk.settings import ZendeskSettings
from rasa_zendesk.tickets import csat
from rasa_zendesk.tickets.support_api import SupportApiError

logger = logging.getLogger(__name__)

_RATING = re.compile(r"(?<![\d.])([1-5])(?:\.0)?(?![\d.])")
#: A comment that says "no comment".
NO_COMMENT = frozenset({"no", "none", "nope", "skip", "/skip", "-", "no thanks", "n/a"})
#: The ticket writes in flight (kept so that the loop does not drop them).
_writes: Set[asyncio.Task] = set()


def rating_of(value: Any) -> Optional[int]:
    """1 to 5 from a slot value: a number, "4", "4 stars"; None when there is no one rating."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if value in state.CSAT_RATINGS else None
    found = _RATING.findall(str(value or ""))
    return int(found[0]) if len(found) == 1 else None


def comment_of(value: Any) -> Optional[str]:
    """The comment as the user wrote it; None for none or "no"."""
    text = str(value).strip() if value is not None else ""
    return text if text and text.lower() not in NO_COMMENT else None


#: What the validation fills both slots with when the user declines to rate: no rating, no
#: comment (`rating_of` and `comment_of` read it as none), and the form is done.
DECLINED = "skip"


class ActionValidateZendeskCsatForm(ZendeskAction):
    """The CSAT form's validation: the form's `from_text` mapping takes any text as the
    rating, and without a check the user who answered "great" would be thanked for nothing
    (the rating is dropped) or asked for a comment on a rating they never gave. A rating is
    kept as its number; "no", "skip" and the like end the form unrated; anything else is
    answered with `utter_zendesk_csat_rating_invalid` and the question comes again, until
    `answers` answers to it were not ratings: then the form ends unrated (the user has moved
    on, and a form that never lets go is worse than a missing rating)."""

    action_name = constants.ACTION_VALIDATE_CSAT_FORM
    #: Answers to the rating question that may miss before the form gives up.
    answers: ClassVar[int] = 2

    async def act(self, turn: Turn) -> List[Dict[str, Any]]:
        candidates = turn.tracker.slots_to_validate()
        if constants.SLOT_CSAT_RATING not in candidates:
            return []  # the comment: any text, "no" included (`comment_of`)
        answer = candidates[constants.SLOT_CSAT_RATING]
        rating = rating_of(answer)
        if rating is not None:
            return [SlotSet(constants.SLOT_CSAT_RATING, str(rating))]
        if comment_of(answer) is None or _answers_in_form(turn.tracker.events) >= self.answers:
            return [
                SlotSet(constants.SLOT_CSAT_RATING, DECLINED),
                SlotSet(constants.SLOT_CSAT_COMMENT, DECLINED),
            ]
        turn.tell(constants.UTTER_CSAT_RATING_INVALID)
        return [SlotSet(constants.SLOT_CSAT_RATING, None)]


def _answers_in_form(events: Sequence[Dict[str, Any]]) -> int:
    """The user's messages since the form started (all answers to the rating question, while
    it is the one asked)."""
    answers = 0
    for event in reversed(events):
        if event.get("event") == "active_loop" and event.get("name"):
            break
        if event.get("event") == "user":
            answers += 1
    return answers


@dataclass(frozen=True)
class RatingToWrite:
    """What the background write needs: where, which ticket, the rating and comment, whose."""

    connector: ZendeskSettings
    ticket_id: str
    rating: int
    comment: Optional[str]
    sender_id: str


class ActionZendeskCsat(ZendeskAction):
    """Record the user's rating of the handoff that just ended, and write it to its ticket."""

    action_name = constants.ACTION_CSAT
    #: Seconds between attempts to write the ticket (len + 1 attempts; about 20 minutes).
    retry_delays: ClassVar[Sequence[float]] = (2, 5, 15, 30, 60, 120, 300, 600)
    #: The longest one Support API call may take.
    request_timeout: ClassVar[float] = 10.0

    async def act(self, turn: Turn) -> List[Dict[str, Any]]:
        tracker = turn.tracker
        cleared = [SlotSet(constants.SLOT_CSAT_RATING, None)]
        if constants.SLOT_CSAT_COMMENT in tracker.slots:
            cleared.append(SlotSet(constants.SLOT_CSAT_COMMENT, None))
        handoff = state.current(tracker.events)
        rating = rating_of(tracker.get_slot(constants.SLOT_CSAT_RATING))
        if (
            handoff is None
            or handoff.state != state.ENDED
            or handoff.agent_joined_at is None
            or handoff.csat_rating is not None
            or rating is None
        ):
            return cleared  # no handoff with an agent to rate, rated already, or no rating
        rated = state.rated(handoff, rating)
        turn.tell(constants.UTTER_CSAT_THANKS)
        comment = comment_of(tracker.get_slot(constants.SLOT_CSAT_COMMENT))
        try:
            connector = self.connectors().get(handoff.connector)
        except Exception as error:
            log_failure(logger, "CSAT rating", turn.sender_id, error)
        else:
            pending = RatingToWrite(
                connector, rated.ticket_id or "", rating, comment, turn.sender_id
            )
            self._write_later(pending, rated)
        return [record(rated), *cleared]

    def _write_later(self, rating: RatingToWrite, handoff: state.Handoff) -> None:
        why = None
        if not handoff.ticket_id:
            why = "the handoff's ticket is not known (no ticket-status webhook reached it)"
        elif not rating.connector.support_auth_configured:
            why = "the Support API is not configured (support_oauth_client_id or _token)"
        if why:
            logger.warning(
                "Zendesk CSAT rating of sender %s kept in the tracker, not written: %s",
                rating.sender_id,
                why,
            )
            return
        task = asyncio.get_running_loop().create_task(self._write(rating))
        _writes.add(task)
        task.add_done_callback(_writes.discard)

    async def _write(self, rating: RatingToWrite) -> None:
        """Write the rating; try again while the failure may pass, at most len(delays)."""
        delays = list(self.retry_delays)
        while True:
            try:
                await csat.write(
                    rating.connector,
                    rating.ticket_id,
                    rating.rating,
                    rating.comment,
                    self.request_timeout,
                )
            except SupportApiError as error:
                if error.passing and delays:
                    logger.info(
                        "Zendesk CSAT write for sender %s failed (%s); trying again in %g s",
                        rating.sender_id,
                        error,
                        delays[0],
                    )
                    await asyncio.sleep(delays.pop(0))
                    continue
                log_failure(logger, "CSAT write to the ticket", rating.sender_id, error)
            except Exception as error:
                log_failure(logger, "CSAT write to the ticket", rating.sender_id, error)
            else:
                logger.info(
                    "Zendesk CSAT rating %s of sender %s is on ticket %s",
                    rating.rating,
                    rating.sender_id,
                    rating.ticket_id,
                )
            return
