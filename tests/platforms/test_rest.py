"""The REST channel (`platforms/rest.py`): it cannot push, so an agent's message stays in the
tracker and the user is told it waits."""

from __future__ import annotations

import logging

import pytest

from testkit.channel_harness import RasaServer, new_id
from testkit.reach import IMAGE, agent_sends, handoff_on

pytestmark = pytest.mark.timeout(60)


async def test_a_channel_that_cannot_push_keeps_it_in_the_tracker_and_says_so(
    rasa: RasaServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rasa_zendesk")
    sender_id = "rest-" + new_id()
    conversation_id = await handoff_on(rasa, sender_id, "rest")

    await agent_sends(rasa, conversation_id, sender_id, IMAGE)

    (uttered,) = (
        e for e in (await rasa.bot_events(sender_id)) if e.metadata.get("zendesk_message_id")
    )
    assert (uttered.text, uttered.data) == ("Hello!", {"image": IMAGE["mediaUrl"]})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(sender_id in w and "(rest) cannot push" in w for w in warnings), warnings
