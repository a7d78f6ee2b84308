"""What every platform module answers, with the answers for a channel the plugin does not know.

A `Platform` is everything the plugin knows about one Rasa channel (`InputChannel.name()`):
where an agent's message goes, whether its output channel blocks, how an agent's rich message
is shown, typing, whether a message reaches a person, and how users' files arrive. The
defaults are those of a custom channel: its own `get_output_channel()` (or, without one,
Rasa's collector), Rasa's text, buttons, quick replies and image, no typing, no files.

Nothing here imports Rasa at import time: the action server asks the registry about users'
files and must not load Rasa's channels for it.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple

from rasa_zendesk import clock
from rasa_zendesk.platforms.outcome import Refusal
from rasa_zendesk.platforms.rich import (
    MARKDOWN,
    PROMPT,
    Action,
    Choice,
    Link,
    Rich,
    actions_text,
    card_text,
    lines,
    link_text,
    place_text,
)

if TYPE_CHECKING:
    import httpx
    from rasa.core.channels.channel import InputChannel, OutputChannel
    from rasa.shared.core.trackers import DialogueStateTracker


@dataclass(frozen=True)
class Typing:
    """An agent's typing, to pass on to a user: started or stopped, the agent's name, and the
    socket.io event that carries it to a web chat."""

    recipient_id: str
    typing: bool
    socketio_event: str
    agent_name: Optional[str] = None


class FileUnavailable(Exception):
    """A user's file the platform does not hand out: the HTTP status for the link's
    requester, and why (only logged)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Platform:
    """One Rasa channel, as the plugin serves it; this base is any channel it does not know."""

    #: Rasa's channel name (`InputChannel.name()`, the tracker's `input_channel`).
    name: str = ""
    #: Its output channel's `async` methods block on HTTP (`requests`): run in a worker thread.
    blocking: bool = False
    #: A user's file arrives as a message whose text is the file's address.
    file_as_text: bool = False
    #: It shows who wrote an agent's message itself (the web chat: from the metadata); on the
    #: others the text carries the name when `agent_name_prefix` is set.
    shows_agent_name: bool = False

    #: Its output channel's Rasa class, `module.Class` (imported when first asked).
    output_class: str = ""
    #: The most characters one text message holds (None: no limit the plugin knows); an
    #: agent's longer text goes in parts (`rasa_zendesk.platforms.split`).
    max_text: Optional[int] = None

    def owns(self, output: OutputChannel) -> bool:
        """Whether `output` is this platform's output channel (its Rasa class)."""
        if not self.output_class:
            return False
        return isinstance(output, _class_named(self.output_class))

    def output(
        self, channel: InputChannel, tracker: Optional[DialogueStateTracker]
    ) -> Optional[OutputChannel]:
        """The output channel that reaches this channel's user (None: it cannot push).
        `tracker` is the user's (None: no particular user)."""
        return channel.get_output_channel()

    def bound(self, output: OutputChannel, seconds: int) -> None:
        """Give each HTTP call of this blocking `output` at most `seconds`
        (`platform_send_timeout`, read at start); a platform that does not block has none."""

    async def close(self, channel: InputChannel) -> None:
        """Release what `output` keeps for `channel` (the server stops)."""

    def refusal(self, error: BaseException, recipient_id: str) -> Optional[Refusal]:
        """The refusal for good that a send's `error` is (`platforms.outcome`); None: the
        send failed for now (any error of a channel the plugin does not know)."""
        return None

    def pin(self, metadata: Mapping[str, Any]) -> Tuple[Optional[str], Optional[str]]:
        """Where the agent's messages go for the whole handoff, from the metadata of the user
        message that began it (channel, thread); (None, None): wherever the user writes."""
        return None, None

    def text_limit(self, recipient_id: str) -> Optional[int]:
        """The most characters one text message to `recipient_id` holds (None: no limit)."""
        return self.max_text

    def reaches(self, output: OutputChannel, recipient_id: str) -> bool:
        """Whether what this pushing output sends to `recipient_id` reaches a person now."""
        return True

    async def show_typing(self, output: OutputChannel, typing: Typing) -> bool:
        """Show the agent typing (or stop); False when the platform cannot show it."""
        return False

    async def send_closing(
        self, output: OutputChannel, recipient: str, message: Dict[str, Any]
    ) -> None:
        """Send the notice that ends a handoff (a bot message, Rasa's shapes): as any other
        message here; a platform that leaves the agent's keys on screen takes them away."""
        await output.send_response(recipient, message)

    async def send_rich(self, output: OutputChannel, recipient: str, rich: Rich) -> None:
        """Show an agent's message: Rasa's text, buttons and image, the rest as text with
        markdown links (a custom channel's attachment and custom payloads have no agreed
        shape)."""

        async def offer(text: Optional[str], actions: Tuple[Action, ...], quick: bool) -> None:
            choices = [
                {"title": a.title, "payload": a.payload} for a in actions if isinstance(a, Choice)
            ]
            body = lines(text, actions_text(tuple(a for a in actions if isinstance(a, Link))))
            if not choices:
                if body:
                    await output.send_text_message(recipient, body)
            elif quick:
                await output.send_quick_replies(recipient, body or PROMPT, choices)
            else:
                await output.send_text_with_buttons(recipient, body or PROMPT, choices)

        if rich.cards:
            if rich.text:
                await output.send_text_message(recipient, rich.text)
        else:
            await offer(rich.text, rich.actions, rich.quick)
        if rich.image:
            await output.send_image_url(recipient, rich.image.url)
        if rich.file:
            await output.send_text_message(
                recipient, link_text(rich.file.name, rich.file.url, MARKDOWN)
            )
        for card in rich.cards:
            await offer(card_text(card, with_actions=False), card.actions, quick=False)
        if rich.cards and rich.actions:
            await offer(None, rich.actions, rich.quick)
        if rich.place:
            await output.send_text_message(recipient, place_text(rich.place))

    async def user_file(
        self, input_channels: Sequence[Any], client: httpx.AsyncClient, file_id: str
    ) -> httpx.Request:
        """The request that downloads a user's file named by `file_id` (for an attachment
        link the Rasa server serves); `FileUnavailable` when there is none."""
        raise FileUnavailable(404, f"channel {self.name or '?'} hands out no files")


def channel_named(input_channels: Iterable[Any], name: Optional[str]) -> Optional[Any]:
    """The registered input channel called `name` (the last one, as Rasa's lookup finds it)."""
    found = None
    for channel in input_channels:
        if name and channel.name() == name:
            found = channel
    return found


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def last_user_message_at(tracker: Optional[DialogueStateTracker]) -> Optional[float]:
    """When the user last wrote (epoch seconds, the plugin's clock), for the platforms whose
    window opens with the user's message (Messenger, WhatsApp); None without a tracker or a
    user message."""
    from rasa.shared.core.events import UserUttered

    if tracker is None:
        return None
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return clock.at(float(event.timestamp))
    return None


@functools.lru_cache(maxsize=None)
def _class_named(dotted: str) -> type:
    """The class `module.Class` names, imported once (`owns` runs for every message)."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)
