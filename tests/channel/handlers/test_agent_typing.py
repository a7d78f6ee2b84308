"""The agent's typing (`rasa_zendesk.channel.handlers.agent_typing`): only an agent's, only
during the conversation's handoff, never written to the tracker."""

from __future__ import annotations

from rasa_zendesk.channel.handlers import agent_typing
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.webhooks import ActivityEvent, parse_event
from testkit.action_calls import DOMAIN
from testkit.channel_harness import typing_webhook
from testkit.in_memory_rasa import CONVERSATION, SENDER, in_memory_rasa


def typing(activity: str = "typing:start") -> ActivityEvent:
    event = parse_event(typing_webhook(CONVERSATION, SENDER, activity)["events"][0])
    assert isinstance(event, ActivityEvent)
    return event


async def test_a_channel_without_typing_is_told_nothing_and_nothing_is_written() -> None:
    server = await in_memory_rasa(DOMAIN)
    before = len((await server.tracker()).events)
    result = await agent_typing.handle(typing(), server.rasa, "default")
    assert (result.applied, result.note) == (False, "channel shows no typing")
    assert len((await server.tracker()).events) == before


async def test_not_typing_and_not_in_a_handoff() -> None:
    server = await in_memory_rasa(DOMAIN)
    assert (
        await agent_typing.handle(typing("conversation:read"), server.rasa, "default")
    ).note == ("not agent typing")
    over = await in_memory_rasa(
        DOMAIN, handoff=state.ended(state.opened(CONVERSATION), state.USER_ENDED)
    )
    assert (await agent_typing.handle(typing(), over.rasa, "default")).note == "no active handoff"


async def test_another_connectors_conversation_is_refused() -> None:
    server = await in_memory_rasa(DOMAIN)
    assert (await agent_typing.handle(typing(), server.rasa, "eu")).refused
