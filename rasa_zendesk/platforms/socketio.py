"""socket.io (rasa-webchat): Rasa's `socketio` channel, and `rasa_zendesk.RedisSocketIOInput`.

- Where an agent's message goes: the user's room (the sender id), through the channel's own
  `SocketIOOutput`.
- Rich messages: text; SunCo replies as `quick_replies` (shown until the next message),
  postbacks as `buttons` (shown for good), links as `web_url` buttons; the image; a file as a
  markdown link; cards as a carousel (generic template); a place in words with a map link.
- Who wrote it: each message of an agent's carries `metadata` with `agent_name` and, when
  Zendesk gives one, `agent_avatar_url` (the demo's page shows them as the agent's bubbles).
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
#: The keys of an agent message's `metadata` on the socket (what a web page reads).
AGENT_NAME, AGENT_AVATAR_URL = "agent_name", "agent_avatar_url"


class SocketIO(Platform):
    name = NAME
    output_class = "rasa.core.channels.socketio.SocketIOOutput"
    shows_agent_name = True

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
        about = _about(rich)

        async def emit(payload: Dict[str, Any]) -> None:
            await output.sio.emit(output.bot_message_evt, {**payload, **about}, room=recipient)

        async def say(text: str) -> None:  # as SocketIOOutput.send_text_message: paragraphs
            for part in text.strip().split("\n\n"):
                await emit({"text": part})

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
            await say(rich.text)
        if rich.image:  # as SocketIOOutput.send_image_url
            await emit({"attachment": {"type": "image", "payload": {"src": rich.image.url}}})
        if rich.file:  # rasa-webchat shows no file attachment; it shows markdown links
            await say(link_text(rich.file.name, rich.file.url))
        if rich.cards:
            elements = [card_element(card, _webchat_button) for card in rich.cards]
            payload = {"template_type": "generic", "elements": elements}
            await emit({"attachment": {"type": "template", "payload": payload}})
            if rich.actions:
                await offer(PROMPT, rich.actions, rich.quick)
        if rich.place:
            await say(place_text(rich.place))


PLATFORM = SocketIO()


def _about(rich: Rich) -> Dict[str, Any]:
    """Who wrote it, in each message's `metadata` (`AGENT_NAME`, `AGENT_AVATAR_URL`), so the
    page can show the agent's messages as theirs; nothing when Zendesk named nobody."""
    author = {AGENT_NAME: rich.author.name, AGENT_AVATAR_URL: rich.author.avatar_url}
    known = {key: value for key, value in author.items() if value}
    return {"metadata": known} if known else {}


def _webchat_reply(action: Action) -> Dict[str, str]:
    if isinstance(action, Link):
        return {"type": "web_url", "title": action.title, "url": action.url}
    return {"content_type": "text", "title": action.title, "payload": action.payload}


def _webchat_button(action: Action) -> Dict[str, str]:
    if isinstance(action, Link):
        return {"type": "web_url", "title": action.title, "url": action.url}
    return {"type": "postback", "title": action.title, "payload": action.payload}
