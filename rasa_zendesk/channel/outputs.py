"""The output channel of the user's own input channel, found the way Rasa finds it.

Rasa's `output_channel=latest` (`rasa.server._get_output_channel`) asks every registered input
channel with the tracker's latest input channel name for `get_output_channel()`, and falls back
to a `CollectingOutputChannel` that only collects (the REST channel, for one, cannot push).
This does the same, with one exception: Telegram's `get_output_channel()` registers its webhook
with `asyncio.run`, which cannot run inside the server's event loop, so its output channel is
built directly from the channel's token.
"""

from __future__ import annotations

from typing import Iterable, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel


def output_channel_for(
    input_channels: Iterable[InputChannel], channel_name: Optional[str]
) -> OutputChannel:
    """The output channel for `channel_name`, or one that only collects."""
    output: OutputChannel = CollectingOutputChannel()
    for channel in input_channels:
        if channel_name and channel.name() == channel_name:
            output = _output_of(channel) or output
    return output


def pushes(output: OutputChannel) -> bool:
    """False for the plain collector: what it is given reaches nobody."""
    return type(output) is not CollectingOutputChannel


def _output_of(channel: InputChannel) -> Optional[OutputChannel]:
    if channel.name() == "telegram" and getattr(channel, "access_token", None):
        from rasa.core.channels.telegram import TelegramOutput

        return TelegramOutput(channel.access_token)  # type: ignore[attr-defined]
    return channel.get_output_channel()
