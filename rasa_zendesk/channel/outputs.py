"""The output channel of the user's own input channel, found the way Rasa finds it.

Rasa's `output_channel=latest` (`rasa.server._get_output_channel`) asks every registered input
channel with the tracker's latest input channel name for `get_output_channel()`, and falls back
to a `CollectingOutputChannel` that only collects (the REST channel, for one, cannot push).
This does the same, with two exceptions: Telegram's `get_output_channel()` registers its
webhook with `asyncio.run`, which cannot run inside the server's event loop, so its output
channel is built directly from the channel's token; and Slack's is pointed at the channel and
thread the user wrote from (`targets`).

A Telegram output channel is an aiogram `Bot` with its own HTTP session (a connection pool), so
each Telegram input channel gets one, made on first use and kept: every agent message and
typing event of its users goes through it. `close_outputs` closes their sessions when the
server stops.

`agent_output` wraps a channel that pushes in an `AgentOutput`: the bot's own messages (the
notices) go through Rasa's `send_response` as ever; an agent's message is shown the best way
the platform can (`shapes`), its private Zendesk attachments as links the channel serves
(`attachment_links`). Rasa's Twilio and Messenger output channels send with blocking HTTP calls
inside their `async` methods; they run in a worker thread, so one SMS does not stall every
other conversation of the server.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel
from rasa.shared.core.trackers import DialogueStateTracker
from socketio.asyncio_pubsub_manager import AsyncPubSubManager

from rasa_zendesk import constants
from rasa_zendesk.channel.rich import Rich
from rasa_zendesk.channel.targets import SLACK, channel_named, slack_output

#: The Telegram output channel of each Telegram input channel (gone with the input channel).
_telegram_outputs: weakref.WeakKeyDictionary[InputChannel, OutputChannel] = (
    weakref.WeakKeyDictionary()
)
#: Output channels whose `async` methods block on HTTP (`requests`): run in a worker thread.
BLOCKING_CHANNELS = frozenset({"twilio", "facebook"})

MediaLinks = Callable[[Rich], Rich]


def output_channel_for(
    input_channels: Iterable[InputChannel], channel_name: Optional[str]
) -> OutputChannel:
    """The output channel for `channel_name`, or one that only collects."""
    channel = channel_named(input_channels, channel_name)
    return (_output_of(channel) if channel is not None else None) or CollectingOutputChannel()


def user_output(
    input_channels: Iterable[InputChannel],
    tracker: DialogueStateTracker,
    channel_name: Optional[str],
) -> OutputChannel:
    """The output channel that reaches this user where they wrote from (see `targets`)."""
    channel = channel_named(input_channels, channel_name)
    if channel is not None and channel.name() == SLACK:
        return slack_output(channel, tracker)
    return output_channel_for(input_channels, channel_name)


def agent_output(
    input_channels: Iterable[InputChannel],
    tracker: DialogueStateTracker,
    channel_name: Optional[str],
    media_links: Optional[MediaLinks] = None,
) -> OutputChannel:
    """The user's output channel as the Zendesk channel sends through it: an `AgentOutput`
    when it pushes, the plain collector when it does not."""
    output = user_output(input_channels, tracker, channel_name)
    return AgentOutput(output, media_links) if pushes(output) else output


class AgentOutput(OutputChannel):
    """The user's output channel, showing an agent's messages the platform's best way.

    A message that carries a Zendesk message id (`render`) is read back into a `Rich` and
    sent by `shapes`; any other message (the plugin's notices, the bot's after-handoff
    action) goes through the wrapped channel's own `send_response`.
    """

    def __init__(self, output: OutputChannel, media_links: Optional[MediaLinks] = None) -> None:
        self.output = output
        self.media_links = media_links

    def name(self) -> str:  # type: ignore[override]
        return self.output.name()

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if constants.EVENT_ZENDESK_MESSAGE_ID not in message:
            await off_loop(self.output, lambda: self.output.send_response(recipient_id, message))
            return
        from rasa_zendesk.channel.shapes import send_rich

        rich = Rich.from_message(message)
        if self.media_links is not None:
            rich = self.media_links(rich)
        await send_rich(self.output, recipient_id, rich)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await off_loop(
            self.output, lambda: self.output.send_text_message(recipient_id, text, **kwargs)
        )

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await off_loop(
            self.output, lambda: self.output.send_image_url(recipient_id, image, **kwargs)
        )

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await off_loop(
            self.output, lambda: self.output.send_attachment(recipient_id, attachment, **kwargs)
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await off_loop(
            self.output,
            lambda: self.output.send_text_with_buttons(recipient_id, text, buttons, **kwargs),
        )

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await off_loop(
            self.output,
            lambda: self.output.send_quick_replies(recipient_id, text, quick_replies, **kwargs),
        )

    async def send_elements(
        self, recipient_id: str, elements: Iterable[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await off_loop(
            self.output, lambda: self.output.send_elements(recipient_id, elements, **kwargs)
        )

    async def send_custom_json(
        self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any
    ) -> None:
        await off_loop(
            self.output, lambda: self.output.send_custom_json(recipient_id, json_message, **kwargs)
        )

    def __getattr__(self, name: str) -> Any:  # the platform's own attributes (`sio`, ...)
        if name in ("output", "media_links"):
            raise AttributeError(name)
        return getattr(self.output, name)


def unwrap(output: OutputChannel) -> OutputChannel:
    """The platform's own output channel behind an `AgentOutput`."""
    return output.output if isinstance(output, AgentOutput) else output


async def off_loop(output: OutputChannel, call: Callable[[], Awaitable[Any]]) -> Any:
    """Await `call()`; in a worker thread when the platform's output channel blocks."""
    if unwrap(output).name() not in BLOCKING_CHANNELS:
        return await call()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, asyncio.run, call())  # type: ignore[arg-type]


def pushes(output: OutputChannel) -> bool:
    """False for the plain collector: what it is given reaches nobody."""
    return type(unwrap(output)) is not CollectingOutputChannel


def reaches_someone(output: OutputChannel, recipient_id: str) -> bool:
    """Whether what `output` sends to `recipient_id` reaches a person now, as far as this
    instance can tell: not through the collector, nor into a socket.io room nobody is in.
    Rooms shared through Redis may be held by another instance, so they count as reached."""
    output = unwrap(output)
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
