"""How a Zendesk ticket is tied to the SunCo conversation of its handoff.

Agent Workspace opens the ticket from the passControl metadata, whose tags the escalation
sets; one of them carries the conversation id. Zendesk's ticket events repeat the ticket's
tags (`detail.tags`), so a status change finds its conversation, and through the
conversation's metadata the Rasa user, without any lookup table of ours.
"""

from __future__ import annotations

from typing import Iterable, Optional

from rasa_zendesk.constants import TICKET_LINK_TAG_PREFIX


def link_tag(conversation_id: str) -> str:
    """The ticket tag naming the conversation (SunCo ids are lower-case hex, as tags must be)."""
    return TICKET_LINK_TAG_PREFIX + conversation_id.lower()


def conversation_of_tags(tags: Iterable[object]) -> Optional[str]:
    """The SunCo conversation id in a ticket's tags, if the plugin set one."""
    for item in tags:
        if isinstance(item, str) and item.startswith(TICKET_LINK_TAG_PREFIX):
            return item[len(TICKET_LINK_TAG_PREFIX) :] or None
    return None
