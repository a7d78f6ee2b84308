"""socket.io (rasa-webchat): Rasa's `socketio` channel, and `rasa_zendesk.RedisSocketIOInput`.

- Where an agent's message goes: the user's room (the sender id), through the channel's own
  `SocketIOOutput`.
- Rich messages: text; SunCo replies as `quick_replies` (shown until the next message),
  postbacks as `buttons` (shown for good), links as `web_url` buttons; the image; a file as a
  markdown link; cards as a carousel (generic template); a place in words with a map link.
- Typing: one extra event on the user's room, `{"typing": bool, "agent_name": str|None}` (its
  name is the `typing_event` setting, default `agent_typing`).
- Reach: a room nobody is in reaches nobody; rooms shared through Redis may be held by another
  instance, so they count as reached.
- Users' files: none of its own; the page passes a file's address in the message metadata
  (`customData` with `metadata_key: customData`), see `rasa_zendesk.actions.attachments`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Tuple

from rasa_zendesk.platforms.base import Platform, Typing
from rasa_zendesk.platforms.rich import (
    PROMPT,
    Action,
    Link,
    Rich,
    card_element,
    link_text,
    place_text,
)

if TYPE_CHECKING:
    from rasa.core.channels.channel import OutputChannel

NAME = "socketio"


class SocketIO(Platform):
    name = NAME
    output_class = "rasa.core.channels.socketio.SocketIOOutput"

    def reaches(self, output: OutputChannel, recipient_id: str) -> bool:
        from socketio.asyncio_pubsub_manager import AsyncPubSubManager

        manager = getattr(output.sio, "manager", None)  # type: ignore[attr-defined]
        if manager is None or isinstance(manager, AsyncPubSubManager):
            return True
        return bool(manager.rooms.get("/", {}).get(recipient_id))

    async def show_typing(self, output: OutputChannel, typing: Typing) -> bool:
        payload = {"typing": typing.typing, "agent_name": typing.agent_name}
        await output.sio.emit(typing.socketio_event, payload, room=typing.recipient_id)  # type: ignore[attr-defined]
        return True

    async def send_rich(self, output: Any, recipient: str, rich: Rich) -> None:
        async def emit(payload: Dict[str, Any]) -> None:
            await output.sio.emit(output.bot_message_evt, payload, room=recipient)

        async def offer(text: str, actions: Tuple[Action, ...], quick: bool) -> None:
            # As SocketIOOutput.send_text_with_buttons: paragraphs, the actions on the last one.
            # rasa-webchat shows `quick_replies` until the next message, `buttons` for good.
            parts = text.strip().split("\n\n")
            for part in parts[:-1]:
                await emit({"text": part})
            if quick:
                replies = [_webchat_reply(a) for a in actions]
                await emit({"text": parts[-1], "quick_replies": replies})
            else:
                await emit({"text": parts[-1], "buttons": [_webchat_button(a) for a in actions]})

        if rich.actions and not rich.cards:
            await offer(rich.text or PROMPT, rich.actions, rich.quick)
        elif rich.text:
            await output.send_text_message(recipient, rich.text)
        if rich.image:
            await output.send_image_url(recipient, rich.image.url)
        if rich.file:  # rasa-webchat shows no file attachment; it shows markdown links
            await output.send_text_message(recipient, link_text(rich.file.name, rich.file.url))
        if rich.cards:
            elements = [card_element(card, _webchat_button) for card in rich.cards]
            payload = {"template_type": "generic", "elements": elements}
            await emit({"attachment": {"type": "template", "payload": payload}})
            if rich.actions:
                await offer(PROMPT, rich.actions, rich.quick)
        if rich.place:
            await output.send_text_message(recipient, place_text(rich.place))


PLATFORM = SocketIO()


def _webchat_reply(action: Action) -> Dict[str, str]:
    if isinstance(action, Link):
        return {"type": "web_url", "title": action.title, "url": action.url}
    return {"content_type": "text", "title": action.title, "payload": action.payload}


def _webchat_button(action: Action) -> Dict[str, str]:
    if isinstance(action, Link):
        return {"type": "web_url", "title": action.title, "url": action.url}
    return {"type": "postback", "title": action.title, "payload": action.payload}
