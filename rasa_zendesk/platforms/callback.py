"""The callback channel: Rasa's `callback` channel (`CallbackInput`, output `CallbackOutput`).

- Where an agent's message goes: the configured URL, with the sender id as `recipient_id`.
- Rich messages: Rasa's shapes, as `CollectingOutputChannel` collects them (the bot owner's
  server reads them as it reads the bot's own).
- Typing: none. Users' files: in the message metadata, as on the REST channel.
"""

from __future__ import annotations

from typing import Any

from rasa_zendesk.platforms.base import Platform
from rasa_zendesk.platforms.rich import Rich

NAME = "callback"


class Callback(Platform):
    name = NAME
    output_class = "rasa.core.channels.callback.CallbackOutput"

    async def send_rich(self, output: Any, recipient: str, rich: Rich) -> None:
        text, data = rich.rasa()
        await output.send_response(recipient, {"text": text, **data})


PLATFORM = Callback()
