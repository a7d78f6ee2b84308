"""The user is told who joined before the agent's first message; a bot author can reword the
notice (the domain's `utter_zendesk_agent_joined`) or turn it off (`agent_joined_notice`)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Dict, Optional

import pytest
from rasa.shared.core.domain import Domain

from rasa_zendesk import constants
from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.handoff import state
from testkit.channel_harness import (
    CREDENTIALS,
    RasaServer,
    WebChat,
    load_domain,
    message_webhook,
    new_id,
    open_web_chat,
    start_handoff,
    start_rasa,
)

pytestmark = pytest.mark.timeout(30)


async def running(db_path: Path, notice: str, domain: Optional[Domain] = None) -> RasaServer:
    zendesk = ZendeskInput.from_credentials({**CREDENTIALS, "agent_joined_notice": notice})
    return await start_rasa(db_path, zendesk=zendesk, domain=domain)  # type: ignore[arg-type]


async def first_messages(rasa: RasaServer, texts: tuple, count: int) -> tuple:
    sender, conversation = "webchat-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender, conversation)
    chat: WebChat = await open_web_chat(rasa.url, sender)
    try:
        for text in texts:
            webhook = message_webhook(
                conversation, sender, {"type": "text", "text": text}, display_name="Alex"
            )
            assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
        got = [(await chat.next_message())["text"] for _ in range(count)]
        chat.assert_no_more_messages()
        return sender, got
    finally:
        await chat.client.disconnect()


async def test_the_user_is_told_who_joined_once(db_path: Path) -> None:
    rasa = await running(db_path, "true")
    try:
        sender, got = await first_messages(rasa, ("Hi, how can I help?", "Still there?"), 3)
        assert got == ["Alex has joined the chat.", "Hi, how can I help?", "Still there?"]
        tracker = await rasa.tracker(sender)
        joined = state.current(tracker.events)
        assert joined is not None and joined.state == state.AGENT_JOINED
        notices = [e for e in tracker.events if e.metadata.get("utter_action")]
        assert [e.metadata["utter_action"] for e in notices][-1] == constants.UTTER_AGENT_JOINED
    finally:
        await rasa.stop()


async def test_a_reworded_notice_is_the_bot_author_s(db_path: Path) -> None:
    data: Dict = copy.deepcopy(load_domain().as_dict())
    data["responses"][constants.UTTER_AGENT_JOINED] = [{"text": "Say hello to {agent_name}!"}]
    rasa = await running(db_path, "true", Domain.from_dict(data))
    try:
        _, got = await first_messages(rasa, ("Hi",), 2)
        assert got == ["Say hello to Alex!", "Hi"]
    finally:
        await rasa.stop()


async def test_without_the_response_the_notice_is_built_in(db_path: Path) -> None:
    data: Dict = copy.deepcopy(load_domain().as_dict())
    del data["responses"][constants.UTTER_AGENT_JOINED]
    rasa = await running(db_path, "true", Domain.from_dict(data))
    try:
        _, got = await first_messages(rasa, ("Hi",), 2)
        assert got == ["Alex has joined the chat.", "Hi"]
    finally:
        await rasa.stop()


async def test_the_notice_can_be_turned_off(db_path: Path) -> None:
    rasa = await running(db_path, "false")
    try:
        sender, got = await first_messages(rasa, ("Hi",), 1)
        assert got == ["Hi"]
        joined = state.current((await rasa.tracker(sender)).events)
        assert joined is not None and joined.state == state.AGENT_JOINED  # the state moves on
    finally:
        await rasa.stop()
