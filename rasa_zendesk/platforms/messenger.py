"""Facebook Messenger: Rasa's `facebook` channel (`FacebookInput`, output `MessengerBot`).

- Where an agent's message goes: the user's page-scoped id (the sender id), which
  `MessengerBot` sends to. Its `async` methods send with blocking HTTP calls (`requests`):
  they run in a worker thread, so one message does not stall every other conversation.
- Rich messages: text; a button template (up to 3 actions) or quick replies; the image; a file
  attachment; cards as a generic template; a place in words with a map link. Limits: 3
  template buttons, 13 quick replies, 20-character titles (the payload, what comes back,
  stays whole), 640 characters of template text, 10 elements of 80 characters.
- Outcome: fbmessenger returns the Send API's error JSON instead of raising, so a refused
  message looked sent; the output channel's client here raises `SendApiError` with Meta's
  code and subcode, classified in `refusal`: the person unavailable (551), no matching user
  (100/2018001), outside the allowed window (10/2018278) are refused for good; auth, rate
  limits and temporary failures failed for now. Each send has `platform_send_timeout`.
- Window: within 24 hours of the user's last message a message goes as `RESPONSE` (Rasa's
  way); later, with `messaging_type: MESSAGE_TAG` and `tag: HUMAN_AGENT` (a person answering,
  allowed for 7 days); after 7 days it is refused before it is sent.
- Typing: the sender actions `typing_on` / `typing_off` (none outside the 24 hours, where
  Messenger allows no sender action).
- Users' files: an image, video, audio or file message becomes a user message whose text is
  the first attachment's address on Messenger's CDN (`file_as_text`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from rasa_zendesk import clock
from rasa_zendesk.platforms import outcome
from rasa_zendesk.platforms.base import Platform, Typing, cut, last_user_message_at, lines
from rasa_zendesk.platforms.outcome import Refusal, Refused
from rasa_zendesk.platforms.rich import (
    PLAIN,
    PROMPT,
    Action,
    Card,
    Choice,
    Link,
    Rich,
    actions_text,
    markdown_to,
    place_text,
)
from rasa_zendesk.platforms.split import split_text
from rasa_zendesk.settings import PlatformSettings

if TYPE_CHECKING:
    from rasa.core.channels.channel import InputChannel, OutputChannel
    from rasa.shared.core.trackers import DialogueStateTracker

NAME = "facebook"
BUTTONS = 3
QUICK_REPLIES = 13
TITLE_CHARS = 20
TEMPLATE_TEXT_CHARS = 640
ELEMENTS = 10
ELEMENT_CHARS = 80
#: Messenger's standard messaging window, then the `HUMAN_AGENT` tag's.
STANDARD_WINDOW_SECONDS = 24 * 3600
HUMAN_AGENT_WINDOW_SECONDS = 7 * 24 * 3600
HUMAN_AGENT = "HUMAN_AGENT"
#: Meta's Send API error codes (and subcodes) of a message refused for good.
REFUSED_CODES: Dict[Tuple[int, Optional[int]], str] = {
    (551, None): outcome.BLOCKED,  # this person isn't available right now
    (100, 2018001): outcome.UNREACHABLE,  # no matching user found
    (10, 2018278): outcome.WINDOW_24H,  # sent outside of allowed window
}


class SendApiError(Exception):
    """The Send API's error answer (fbmessenger returns it instead of raising)."""

    def __init__(self, error: Dict[str, Any], tag: Optional[str]) -> None:
        super().__init__(str(error.get("message") or "Send API error"))
        code, subcode = error.get("code"), error.get("error_subcode")
        self.code = code if isinstance(code, int) else None
        self.subcode = subcode if isinstance(subcode, int) else None
        #: The tag the message went with (a window refusal with HUMAN_AGENT is the 7 days').
        self.tag = tag


class CheckedClient:
    """fbmessenger's `MessengerClient` as `MessengerBot` uses it, with the window's
    messaging type, a timeout, and errors raised (`SendApiError`)."""

    def __init__(self, client: Any, user_wrote_at: Optional[float]) -> None:
        self.client = client
        self.user_wrote_at = user_wrote_at
        #: Seconds per send (`platform_send_timeout`, read at start: `Messenger.bound`).
        self.timeout: int = PlatformSettings.send_timeout

    def _since(self) -> Optional[float]:
        return None if self.user_wrote_at is None else clock.now() - self.user_wrote_at

    def send(self, payload: Any, recipient_id: str, *args: Any, **kwargs: Any) -> Any:
        """Send one message (Rasa passes `RESPONSE`; the window decides)."""
        since = self._since()
        tag = None
        if since is not None and since > HUMAN_AGENT_WINDOW_SECONDS:
            days = int(since // (24 * 3600))
            detail = f"the user last wrote {days} days ago"
            raise Refused(Refusal(NAME, outcome.WINDOW_7D, detail))
        if since is not None and since > STANDARD_WINDOW_SECONDS:
            tag = HUMAN_AGENT
        answer = self.client.send(
            payload,
            recipient_id,
            messaging_type="MESSAGE_TAG" if tag else "RESPONSE",
            timeout=self.timeout,
            tag=tag,
        )
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict):
            raise SendApiError(error, tag)
        return answer

    def send_action(self, sender_action: Any, recipient_id: str, **kwargs: Any) -> Any:
        """A sender action (typing), only within the standard window."""
        since = self._since()
        if since is not None and since > STANDARD_WINDOW_SECONDS:
            return None
        return self.client.send_action(sender_action, recipient_id, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name == "client":
            raise AttributeError(name)
        return getattr(self.client, name)


#: The longest text of a message (the Send API refuses a longer one).
TEXT_CHARS = 2000


class Messenger(Platform):
    name = NAME
    output_class = "rasa.core.channels.facebook.MessengerBot"
    blocking = True
    file_as_text = True
    max_text = TEXT_CHARS

    def output(
        self, channel: InputChannel, tracker: Optional[DialogueStateTracker]
    ) -> Optional[OutputChannel]:
        output = channel.get_output_channel()
        client = getattr(output, "messenger_client", None)
        if client is not None:
            output.messenger_client = CheckedClient(client, last_user_message_at(tracker))  # type: ignore[attr-defined]
        return output

    def bound(self, output: OutputChannel, seconds: int) -> None:
        client = getattr(output, "messenger_client", None)
        if isinstance(client, CheckedClient):
            client.timeout = seconds

    def refusal(self, error: BaseException, recipient_id: str) -> Optional[Refusal]:
        if not isinstance(error, SendApiError) or error.code is None:
            return None
        cause = REFUSED_CODES.get((error.code, error.subcode)) or REFUSED_CODES.get(
            (error.code, None)
        )
        if cause is None:
            return None
        if cause == outcome.WINDOW_24H and error.tag == HUMAN_AGENT:
            cause = outcome.WINDOW_7D
        detail = f"Send API error {error.code}/{error.subcode}: {error}"
        return Refusal(NAME, cause, detail)

    async def show_typing(self, output: OutputChannel, typing: Typing) -> bool:
        action = "typing_on" if typing.typing else "typing_off"
        await output.send_action(typing.recipient_id, action)  # type: ignore[attr-defined]
        return True

    async def send_rich(self, output: Any, recipient: str, rich: Rich) -> None:
        text = markdown_to(rich.text, PLAIN) if rich.text else None
        if rich.actions and not rich.cards:
            await _offer(output, recipient, text, rich.actions, rich.quick)
        elif text:
            await output.send_text_message(recipient, text)
        if rich.image:
            await output.send_image_url(recipient, rich.image.url)
        if rich.file:
            attachment = {"type": "file", "payload": {"url": rich.file.url, "is_reusable": False}}
            await output.send_custom_json(recipient, {"attachment": attachment})
        if rich.cards:
            elements = [_element(card) for card in rich.cards[:ELEMENTS]]
            await output.send_elements(recipient, elements)
            if rich.actions:
                await _offer(output, recipient, None, rich.actions, rich.quick)
        if rich.place:
            await output.send_text_message(recipient, place_text(rich.place, PLAIN))


PLATFORM = Messenger()


async def _offer(
    output: Any, recipient: str, text: Optional[str], actions: Tuple[Action, ...], quick: bool
) -> None:
    choices = [a for a in actions if isinstance(a, Choice)]
    links = tuple(a for a in actions if isinstance(a, Link))
    template = len(actions) <= BUTTONS and len(text or PROMPT) <= TEMPLATE_TEXT_CHARS
    if template and not quick:
        buttons = [_button(action) for action in actions]
        await output.send_text_with_buttons(recipient, text or PROMPT, buttons)
    elif choices and len(choices) <= QUICK_REPLIES:
        replies = [{"title": cut(c.title, TITLE_CHARS), "payload": c.payload} for c in choices]
        body = lines(text, actions_text(links, PLAIN)) or PROMPT
        # The replies go with the text's last part: the Send API refuses a longer text.
        *before, last = split_text(body, TEXT_CHARS) or [PROMPT]
        for part in before:
            await output.send_text_message(recipient, part)
        await output.send_quick_replies(recipient, last, replies)
    else:
        body = lines(text, actions_text(actions, PLAIN))
        if body:
            await output.send_text_message(recipient, body)


def _button(action: Action) -> Dict[str, str]:
    title = cut(action.title, TITLE_CHARS)
    if isinstance(action, Link):
        return {"type": "web_url", "title": title, "url": action.url}
    return {"type": "postback", "title": title, "payload": action.payload}


def _element(card: Card) -> Dict[str, Any]:
    element: Dict[str, Any] = {"title": cut(card.title, ELEMENT_CHARS)}
    if card.subtitle:
        element["subtitle"] = cut(card.subtitle, ELEMENT_CHARS)
    if card.image:
        element["image_url"] = card.image
    if card.actions:
        element["buttons"] = [_button(a) for a in card.actions[:BUTTONS]]
    return element
