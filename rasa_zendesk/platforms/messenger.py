"""Facebook Messenger: Rasa's `facebook` channel (`FacebookInput`, output `MessengerBot`).

- Where an agent's message goes: the user's page-scoped id (the sender id), which
  `MessengerBot` sends to. Its `async` methods send with blocking HTTP calls (`requests`):
  they run in a worker thread, so one message does not stall every other conversation.
- Rich messages: text; a button template (up to 3 actions) or quick replies; the image; a file
  attachment; cards as a generic template; a place in words with a map link. Limits: 3
  template buttons, 13 quick replies, 20-character titles (the payload, what comes back,
  stays whole), 640 characters of template text, 10 elements of 80 characters.
- Typing: the sender actions `typing_on` / `typing_off`.
- Users' files: an image, video, audio or file message becomes a user message whose text is
  the first attachment's address on Messenger's CDN (`file_as_text`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from rasa_zendesk.platforms.base import Platform, Typing, cut, lines
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

if TYPE_CHECKING:
    from rasa.core.channels.channel import OutputChannel

NAME = "facebook"
BUTTONS = 3
QUICK_REPLIES = 13
TITLE_CHARS = 20
TEMPLATE_TEXT_CHARS = 640
ELEMENTS = 10
ELEMENT_CHARS = 80
#: The longest text of a message (the Send API refuses a longer one).
TEXT_CHARS = 2000


class Messenger(Platform):
    name = NAME
    output_class = "rasa.core.channels.facebook.MessengerBot"
    blocking = True
    file_as_text = True
    max_text = TEXT_CHARS

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
        await output.send_quick_replies(recipient, body, replies)
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
