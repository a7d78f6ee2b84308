"""What the plugin tells the user, rendered in the Rasa server
(`rasa_zendesk.channel.handlers.notice`)."""

from __future__ import annotations

import copy

from rasa.core.agent import Agent
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.handlers.notice import has_response, render_notice
from rasa_zendesk.handoff.endings import BUILT_IN_TEXTS, Wording
from testkit.action_calls import DOMAIN

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
