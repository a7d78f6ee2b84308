"""What the plugin tells the user, rendered in the Rasa server
(`rasa_zendesk.channel.handlers.notice`)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.handlers.notice import has_response, render_notice
from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.handoff.endings import BUILT_IN_TEXTS, Wording
from testkit.action_calls import DOMAIN
from testkit.channel_harness import (
    CREDENTIALS,
    load_domain,
    new_id,
    open_web_chat,
    release_webhook,
    start_handoff,
    start_rasa,
)

JOINED = constants.UTTER_AGENT_JOINED


def without(response: str) -> Domain:
    data = copy.deepcopy(DOMAIN.as_dict())
    del data["responses"][response]
    return Domain.from_dict(data)


async def say(domain: Domain, words: Wording) -> dict:
    agent = Agent(domain=domain)
    tracker = DialogueStateTracker("sender", domain.slots)
    told = await render_notice(agent, tracker, "socketio", words, "evt-1", agent_name="Anna")
    assert told.metadata[constants.EVENT_ZENDESK_EVENT_ID] == "evt-1"
    return {"text": told.text, "utter_action": told.metadata.get("utter_action")}


async def test_the_domains_response_filled_in() -> None:
    assert has_response(Agent(domain=DOMAIN), JOINED)
    assert await say(DOMAIN, Wording(JOINED)) == {
        "text": "Anna has joined the chat.",
        "utter_action": JOINED,
    }


async def test_a_fixed_text_as_it_is() -> None:
    told = await say(DOMAIN, Wording(constants.UTTER_HANDOFF_ENDED, "Bye!"))
    assert told == {"text": "Bye!", "utter_action": None}


async def test_the_built_in_sentence_when_the_domain_has_nothing_to_say() -> None:
    domain = without(JOINED)
    assert not has_response(Agent(domain=domain), JOINED)
    told = await say(domain, Wording(JOINED))
    assert told["text"] == BUILT_IN_TEXTS[JOINED].format(agent_name="Anna")


@pytest.mark.timeout(30)
async def test_the_notice_text_can_be_configured(db_path: Path) -> None:
    zendesk = ZendeskInput.from_credentials({**CREDENTIALS, "handoff_ended_text": "Bye from Ana"})
    rasa = await start_rasa(db_path, zendesk=zendesk)  # type: ignore[arg-type]
    sender_id, conversation_id = "webchat-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id)
    chat = await open_web_chat(rasa.url, sender_id)
    try:
        await rasa.post_webhook(release_webhook(conversation_id, sender_id))
        assert await chat.next_message() == {"text": "Bye from Ana"}
    finally:
        await chat.client.disconnect()
        await rasa.stop()


@pytest.mark.timeout(30)
async def test_without_the_domain_response_the_notice_is_built_in(db_path: Path) -> None:
    data = copy.deepcopy(load_domain().as_dict())
    del data["responses"]["utter_zendesk_handoff_ended"]
    domain = Domain.from_dict(data)
    rasa = await start_rasa(db_path, domain=domain)
    sender_id, conversation_id = "webchat-" + new_id(), "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id)
    chat = await open_web_chat(rasa.url, sender_id)
    try:
        await rasa.post_webhook(release_webhook(conversation_id, sender_id))
        assert await chat.next_message() == {"text": BUILT_IN_TEXTS[constants.UTTER_HANDOFF_ENDED]}
    finally:
        await chat.client.disconnect()
        await rasa.stop()
