"""The callback channel: Rasa's `callback` channel (`CallbackInput`, output `CallbackOutput`).

- Where an agent's message goes: the configured URL, with the sender id as `recipient_id`.
- Rich messages: Rasa's shapes, as `CollectingOutputChannel` collects them (the bot owner's
  server reads them as it reads the bot's own).
- Outcome: Rasa's `CallbackOutput` logs an answer >= 400 and goes on, so a refused message
  looked sent; the output channel here is its subclass that lets the error through. A 5xx,
  408, 425 or 429 (or no answer) failed for now; any other 4xx is the bot owner's server
  refusing it for good.
- Typing: none. Users' files: in the message metadata, as on the REST channel.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Dict, Optional

from rasa_zendesk.platforms import outcome
from rasa_zendesk.platforms.base import Platform
from rasa_zendesk.platforms.outcome import Refusal
from rasa_zendesk.platforms.rich import Rich

if TYPE_CHECKING:
    from rasa.core.channels.channel import InputChannel, OutputChannel
    from rasa.shared.core.trackers import DialogueStateTracker

NAME = "callback"
#: The 4xx answers that are worth trying again (a timeout, too early, too many).
RETRIED_STATUSES = frozenset({408, 425, 429})


class Callback(Platform):
    name = NAME
    output_class = "rasa.core.channels.callback.CallbackOutput"

    def output(
        self, channel: InputChannel, tracker: Optional[DialogueStateTracker]
    ) -> Optional[OutputChannel]:
        endpoint = getattr(channel, "callback_endpoint", None)
        if endpoint is None:
            return super().output(channel, tracker)
        return _checked_output()(endpoint)  # type: ignore[no-any-return]

    def refusal(self, error: BaseException, recipient_id: str) -> Optional[Refusal]:
        from rasa.utils.endpoints import ClientResponseError

        if not isinstance(error, ClientResponseError):
            return None
        if error.status >= 500 or error.status < 400 or error.status in RETRIED_STATUSES:
            return None
        return Refusal(NAME, outcome.REJECTED, f"the callback URL answered {error.status}")

    async def send_rich(self, output: Any, recipient: str, rich: Rich) -> None:
        text, data = rich.rasa()
        await output.send_response(recipient, {"text": text, **data})


PLATFORM = Callback()


@functools.lru_cache(maxsize=None)
def _checked_output() -> Any:
    """Rasa's `CallbackOutput`, whose failed post raises (Rasa's logs it and goes on)."""
    from rasa.core.channels.callback import CallbackOutput

    class CheckedCallbackOutput(CallbackOutput):
        async def _persist_message(self, message: Dict[str, Any]) -> None:
            self.messages.append(message)  # as CollectingOutputChannel does
            await self.callback_endpoint.request(
                "post", content_type="application/json", json=message
            )

    return CheckedCallbackOutput
