"""Users in a handoff on a platform, the agent's side as SunCo webhooks, and a Rasa server
whose callback channel posts to its stand-in (`testkit.platforms`): what the tests of reach,
rich messages and typing share.

The Rasa server and the webhooks are `testkit.channel_harness`'s (the channel tests' harness).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator, Dict, Union

import pytest
from rasa.core.channels.channel import InputChannel
from rasa.shared.core.events import UserUttered

from rasa_zendesk.handoff import state
from rasa_zendesk.platforms.outputs import close_outputs
from testkit.channel_harness import (
    RasaServer,
    content,
    message_webhook,
    new_id,
    start_handoff,
    start_rasa,
    typing_webhook,
)
from testkit.platforms import CallbackServer


@pytest.fixture(name="rasa")
async def rasa_fixture(tmp_path: Path, callback: CallbackServer) -> AsyncIterator[RasaServer]:
    server = await start_rasa(tmp_path / "tracker.db", callback_url=callback.url)
    yield server
    await server.stop()
    await close_outputs(server.app.ctx.input_channels)


async def handoff_on(
    rasa: RasaServer, sender_id: str, channel: Union[str, InputChannel], *metadata: Dict[str, Any]
) -> str:
    """A handoff the user began on `channel` (a name, or an input channel the server gets now);
    each `metadata` is one more message of theirs."""
    if isinstance(channel, InputChannel):
        rasa.app.ctx.input_channels.append(channel)
        channel = channel.name()
    conversation_id = "conv_" + new_id()
    await start_handoff(rasa.store, sender_id, conversation_id, input_channel=channel)
    if metadata:
        tracker = await rasa.tracker(sender_id)
        for index, data in enumerate(metadata):
            tracker.update(UserUttered(f"message {index}", input_channel=channel, metadata=data))
        await rasa.store.save(tracker)
    return conversation_id


async def agent_sends(
    rasa: RasaServer, conversation_id: str, sender_id: str, *contents: Dict[str, Any]
) -> None:
    """Each message through its webhook, taken by the user's platform: the webhook applied
    and no refusal noted in the handoff's record (a stand-in that refused fails the test)."""
    for message in contents:
        answer = await rasa.post_webhook(message_webhook(conversation_id, sender_id, message))
        assert answer.json()["processed"] == 1, answer.text
    record = state.current((await rasa.tracker(sender_id)).events)
    assert record is not None and not record.undelivered, record


async def agent_types(rasa: RasaServer, conversation_id: str, sender_id: str) -> None:
    for activity in ("typing:start", "typing:stop"):
        webhook = typing_webhook(conversation_id, sender_id, activity)
        assert (await rasa.post_webhook(webhook)).status_code == 200


IMAGE = content("image")  # "Hello!" with https://example.org/image.jpg


FILE = content("file")  # "Here's our FAQ!" with https://example.org/FAQ.pdf named FAQ.pdf
