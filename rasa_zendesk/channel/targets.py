"""Where an agent's message goes: the output channel of the user's own input channel, pointed
at the place the user wrote from.

The channel is the tracker's latest input channel (else the one the escalation recorded),
asked for its output channel the way Rasa's `output_channel=latest` asks (see `outputs`).
Where the sender id alone does not say where the user is, the user's latest message does:

- Slack: Rasa's `SlackInput.get_output_channel()` alone posts to the configured
  `slack_channel` (or, without one, to the sender id, which is no channel once
  `conversation_granularity` makes it `user_channel[_thread]`). The Slack channel or DM of the
  user's latest Slack message (`out_channel` in its metadata, from
  `SlackInput.get_metadata`) is used instead, and its thread (`thread_id`) when the Slack
  channel answers in threads (`use_threads`, or `conversation_granularity: thread`), exactly
  where Rasa puts the bot's own answers to that message.
- Twilio: the sender id is the user's number (`From`), and `TwilioOutput` sends to it from
  the configured `twilio_number`.
- Facebook Messenger: the sender id is the user's page-scoped id, which `MessengerBot` sends to.
- Telegram: the sender id is the chat id; one kept Bot per Telegram channel (`outputs`).
- socket.io: the sender id is the user's room; callback: the configured URL gets the sender id
  as `recipient_id`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

from rasa.core.channels.channel import InputChannel, OutputChannel
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

SLACK = "slack"


@dataclass(frozen=True)
class SlackPlace:
    """Where a user wrote on Slack: a channel or DM id, and the thread of the message."""

    channel: str
    thread_id: Optional[str] = None


def channel_named(
    input_channels: Iterable[InputChannel], name: Optional[str]
) -> Optional[InputChannel]:
    """The registered input channel called `name` (the last one, as Rasa's lookup finds it)."""
    found = None
    for channel in input_channels:
        if name and channel.name() == name:
            found = channel
    return found


def slack_place(events: Sequence[Any]) -> Optional[SlackPlace]:
    """The channel and thread of the user's latest Slack message, from its metadata."""
    for event in reversed(events):
        if not isinstance(event, UserUttered):
            continue
        metadata = event.metadata if isinstance(event.metadata, dict) else {}
        out_channel = metadata.get("out_channel")
        if isinstance(out_channel, str) and out_channel:
            thread = metadata.get("thread_id")
            return SlackPlace(out_channel, str(thread) if thread else None)
        if event.input_channel == SLACK:
            return None  # the latest Slack message says nothing: do not guess from older ones
    return None


def slack_output(channel: InputChannel, tracker: DialogueStateTracker) -> OutputChannel:
    """Rasa's Slack output channel for the place the user wrote from."""
    place = slack_place(tracker.events)
    if place is None:
        logger.warning(
            "No Slack channel is known for sender %s (their latest Slack message has no "
            "metadata): the agent's message goes where Slack's get_output_channel() posts",
            tracker.sender_id,
        )
        return channel.get_output_channel()
    threads = bool(getattr(channel, "use_threads", False)) or (
        getattr(channel, "conversation_granularity", None) == "thread"
    )
    return channel.get_output_channel(place.channel, place.thread_id if threads else None)  # type: ignore[call-arg]
