"""What an operator can find in the log: messages acknowledged that reached nobody, and agent
messages that arrive out of the agent's order. Neither is ever dropped."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from rasa_zendesk import constants
from testkit.channel_harness import (
    Handoff,
    RasaServer,
    message_webhook,
    new_id,
    start_handoff,
)

pytestmark = pytest.mark.timeout(30)

LOGGER = "rasa_zendesk.channel.write_path"


def stamped(webhook: dict, received: datetime) -> dict:
    webhook["events"][0]["payload"]["message"]["received"] = received.isoformat()
    return webhook


async def test_a_message_for_a_channel_that_cannot_push_is_a_warning_naming_the_sender(
    rasa: RasaServer, caplog: pytest.LogCaptureFixture
) -> None:
    sender, conversation = "rest-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender, conversation, input_channel="rest")
    webhook = message_webhook(conversation, sender, {"type": "text", "text": "Hi there"})

    with caplog.at_level(logging.INFO, logger=LOGGER):
        answer = await rasa.post_webhook(webhook)

    assert answer.json()["processed"] == 1  # recorded: a later request can still hand it out
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == LOGGER]
    assert len(warnings) == 1 and sender in warnings[0].getMessage()
    assert "rest" in warnings[0].getMessage() and "cannot push" in warnings[0].getMessage()
    [*_, uttered] = await rasa.bot_events(sender)
    assert uttered.text == "Hi there"


async def test_a_web_chat_with_nobody_connected_is_a_warning(
    rasa: RasaServer, handoff: Handoff, caplog: pytest.LogCaptureFixture
) -> None:
    await handoff.chat.client.disconnect()
    webhook = message_webhook(
        handoff.conversation_id, handoff.sender_id, {"type": "text", "text": "Hello?"}
    )

    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert (await rasa.post_webhook(webhook)).json()["processed"] == 1

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(handoff.sender_id in m and "nobody is connected" in m for m in warnings), warnings


async def test_a_connected_web_chat_is_no_warning(
    rasa: RasaServer, handoff: Handoff, caplog: pytest.LogCaptureFixture
) -> None:
    webhook = message_webhook(
        handoff.conversation_id, handoff.sender_id, {"type": "text", "text": "Hi"}
    )
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
    await handoff.chat.next_message()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == LOGGER]


async def test_an_older_message_after_a_newer_one_is_delivered_and_logged(
    rasa: RasaServer, handoff: Handoff, caplog: pytest.LogCaptureFixture
) -> None:
    """SunCo keeps no order across retries: the agent's first message can come second."""
    now = datetime.now(timezone.utc)
    first, second = now - timedelta(seconds=30), now - timedelta(seconds=10)
    newer = stamped(
        message_webhook(
            handoff.conversation_id, handoff.sender_id, {"type": "text", "text": "2nd"}
        ),
        second,
    )
    older = stamped(
        message_webhook(
            handoff.conversation_id, handoff.sender_id, {"type": "text", "text": "1st"}
        ),
        first,
    )

    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert (await rasa.post_webhook(newer)).json()["processed"] == 1
        assert (await rasa.post_webhook(older)).json()["processed"] == 1

    assert [(await handoff.chat.next_message())["text"] for _ in range(2)] == ["2nd", "1st"]
    agent = [
        e
        for e in await rasa.bot_events(handoff.sender_id)
        if e.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)
    ]
    assert [e.text for e in agent] == ["2nd", "1st"]
    assert [e.metadata[constants.EVENT_ZENDESK_RECEIVED] for e in agent] == [
        second.timestamp(),
        first.timestamp(),
    ]
    late = [r.getMessage() for r in caplog.records if "out of the agent's order" in r.getMessage()]
    assert len(late) == 1 and handoff.sender_id in late[0]


async def test_messages_in_order_are_not_logged_as_late(
    rasa: RasaServer, handoff: Handoff, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(timezone.utc)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for offset, text in ((20, "a"), (10, "b"), (10, "c")):  # equal times are in order
            webhook = message_webhook(
                handoff.conversation_id, handoff.sender_id, {"type": "text", "text": text}
            )
            stamped(webhook, now - timedelta(seconds=offset))
            assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
    assert not [r for r in caplog.records if "out of the agent's order" in r.getMessage()]
