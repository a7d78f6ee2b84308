"""A user's satisfaction rating written to the handoff's ticket: the tag `rasa_csat_<n>`, the
comment as an internal note, the rating in a custom field when `csat_field_id` is set.

One ticket update carries all three, so Zendesk applies them together or not at all. Before
writing, the ticket is read: a `rasa_csat_` tag on it means an earlier attempt was applied
(its answer lost: a timeout, a 5xx after the write), and nothing is written twice.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa_zendesk.settings import ZendeskSettings
from rasa_zendesk.tickets import support_api
from rasa_zendesk.tickets.support_api import SupportApiError

TAG_PREFIX = "rasa_csat_"
#: Zendesk refuses any change to a closed ticket (422).
CLOSED = "closed"


def tag(rating: int) -> str:
    """The ticket tag of a rating: `rasa_csat_4`."""
    return f"{TAG_PREFIX}{rating}"


def update(
    rating: int, comment: Optional[str], field_id: Optional[int], author: str = "The user"
) -> Dict[str, Any]:
    """The body of `PUT /api/v2/tickets/{id}.json` that records the rating."""
    ticket: Dict[str, Any] = {"additional_tags": [tag(rating)]}
    note = f"{author} rated the conversation {rating} out of 5."
    if comment:
        note += f"\nComment: {comment}"
    ticket["comment"] = {"body": note, "public": False}
    if field_id is not None:
        ticket["custom_fields"] = [{"id": field_id, "value": rating}]
    return {"ticket": ticket}


async def write(
    settings: ZendeskSettings,
    ticket_id: str,
    rating: int,
    comment: Optional[str],
    timeout: float,
) -> bool:
    """Write the rating to the ticket once; False when it was there already. Raises
    `SupportApiError` (`passing` says whether a later attempt may succeed)."""
    path = f"tickets/{ticket_id}.json"
    ticket = (await support_api.request(settings, "GET", path, timeout)).get("ticket")
    if not isinstance(ticket, dict):
        raise SupportApiError(f"GET /api/v2/{path}: no ticket object")
    if any(str(t).startswith(TAG_PREFIX) for t in ticket.get("tags") or []):
        return False
    if ticket.get("status") == CLOSED:
        raise SupportApiError(f"ticket {ticket_id} is closed: Zendesk allows no change", 422)
    body = update(rating, comment, settings.csat_field_id)
    await support_api.request(settings, "PUT", path, timeout, json=body)
    return True
