"""Agent typing, shown on the user's channel where the channel has a way to show it.

Socket.io (web chat) gets one extra event on the user's room, `{"typing": bool,
"agent_name": str|None}` (its name is the `typing_event` setting, default `agent_typing`);
Telegram gets `send_chat_action("typing")` (it has no "stop": the indicator fades by itself);
Facebook Messenger gets the sender action `typing_on` / `typing_off`. Slack's Web API, Twilio
(SMS) and the callback channel have no typing indicator, so typing is dropped for them.
"""

from __future__ import annotations

from typing import Optional

from rasa.core.channels.channel import OutputChannel

from rasa_zendesk.channel.outputs import off_loop, unwrap


async def show_typing(
    output: OutputChannel,
    recipient_id: str,
    typing: bool,
    socketio_event: str,
    agent_name: Optional[str] = None,
) -> bool:
    """Pass typing on; False when the channel cannot show it."""
    from rasa.core.channels.facebook import MessengerBot
    from rasa.core.channels.socketio import SocketIOOutput

    output = unwrap(output)
    if isinstance(output, SocketIOOutput):
        payload = {"typing": typing, "agent_name": agent_name}
        await output.sio.emit(socketio_event, payload, room=recipient_id)
        return True
    if output.name() == "telegram" and hasattr(output, "send_chat_action"):
        if typing:
            await output.send_chat_action(recipient_id, "typing")
        return True
    if isinstance(output, MessengerBot):
        action = "typing_on" if typing else "typing_off"
        await off_loop(output, lambda: output.send_action(recipient_id, action))
        return True
    return False
