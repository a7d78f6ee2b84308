"""The ticket tag that names a handoff's SunCo conversation (`tickets/link.py`)."""

from __future__ import annotations

import pytest

from rasa_zendesk import constants

pytestmark = pytest.mark.timeout(60)


async def test_the_link_tag_names_the_conversation() -> None:
    from rasa_zendesk.tickets.link import conversation_of_tags, link_tag

    tag = link_tag("65AB00ff")
    assert tag == "rasa_zendesk_conversation_65ab00ff"
    assert conversation_of_tags(["vip", tag]) == "65ab00ff"
    assert conversation_of_tags(["vip", 3, "rasa_zendesk_conversation_"]) is None
    assert constants.TICKET_LINK_TAG_PREFIX in tag
