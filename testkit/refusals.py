"""A user in a handoff on a platform whose stand-in refuses, with the in-process emulator as
Zendesk: what the agent reads in the conversation, what the webhooks were answered, the
handoff's record, the user's tracker and the channel's metrics after the agent wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional, Union

import pytest
from rasa.core.channels.channel import InputChannel
from rasa.shared.core.events import UserUttered

from rasa_zendesk import constants
from rasa_zendesk.handoff import pending, state
from rasa_zendesk.platforms.outputs import close_outputs
from testkit.channel_harness import start_handoff
from testkit.emulator_stack import EmulatorStack, emulator_stack


@pytest.fixture(name="stack")
async def stack_fixture(tmp_path: Path) -> AsyncIterator[EmulatorStack]:
    async with emulator_stack(tmp_path / "tracker.db") as stack:
        yield stack
        await close_outputs(stack.rasa.app.ctx.input_channels)


async def platform_handoff(
    stack: EmulatorStack,
    sender_id: str,
    channel: Union[str, InputChannel],
    *metadata: Dict[str, Any],
    user_wrote_at: Optional[float] = None,
) -> str:
    """A handoff in Agent Workspace that the user began on `channel` (a name, or an input
    channel the server gets now), their messages stamped `user_wrote_at` when given; each
    `metadata` is one more message of theirs. The SunCo conversation's id."""
    if isinstance(channel, InputChannel):
        stack.rasa.app.ctx.input_channels.append(channel)
        channel = channel.name()
    await stack.sunco.get_or_create_user(sender_id)
    conversation = await stack.sunco.create_conversation(
        sender_id,
        metadata={
            constants.CONVERSATION_SENDER_ID: sender_id,
            constants.CONVERSATION_INPUT_CHANNEL: channel,
        },
    )
    await start_handoff(
        stack.rasa.store, sender_id, conversation.id, input_channel=channel, at=user_wrote_at
    )
    if metadata:
        tracker = await stack.rasa.tracker(sender_id)
        for index, data in enumerate(metadata):
            said = UserUttered(f"message {index}", input_channel=channel, metadata=data)
            if user_wrote_at is not None:
                said.timestamp = user_wrote_at
            tracker.update(said)
        await stack.rasa.store.save(tracker)
    await stack.sunco.pass_control(conversation.id, constants.AGENT_WORKSPACE)
    await stack.settled()
    return conversation.id


@dataclass(frozen=True)
class AfterAgentWrote:
    #: What the plugin wrote in the conversation for the agent, in order.
    told: List[str]
    #: The attempts of each webhook of the agent's messages, and the last answer's status.
    answers: List[tuple]
    #: The causes the handoff's record notes.
    undelivered: List[str]
    #: The agent's messages the user's tracker keeps to hand out when they write again.
    waiting: List[str]
    #: The channel's count of refusals of this platform and cause.
    counted: float


async def agent_writes(
    stack: EmulatorStack,
    conversation_id: str,
    sender_id: str,
    *texts: str,
    platform: str,
    cause: str,
) -> AfterAgentWrote:
    """The agent writes each text in Agent Workspace; what became of them."""
    for text in texts:
        await stack.agent_says(conversation_id, text)
    deliveries = await stack.settled()
    page = await stack.sunco.list_messages(conversation_id)
    told = [
        message.content.text or ""
        for message in page.messages
        if (message.metadata or {}).get(constants.ORIGIN_KEY) and message.author.type == "business"
    ]
    answers = [
        (len(d["attempts"]), d["attempts"][-1]["status"])
        for d in deliveries
        if d["conversationId"] == conversation_id
        and d["eventType"] == "conversation:message"
        and d["payload"]["events"][0]["payload"]["message"]["content"].get("text") in texts
    ]
    tracker = await stack.rasa.tracker(sender_id)
    record = state.current(tracker.events)
    assert record is not None
    counted = stack.rasa.zendesk.metrics.registry.get_sample_value(
        "rasa_zendesk_deliveries_refused_total", {"platform": platform, "cause": cause}
    )
    return AfterAgentWrote(
        told=[text for text in told if text.startswith("Not delivered")],
        answers=answers,
        undelivered=list(record.undelivered or []),
        waiting=[event.text for event in pending.not_handed_out(tracker.events)],
        counted=counted or 0.0,
    )
