"""An agent's message (`rasa_zendesk.channel.handlers.agent_message`): what is left alone, and
the first message of a waiting handoff, which says who joined first."""

from __future__ import annotations

import contextlib
import copy
from datetime import datetime
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Optional

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet

from rasa_zendesk import constants
from rasa_zendesk.channel.handlers import agent_message
from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.webhooks import MessageEvent, parse_event
from testkit.action_calls import DOMAIN
from testkit.channel_harness import (
    CREDENTIALS,
    Handoff,
    RasaServer,
    WebChat,
    content,
    load_domain,
    message_webhook,
    new_id,
    open_web_chat,
    start_handoff,
    start_rasa,
)
from testkit.in_memory_rasa import CONVERSATION, SENDER, in_memory_rasa
from testkit.platforms import TelegramApi, add_telegram
from testkit.reach import handoff_on


def message(author: str = "business", metadata: Optional[Dict[str, Any]] = None) -> MessageEvent:
    envelope = message_webhook(CONVERSATION, SENDER, content("text"), author=author)
    if metadata is not None:
        envelope["events"][0]["payload"]["message"]["metadata"] = metadata
    event = parse_event(envelope["events"][0])
    assert isinstance(event, MessageEvent)
    return event


@pytest.mark.parametrize(
    ("event", "note"),
    [
        (message(author="user"), "authored by the user"),
        (message(metadata=constants.ORIGIN_METADATA), "posted by the plugin (echo)"),
    ],
)
async def test_what_is_not_an_agents_message(event: MessageEvent, note: str) -> None:
    server = await in_memory_rasa(DOMAIN)
    result = await agent_message.handle(event, server.rasa, "default")
    assert (result.applied, result.note) == (False, note)
    assert await server.said() == []


async def test_the_first_message_says_who_joined_then_what_they_wrote() -> None:
    server = await in_memory_rasa(DOMAIN)
    event = message()
    assert (await agent_message.handle(event, server.rasa, "default")).applied
    joined, written = await server.said()
    assert joined.text == "Anna Agent has joined the chat."
    assert written.metadata[constants.EVENT_ZENDESK_MESSAGE_ID] == event.payload.message.id
    record = await server.record()
    assert record is not None and (record.state, record.agent_name) == (
        state.AGENT_JOINED,
        "Anna Agent",
    )
    # The next one is only the message.
    assert (await agent_message.handle(message(), server.rasa, "default")).applied
    assert len(await server.said()) == 3


async def test_a_conversation_that_is_not_the_bots() -> None:
    server = await in_memory_rasa(DOMAIN, owner=None)
    result = await agent_message.handle(message(), server.rasa, "default")
    assert (result.applied, result.note) == (False, "not a conversation of this bot")


@pytest.mark.timeout(30)
async def test_agent_text_reaches_the_web_chat_and_the_tracker(
    rasa: RasaServer, handoff: Handoff
) -> None:
    webhook = handoff.message(content("text"))
    event = webhook["events"][0]

    answer = await rasa.post_webhook(webhook)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert await handoff.chat.next_message() == {"text": "Hello!"}
    [*_, uttered] = await rasa.bot_events(handoff.sender_id)
    assert uttered.text == "Hello!"
    assert uttered.metadata == {
        constants.EVENT_ZENDESK_MESSAGE_ID: event["payload"]["message"]["id"],
        constants.EVENT_ZENDESK_EVENT_ID: event["id"],
        constants.EVENT_ZENDESK_AGENT_NAME: "Anna Agent",
        constants.EVENT_ZENDESK_AGENT_AVATAR: "https://example.org/anna.png",
        constants.EVENT_ZENDESK_RECEIVED: datetime.fromisoformat(
            event["payload"]["message"]["received"].replace("Z", "+00:00")
        ).timestamp(),
    }


@pytest.mark.timeout(30)
async def test_the_first_agent_message_means_the_agent_joined(
    rasa: RasaServer, handoff: Handoff
) -> None:
    before = state.current((await rasa.tracker(handoff.sender_id)).events)
    assert before is not None and before.state == state.WAITING

    for text in ("Hi, Anna here", "How can I help?"):
        webhook = message_webhook(
            handoff.conversation_id, handoff.sender_id, {"type": "text", "text": text}
        )
        assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
        await handoff.chat.next_message()

    tracker = await rasa.tracker(handoff.sender_id)
    joined = state.current(tracker.events)
    assert joined is not None and joined.state == state.AGENT_JOINED
    assert joined.agent_name == "Anna Agent" and joined.id == before.id
    assert joined.agent_joined_at is not None and joined.agent_joined_at >= before.requested_at
    writes = [e for e in tracker.events if getattr(e, "key", None) == constants.SLOT_HANDOFF]
    assert len(writes) == 2  # opened, then joined once: the second message changes nothing


@pytest.mark.timeout(30)
async def test_agent_image_arrives_as_an_image(rasa: RasaServer, handoff: Handoff) -> None:
    image = content("image")

    answer = await rasa.post_webhook(handoff.message(image))

    assert answer.status_code == 200, answer.text
    assert await handoff.chat.next_message() == {"text": image["text"]}
    assert await handoff.chat.next_message() == {
        "attachment": {"type": "image", "payload": {"src": image["mediaUrl"]}}
    }
    [*_, uttered] = await rasa.bot_events(handoff.sender_id)
    assert uttered.data["image"] == image["mediaUrl"]


@pytest.mark.timeout(30)
async def test_agent_file_arrives_as_a_named_link(rasa: RasaServer, handoff: Handoff) -> None:
    file = content("file")

    answer = await rasa.post_webhook(handoff.message(file))

    assert answer.status_code == 200, answer.text
    link = f"[{file['altText']}]({file['mediaUrl']})"
    # The socket.io channel sends each paragraph as its own message.
    assert await handoff.chat.next_message() == {"text": file["text"]}
    assert await handoff.chat.next_message() == {"text": link}
    [*_, uttered] = await rasa.bot_events(handoff.sender_id)
    assert uttered.text == file["text"]
    payload = {"src": file["mediaUrl"], "title": file["altText"]}
    assert uttered.data == {"attachment": {"type": "file", "payload": payload}}


@pytest.mark.timeout(30)
async def test_a_carousel_arrives_as_a_carousel(rasa: RasaServer, handoff: Handoff) -> None:
    carousel = content("carousel")

    answer = await rasa.post_webhook(handoff.message(carousel))

    assert answer.status_code == 200, answer.text
    shown = await handoff.chat.next_message()
    item = carousel["items"][0]
    first = shown["attachment"]["payload"]["elements"][0]
    assert (first["title"], first["subtitle"]) == (item["title"], item["description"])
    assert {"type": "web_url", "title": "More info", "url": "https://example.org"} in first[
        "buttons"
    ]


@pytest.mark.timeout(30)
async def test_echoes_and_user_messages_are_not_relayed(rasa: RasaServer, handoff: Handoff) -> None:
    echo = message_webhook(
        handoff.conversation_id,
        handoff.sender_id,
        {"type": "text", "text": "transcript line posted by the plugin"},
        metadata=dict(constants.ORIGIN_METADATA),
    )
    from_user = message_webhook(
        handoff.conversation_id,
        handoff.sender_id,
        {"type": "text", "text": "user message relayed by the plugin"},
        author="user",
    )
    before = await rasa.tracker(handoff.sender_id)

    for webhook in (echo, from_user):
        answer = await rasa.post_webhook(webhook)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": "ok", "processed": 0, "ignored": 1}

    # A real agent message afterwards is the first thing the chat receives.
    await rasa.post_webhook(handoff.message(content("text")))
    assert await handoff.chat.next_message() == {"text": "Hello!"}
    after = await rasa.tracker(handoff.sender_id)
    # The agent message, and the handoff's move to `agent_joined` that it brings.
    assert len(after.events) == len(before.events) + 2
    texts = [getattr(e, "text", None) for e in after.events]
    assert "transcript line posted by the plugin" not in texts
    assert "user message relayed by the plugin" not in texts


@pytest.mark.timeout(30)
async def test_events_of_one_post_are_applied_in_order(rasa: RasaServer, handoff: Handoff) -> None:
    texts = [f"part {n}" for n in range(5)]
    webhooks = [handoff.message({"type": "text", "text": t}) for t in texts]
    envelope = webhooks[0]
    envelope["events"] = [w["events"][0] for w in webhooks]

    answer = await rasa.post_webhook(envelope)

    assert answer.json() == {"status": "ok", "processed": 5, "ignored": 0}
    assert [(await handoff.chat.next_message())["text"] for _ in texts] == texts
    assert [e.text for e in await rasa.bot_events(handoff.sender_id)][-5:] == texts


async def had_an_earlier_handoff(rasa: RasaServer, sender_id: str) -> str:
    """The user's earlier handoff, ended, in a session before the current one; its SunCo
    conversation id."""
    tracker = await rasa.tracker(sender_id)
    current = state.current(tracker.events)
    earlier = state.ended(state.opened("conv_" + new_id()), state.AGENT_RELEASED)
    for event in (
        SlotSet(constants.SLOT_HANDOFF, earlier.as_slot()),
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        SlotSet(constants.SLOT_HANDOFF, state.slot_value(current)),
        ActionExecuted(ACTION_LISTEN_NAME),
    ):
        tracker.update(event)
    await rasa.store.save(tracker)
    return earlier.conversation_id


@pytest.mark.timeout(30)
async def test_an_agent_of_an_earlier_handoff_still_reaches_the_user(
    rasa: RasaServer, handoff: Handoff
) -> None:
    other_conversation = await had_an_earlier_handoff(rasa, handoff.sender_id)

    answer = await rasa.post_webhook(
        message_webhook(other_conversation, handoff.sender_id, content("text"))
    )

    # A person wrote to this user: never dropped silently, even from an older conversation.
    assert answer.json() == {"status": "ok", "processed": 1, "ignored": 0}
    assert [e.text for e in await rasa.bot_events(handoff.sender_id)] == [
        "An agent will be with you shortly.",
        content("text")["text"],
    ]


@contextlib.asynccontextmanager
async def running(
    db_path: Path, notice: str, domain: Optional[Domain] = None
) -> AsyncIterator[RasaServer]:
    zendesk = ZendeskInput.from_credentials({**CREDENTIALS, "agent_joined_notice": notice})
    rasa = await start_rasa(db_path, zendesk=zendesk, domain=domain)  # type: ignore[arg-type]
    try:
        yield rasa
    finally:
        await rasa.stop()


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


@pytest.mark.timeout(30)
async def test_the_user_is_told_who_joined_once(db_path: Path) -> None:
    async with running(db_path, "true") as rasa:
        sender, got = await first_messages(rasa, ("Hi, how can I help?", "Still there?"), 3)
        assert got == ["Alex has joined the chat.", "Hi, how can I help?", "Still there?"]
        tracker = await rasa.tracker(sender)
        joined = state.current(tracker.events)
        assert joined is not None and joined.state == state.AGENT_JOINED
        notices = [e for e in tracker.events if e.metadata.get("utter_action")]
        assert [e.metadata["utter_action"] for e in notices][-1] == constants.UTTER_AGENT_JOINED


@pytest.mark.timeout(30)
async def test_a_reworded_notice_is_the_bot_author_s(db_path: Path) -> None:
    data: Dict = copy.deepcopy(load_domain().as_dict())
    data["responses"][constants.UTTER_AGENT_JOINED] = [{"text": "Say hello to {agent_name}!"}]
    async with running(db_path, "true", Domain.from_dict(data)) as rasa:
        _, got = await first_messages(rasa, ("Hi",), 2)
        assert got == ["Say hello to Alex!", "Hi"]


@pytest.mark.timeout(30)
async def test_without_the_response_the_notice_is_built_in(db_path: Path) -> None:
    data: Dict = copy.deepcopy(load_domain().as_dict())
    del data["responses"][constants.UTTER_AGENT_JOINED]
    async with running(db_path, "true", Domain.from_dict(data)) as rasa:
        _, got = await first_messages(rasa, ("Hi",), 2)
        assert got == ["Alex has joined the chat.", "Hi"]


@pytest.mark.timeout(30)
async def test_the_notice_can_be_turned_off(db_path: Path) -> None:
    async with running(db_path, "false") as rasa:
        sender, got = await first_messages(rasa, ("Hi",), 1)
        assert got == ["Hi"]
        joined = state.current((await rasa.tracker(sender)).events)
        assert joined is not None and joined.state == state.AGENT_JOINED  # the state moves on


async def test_a_channel_that_does_not_show_names_gets_the_agent_s_name_before_the_text() -> None:
    """`agent_name_prefix` (here from its variable, spaces kept) on a text-only channel; the
    web chat shows the name from the metadata instead (tests/platforms/test_socketio.py)."""
    server = await in_memory_rasa(DOMAIN, environ={"ZENDESK_AGENT_NAME_PREFIX": "{agent_name}: "})
    result = await agent_message.handle(message(), server.rasa, "default")
    assert result.applied, result.note
    said = [event.text for event in await server.said()]
    assert said[-1] == "Anna Agent: Hello!", said
    assert not said[0].startswith("Anna Agent: ")  # the joined notice is the plugin's own


@pytest.mark.timeout(30)
async def test_a_retry_after_the_notice_went_out_sends_only_the_message(db_path: Path) -> None:
    """The notice reached the user and the agent's message did not (Telegram's 429 flood
    wait): the handoff is recorded as joined, so SunCo's retry sends the message alone."""
    with TelegramApi() as api:
        async with running(db_path, "true") as rasa:
            chat_id = "700000061"
            add_telegram(rasa.app.ctx.input_channels, api)
            conversation_id = await handoff_on(rasa, chat_id, "telegram")
            api.refuse_send_once = 2
            webhook = message_webhook(
                conversation_id,
                chat_id,
                {"type": "text", "text": "Hi, Alex here"},
                display_name="Alex",
            )
            assert (await rasa.post_webhook(webhook)).status_code >= 500  # Zendesk retries
            record = state.current((await rasa.tracker(chat_id)).events)
            assert record is not None and record.state == state.AGENT_JOINED
            assert (await rasa.post_webhook(webhook)).json()["processed"] == 1
            recorded = [e.text for e in await rasa.bot_events(chat_id)]
    sent = [fields["text"] for method, fields in api.calls() if method == "sendMessage"]
    assert sent == ["Alex has joined the chat.", "Hi, Alex here", "Hi, Alex here"]  # 2nd refused
    assert recorded[-2:] == ["Alex has joined the chat.", "Hi, Alex here"]
