"""How the Rasa server reaches a user through their platform, found the way Rasa finds it.

Rasa's `output_channel=latest` (`rasa.server._get_output_channel`) asks every registered input
channel with the tracker's latest input channel name for `get_output_channel()`, and falls back
to a `CollectingOutputChannel` that only collects (the REST channel, for one, cannot push).
This does the same, except that the user's platform (`registry`) says which output channel
reaches them (Telegram's kept one, Slack's pointed at where the user wrote).

`agent_output` wraps a channel that pushes in an `AgentOutput`: the bot's own messages (the
notices) go through Rasa's `send_response` as ever; an agent's message is shown the best way
the platform can (`Platform.send_rich`), its private Zendesk attachments as links the channel
serves (`media_links`). An output channel whose platform blocks (`Platform.blocking`) runs in a
worker thread, so one SMS does not stall every other conversation of the server: each such
platform has its own few named threads (`send_pool`), so a platform that hangs keeps its own
threads busy and no one else's (not the loop's default executor), and each send has
`platform_send_timeout` (`rasa_zendesk.settings.PlatformSettings`, read once at start by the
channel's config and given to each `AgentOutput`), waiting for a thread included: then that
delivery fails (`SendTimedOut`, the webhook answers 5xx, Zendesk retries) while the thread
finishes or gives up on its own.

Every send through an `AgentOutput` has a known outcome (`platforms.outcome`): it returns
(delivered), raises `Refused` (the platform refused it for good, as its module's `refusal`
reads the error), or raises anything else (failed for now).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.platforms import registry
from rasa_zendesk.platforms.base import Typing, channel_named
from rasa_zendesk.platforms.outcome import Refused
from rasa_zendesk.platforms.rich import Rich
from rasa_zendesk.platforms.split import split_text
from rasa_zendesk.settings import PlatformSettings
from rasa_zendesk.worker_threads import DaemonPool, named_pool

MediaLinks = Callable[[Rich], Rich]
#: Threads of each blocking platform's sends: a few, since each send is one HTTP call.
SEND_THREADS = 4


def user_output(
    input_channels: Iterable[InputChannel],
    tracker: Optional[DialogueStateTracker],
    channel_name: Optional[str],
) -> OutputChannel:
    """The output channel that reaches this user where they wrote from (without a tracker:
    the platform's own for `channel_name`), or one that only collects."""
    channel = channel_named(input_channels, channel_name)
    if channel is None:
        return CollectingOutputChannel()
    return registry.named(channel.name()).output(channel, tracker) or CollectingOutputChannel()


def agent_output(
    input_channels: Iterable[InputChannel],
    tracker: DialogueStateTracker,
    channel_name: Optional[str],
    sending: PlatformSettings,
    media_links: Optional[MediaLinks] = None,
) -> OutputChannel:
    """The user's output channel as the Zendesk channel sends through it: an `AgentOutput`
    when it pushes, the plain collector when it does not."""
    output = user_output(input_channels, tracker, channel_name)
    if not pushes(output):
        return output
    registry.of_output(output).bound(output, sending.send_timeout)
    return AgentOutput(output, sending, media_links)


class AgentOutput(OutputChannel):
    """The user's output channel, showing an agent's messages the platform's best way.

    A message that carries a Zendesk message id (`rasa_zendesk.channel.render`) is read back
    into a `Rich` and sent by its platform; any other message (the plugin's notices, the
    bot's after-handoff action) goes through the wrapped channel's own `send_response`.
    """

    def __init__(
        self,
        output: OutputChannel,
        sending: PlatformSettings,
        media_links: Optional[MediaLinks] = None,
    ) -> None:
        self.output = output
        #: `platform_send_timeout`, as the channel read it at start.
        self.sending = sending
        self.media_links = media_links

    def name(self) -> str:  # type: ignore[override]
        return self.output.name()

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if constants.EVENT_HANDOFF_ENDED in message:
            platform = registry.of_output(self.output)
            await off_loop(self, lambda: platform.send_closing(self.output, recipient_id, message))
            return
        if constants.EVENT_ZENDESK_MESSAGE_ID not in message:
            await self._wrapped("send_response", recipient_id, message)
            return
        rich = Rich.from_message(message)
        if self.media_links is not None:
            rich = self.media_links(rich)
        platform = registry.of_output(self.output)
        skip = message.get(constants.EVENT_ZENDESK_PARTS_SENT)
        parts = Parts(self.output, platform.text_limit(recipient_id), skip or 0)
        try:
            await self._sent(recipient_id, lambda: platform.send_rich(parts, recipient_id, rich))
        except Refused:
            raise  # for good: the parts that went out stay out, the message waits for the user
        except Exception as error:
            if parts.sent > parts.skip:
                raise PartlySent(parts.sent) from error
            raise

    async def _wrapped(self, method: str, *args: Any, **kwargs: Any) -> None:
        """The wrapped channel's `method`, off the event loop if its platform blocks."""
        recipient_id = str(args[0]) if args else ""
        await self._sent(recipient_id, lambda: getattr(self.output, method)(*args, **kwargs))

    async def _sent(self, recipient_id: str, call: Callable[[], Awaitable[Any]]) -> None:
        """Await the send; an error the platform says is a refusal for good raises
        `Refused`, any other is let through (failed for now)."""
        try:
            await off_loop(self, call)
        except Refused:
            raise
        except Exception as error:
            refusal = registry.of_output(self.output).refusal(error, recipient_id)
            if refusal is None:
                raise
            raise Refused(refusal) from error

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._wrapped("send_text_message", recipient_id, text, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._wrapped("send_image_url", recipient_id, image, **kwargs)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await self._wrapped("send_attachment", recipient_id, attachment, **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._wrapped("send_text_with_buttons", recipient_id, text, buttons, **kwargs)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._wrapped("send_quick_replies", recipient_id, text, quick_replies, **kwargs)

    async def send_elements(
        self, recipient_id: str, elements: Iterable[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._wrapped("send_elements", recipient_id, elements, **kwargs)

    async def send_custom_json(
        self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any
    ) -> None:
        await self._wrapped("send_custom_json", recipient_id, json_message, **kwargs)

    def __getattr__(self, name: str) -> Any:  # the platform's own attributes (`sio`, ...)
        if name in ("output", "media_links"):
            raise AttributeError(name)
        return getattr(self.output, name)


class Parts:
    """The platform's output channel as `Platform.send_rich` sends one agent message through
    it: each send (each API call) is a part, numbered in order. The first `skip` parts went
    out before (a retried webhook) and are not sent again; `sent` is how many went out by
    now. With a `limit`, a text goes as Rasa's channels send it, one message per paragraph,
    and a paragraph longer than `limit` in parts that fit (`split.split_text`)."""

    def __init__(self, output: OutputChannel, limit: Optional[int], skip: int = 0) -> None:
        self.output = output
        self.limit = limit
        self.skip = skip
        self.sent = skip
        self._made = 0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.output, name)
        if name == "send_text_message":
            return self._send_text
        if name.startswith("send") and inspect.iscoroutinefunction(found):
            return functools.partial(self._part, found)
        return found

    async def _part(self, send: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        self._made += 1
        if self._made <= self.skip:
            return None
        result = await send(*args, **kwargs)
        self.sent = self._made
        return result

    async def _send_text(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        send = self.output.send_text_message
        if not self.limit:  # sent as the channel sends it
            await self._part(send, recipient_id, text, **kwargs)
            return
        for paragraph in text.strip().split("\n\n"):
            for piece in split_text(paragraph, self.limit):
                await self._part(send, recipient_id, piece, **kwargs)


class PartlySent(Exception):
    """The first `sent` parts of an agent's message reached the user, then one failed (the
    cause is chained): a retry sends the rest only."""

    def __init__(self, sent: int) -> None:
        super().__init__(f"{sent} parts were sent before a part failed")
        self.sent = sent


def unwrap(output: OutputChannel) -> OutputChannel:
    """The platform's own output channel behind an `AgentOutput`."""
    return output.output if isinstance(output, AgentOutput) else output


async def off_loop(output: AgentOutput, call: Callable[[], Awaitable[Any]]) -> Any:
    """Await `call()`; in a thread of its platform's `send_pool`, within the output's
    `platform_send_timeout`, when the platform's output channel blocks."""
    platform = registry.named(output.name())
    if not platform.blocking:
        return await call()
    timeout = output.sending.send_timeout
    sent = send_pool(platform.name).submit(lambda: asyncio.run(call()))  # type: ignore[arg-type]
    try:
        return await asyncio.wait_for(asyncio.wrap_future(sent), timeout)
    except asyncio.TimeoutError:
        raise SendTimedOut(
            f"a send through {platform.name} took longer than {timeout} s "
            "(platform_send_timeout, ZENDESK_PLATFORM_SEND_TIMEOUT)"
        ) from None


class SendTimedOut(Exception):
    """A send through a blocking platform outlasted `platform_send_timeout`: that delivery
    failed (it may still reach the user when the platform answers late)."""


def send_pool(platform: str) -> DaemonPool:
    """The platform's own threads for its blocking sends (`rasa-zendesk-<platform>-send-<n>`),
    made on its first send: one platform's API hanging holds only its own."""
    return named_pool(f"{platform}-send", SEND_THREADS)


def pushes(output: OutputChannel) -> bool:
    """False for the plain collector: what it is given reaches nobody."""
    return type(unwrap(output)) is not CollectingOutputChannel


def reaches_someone(output: OutputChannel, recipient_id: str) -> bool:
    """Whether what `output` sends to `recipient_id` reaches a person now, as far as this
    instance can tell: not through the collector, nor where its platform says nobody is."""
    output = unwrap(output)
    return pushes(output) and registry.of_output(output).reaches(output, recipient_id)


async def show_typing(
    output: OutputChannel,
    recipient_id: str,
    typing: bool,
    socketio_event: str,
    agent_name: Optional[str] = None,
) -> bool:
    """Pass the agent's typing on (`socketio_event`: the socket.io event's name); False when
    the user's platform cannot show it, or `output` does not push (not an `AgentOutput`)."""
    if not isinstance(output, AgentOutput):
        return False
    platform = registry.of_output(output.output)
    shown = Typing(recipient_id, typing, socketio_event, agent_name)
    return bool(await off_loop(output, lambda: platform.show_typing(output.output, shown)))


async def close_outputs(input_channels: Iterable[InputChannel]) -> None:
    """Release what the platforms keep for these input channels (HTTP sessions).

    For the server's stop; an output channel asked for afterwards is made anew.
    """
    for channel in input_channels:
        await registry.named(channel.name()).close(channel)
