"""The output channel of the user's own input channel, found the way Rasa finds it.

Rasa's `output_channel=latest` (`rasa.server._get_output_channel`) asks every registered input
channel with the tracker's latest input channel name for `get_output_channel()`, and falls back
to a `CollectingOutputChannel` that only collects (the REST channel, for one, cannot push).
This does the same, with one exception: Telegram's `get_output_channel()` registers its webhook
with `asyncio.run`, which cannot run inside the server's event loop, so its output channel is
built directly from the channel's token.

A Telegram output channel is an aiogram `Bot` with its own HTTP session (a connection pool), so
each Telegram input channel gets one, made on first use and kept: every agent message and
typing event of its users goes through it. `close_outputs` closes their sessions when the
server stops.
"""

from __future__ import annotations

import weakref
from typing import Iterable, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel
from socketio.asyncio_pubsub_manager import AsyncPubSubManager

#: The Telegram output channel of each Telegram input channel (gone with the input channel).
_telegram_outputs: weakref.WeakKeyDictionary[InputChannel, OutputChannel] = (
    weakref.WeakKeyDictionary()
)


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


def reaches_someone(output: OutputChannel, recipient_id: str) -> bool:
    """Whether what `output` sends to `recipient_id` reaches a person now, as far as this
    instance can tell: not through the collector, nor into a socket.io room nobody is in.
    Rooms shared through Redis may be held by another instance, so they count as reached."""
    if not pushes(output):
        return False
    manager = getattr(getattr(output, "sio", None), "manager", None)
    if manager is None or isinstance(manager, AsyncPubSubManager):
        return True
    return bool(manager.rooms.get("/", {}).get(recipient_id))


async def close_outputs(input_channels: Iterable[InputChannel]) -> None:
    """Close the HTTP sessions of the output channels kept for these input channels.

    For the server's stop; an output channel asked for afterwards is made anew.
    """
    for channel in input_channels:
        output = _telegram_outputs.pop(channel, None)
        session = getattr(output, "_session", None)  # aiogram makes it on first request
        if session is not None and not session.closed:
            await session.close()


def _output_of(channel: InputChannel) -> Optional[OutputChannel]:
    if channel.name() == "telegram" and getattr(channel, "access_token", None):
        return _telegram_output(channel)
    return channel.get_output_channel()


def _telegram_output(channel: InputChannel) -> OutputChannel:
    output = _telegram_outputs.get(channel)
    if output is None:
        from rasa.core.channels.telegram import TelegramOutput

        output = TelegramOutput(channel.access_token)  # type: ignore[attr-defined]
        _telegram_outputs[channel] = output
    return output
