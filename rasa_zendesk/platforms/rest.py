"""The REST channel: Rasa's `rest` channel (`RestInput`).

- Where an agent's message goes: nowhere at once. The REST channel answers each request with
  the bot's messages and cannot push, so its output is Rasa's collector: an agent's message is
  recorded as pending, and the user gets it with their next request or a `/zendesk_poll`
  (`rasa_zendesk.handoff.pending`). A message through the collector reaches nobody.
- Rich messages, typing: as any channel (it never pushes, so neither is sent).
- Users' files: in the message's `metadata` (`rasa_zendesk.actions.attachments`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from rasa_zendesk.platforms.base import Platform

if TYPE_CHECKING:
    from rasa.core.channels.channel import InputChannel, OutputChannel
    from rasa.shared.core.trackers import DialogueStateTracker

NAME = "rest"


class Rest(Platform):
    name = NAME

    def output(
        self, channel: InputChannel, tracker: Optional[DialogueStateTracker]
    ) -> Optional[OutputChannel]:
        return None  # the collector


PLATFORM = Rest()
