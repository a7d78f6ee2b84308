"""Slack: Rasa's `slack` channel (`SlackInput`, output `SlackBot`).

- Where an agent's message goes: Rasa's `SlackInput.get_output_channel()` alone posts to the
  configured `slack_channel` (or, without one, to the sender id, which is no channel once
  `conversation_granularity` makes it `user_channel[_thread]`). The Slack channel or DM of the
  user's latest Slack message (`out_channel` in its metadata, from `SlackInput.get_metadata`)
  is used instead, and its thread (`thread_id`) when the Slack channel answers in threads
  (`use_threads`, or `conversation_granularity: thread`), exactly where Rasa puts the bot's
  own answers to that message.
- Rich messages: mrkdwn text; choices and links as Block Kit buttons; the image as an image
  block; a file as a link; cards as sections with their image and buttons. Limits: 25 buttons
  per block, 3000 characters per section, 50 blocks per message.
- Outcome: slack_sdk raises `SlackApiError` on `ok: false`; `refusal` reads its `error`:
  the channel gone, archived or without the bot, the user's account inactive, the text too
  long are refused for good; `invalid_auth`, `ratelimited` and server errors failed for now.
- Typing: Slack's Web API has none for bots. Users' files: not passed on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from rasa_zendesk.platforms import outcome
from rasa_zendesk.platforms.base import Platform, cut
from rasa_zendesk.platforms.outcome import Refusal
from rasa_zendesk.platforms.rich import (
    MRKDWN,
    PROMPT,
    Action,
    Card,
    Link,
    Rich,
    actions_text,
    card_text,
    link_text,
    markdown_to,
    place_text,
    readable,
)

if TYPE_CHECKING:
    from rasa.core.channels.channel import InputChannel, OutputChannel
    from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

NAME = "slack"
BUTTONS_PER_BLOCK = 25
SECTION_CHARS = 3000
MAX_BLOCKS = 50
#: chat.postMessage's `error`s of a message refused for good.
REFUSED_ERRORS = {
    "channel_not_found": outcome.CHAT_GONE,
    "not_in_channel": outcome.CHAT_GONE,
    "is_archived": outcome.CHAT_GONE,
    "user_not_found": outcome.UNREACHABLE,
    "cannot_dm_bot": outcome.UNREACHABLE,
    "restricted_action": outcome.BLOCKED,
    "msg_too_long": outcome.REJECTED,
    "no_text": outcome.REJECTED,
    "invalid_blocks": outcome.REJECTED,
}


@dataclass(frozen=True)
class SlackPlace:
    """Where a user wrote on Slack: a channel or DM id, and the thread of the message."""

    channel: str
    thread_id: Optional[str] = None


def slack_place(events: Sequence[Any]) -> Optional[SlackPlace]:
    """The channel and thread of the user's latest Slack message, from its metadata."""
    from rasa.shared.core.events import UserUttered

    for event in reversed(events):
        if not isinstance(event, UserUttered):
            continue
        metadata = event.metadata if isinstance(event.metadata, dict) else {}
        out_channel = metadata.get("out_channel")
        if isinstance(out_channel, str) and out_channel:
            thread = metadata.get("thread_id")
            return SlackPlace(out_channel, str(thread) if thread else None)
        if event.input_channel == NAME:
            return None  # the latest Slack message says nothing: do not guess from older ones
    return None


class Slack(Platform):
    name = NAME
    output_class = "rasa.core.channels.slack.SlackBot"

    def output(
        self, channel: InputChannel, tracker: Optional[DialogueStateTracker]
    ) -> Optional[OutputChannel]:
        """Rasa's Slack output channel for the place the user wrote from."""
        place = slack_place(tracker.events) if tracker is not None else None
        if place is None:
            if tracker is not None:
                logger.warning(
                    "No Slack channel is known for sender %s (their latest Slack message has "
                    "no metadata): the agent's message goes where Slack's "
                    "get_output_channel() posts",
                    tracker.sender_id,
                )
            return channel.get_output_channel()
        threads = bool(getattr(channel, "use_threads", False)) or (
            getattr(channel, "conversation_granularity", None) == "thread"
        )
        return channel.get_output_channel(place.channel, place.thread_id if threads else None)  # type: ignore[call-arg]

    def refusal(self, error: BaseException, recipient_id: str) -> Optional[Refusal]:
        from slack_sdk.errors import SlackApiError

        if not isinstance(error, SlackApiError):
            return None
        code = str((error.response or {}).get("error") or "")
        cause = REFUSED_ERRORS.get(code)
        return Refusal(NAME, cause, f"chat.postMessage: {code}") if cause else None

    async def send_rich(self, output: Any, recipient: str, rich: Rich) -> None:
        text = markdown_to(rich.text, MRKDWN) if rich.text else None
        if rich.actions and not rich.cards:
            await _offer(output, recipient, text, rich.actions, readable(rich, MRKDWN))
        elif text:
            await output.send_text_message(recipient, text)
        if rich.image:
            await output.send_image_url(recipient, rich.image.url)
        if rich.file:
            file_link = link_text(rich.file.name, rich.file.url, MRKDWN)
            await output.send_text_message(recipient, file_link)
        if rich.cards:
            blocks: List[Dict[str, Any]] = []
            for index, card in enumerate(rich.cards):
                if index:
                    blocks.append({"type": "divider"})
                blocks.append(_card_section(card))
                blocks += _buttons(card.actions, f"zendesk_card_{index}")
            fallback = "\n\n".join(card_text(card, MRKDWN) for card in rich.cards)
            await output.send_custom_json(
                recipient, {"text": fallback, "blocks": blocks[:MAX_BLOCKS]}
            )
            if rich.actions:
                await _offer(
                    output, recipient, None, rich.actions, actions_text(rich.actions, MRKDWN)
                )
        if rich.place:
            await output.send_text_message(recipient, place_text(rich.place, MRKDWN))


PLATFORM = Slack()


async def _offer(
    output: Any,
    recipient: str,
    text: Optional[str],
    actions: Tuple[Action, ...],
    fallback: Optional[str],
) -> None:
    if text and len(text) > SECTION_CHARS:
        await output.send_text_message(recipient, text)
        text = None
    section = {"type": "section", "text": {"type": "mrkdwn", "text": text or PROMPT}}
    blocks = [section, *_buttons(actions, "zendesk")]
    await output.send_custom_json(
        recipient, {"text": fallback or text or PROMPT, "blocks": blocks[:MAX_BLOCKS]}
    )


def _buttons(actions: Tuple[Action, ...], prefix: str) -> List[Dict[str, Any]]:
    elements = []
    for index, action in enumerate(actions):
        button: Dict[str, Any] = {
            "type": "button",
            "action_id": f"{prefix}_{index}",
            "text": {"type": "plain_text", "text": cut(action.title, 75), "emoji": True},
        }
        if isinstance(action, Link):
            button["url"] = action.url
        else:
            button["value"] = action.payload[:2000]
        elements.append(button)
    return [
        {"type": "actions", "elements": elements[start : start + BUTTONS_PER_BLOCK]}
        for start in range(0, len(elements), BUTTONS_PER_BLOCK)
    ]


def _card_section(card: Card) -> Dict[str, Any]:
    text = f"*{card.title}*" + (f"\n{card.subtitle}" if card.subtitle else "")
    section: Dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": cut(text, SECTION_CHARS)},
    }
    if card.image:
        section["accessory"] = {"type": "image", "image_url": card.image, "alt_text": card.title}
    return section
