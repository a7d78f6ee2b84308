"""The user's output channel (`platforms/outputs.py`): a channel that cannot push shows no
typing."""

from __future__ import annotations

import pytest
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.channels.rest import RestInput

from rasa_zendesk.platforms.outputs import show_typing, user_output

pytestmark = pytest.mark.timeout(30)


async def test_channels_that_cannot_push_show_no_typing() -> None:
    output = user_output([RestInput()], None, "rest")
    assert isinstance(output, CollectingOutputChannel)
    assert not await show_typing(output, "u1", True, "agent_typing")
    assert output.messages == []
