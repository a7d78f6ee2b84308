"""Web chat (`platforms/socketio.py`): an agent's text, image, file and typing, quick replies
and a carousel reach rasa-webchat, and a quick reply comes back as the user's words."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
import socketio
from rasa.core.channels.socketio import SocketIOInput

from rasa_zendesk.handoff import state
from testkit.channel_harness import RasaServer, message_webhook, new_id, open_web_chat
from testkit.choices import Rasa, running
from testkit.platforms import ALL, DOCS, MAP, PLANS, TACO, text
from testkit.reach import FILE, IMAGE, agent_sends, agent_types, handoff_on

pytestmark = pytest.mark.timeout(60)


async def test_a_web_chat_quick_reply_sends_its_label(stop_after: List[Rasa]) -> None:
    rasa = await running(SocketIOInput())
    stop_after.append(rasa)
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        rasa.url, socketio_path="/socket.io", transports=["polling"], wait_timeout=5
    )
    try:
        # rasa-webchat shows the reply's title as the user's words and sends its payload.
        await client.emit("user_uttered", {"message": "Small", "session_id": "s1"})
        for _ in range(50):
            if not rasa.messages.empty():
                break
            await asyncio.sleep(0.05)
    finally:
        await client.disconnect()

    assert await rasa.picked() == ["Small"]


async def test_web_chat_gets_text_image_file_and_typing(rasa: RasaServer) -> None:
    sender_id = "webchat-" + new_id()
    conversation_id = await handoff_on(rasa, sender_id, "socketio")
    chat = await open_web_chat(rasa.url, sender_id)
    try:
        await agent_types(rasa, conversation_id, sender_id)
        await agent_sends(rasa, conversation_id, sender_id, text("Hi there"), IMAGE, FILE)

        assert await chat.next_typing() == {"typing": True, "agent_name": "Anna Agent"}
        assert await chat.next_typing() == {"typing": False, "agent_name": "Anna Agent"}
        assert [await chat.next_message() for _ in range(5)] == [
            {"text": "Hi there"},
            {"text": "Hello!"},
            {"attachment": {"type": "image", "payload": {"src": IMAGE["mediaUrl"]}}},
            {"text": "Here's our FAQ!"},
            {"text": f"[FAQ.pdf]({FILE['mediaUrl']})"},
        ]
        chat.assert_no_more_messages()
    finally:
        await chat.client.disconnect()


async def test_web_chat_shows_quick_replies_link_buttons_and_a_carousel(rasa: RasaServer) -> None:
    sender_id = "webchat-" + new_id()
    conversation_id = await handoff_on(rasa, sender_id, "socketio")
    chat = await open_web_chat(rasa.url, sender_id)
    try:
        await agent_sends(rasa, conversation_id, sender_id, *ALL)
        received = [await chat.next_message() for _ in range(9)]
        chat.assert_no_more_messages()
    finally:
        await chat.client.disconnect()

    def reply(title: str, payload: str = "") -> Dict[str, str]:
        return {"content_type": "text", "title": title, "payload": payload or title}

    def card(title: str, subtitle: str, image: str, *buttons: Dict[str, str]) -> Dict[str, Any]:
        return {"title": title, "subtitle": subtitle, "image_url": image, "buttons": list(buttons)}

    def carousel(*cards: Dict[str, Any]) -> Dict[str, Any]:
        payload = {"template_type": "generic", "elements": list(cards)}
        return {"attachment": {"type": "template", "payload": payload}}

    more_info = {"type": "web_url", "title": "More info", "url": "https://example.org"}
    tacos, ramen = (
        card(
            dish,
            f"Get your {dish.lower()} today!",
            TACO,
            {"type": "postback", "title": "Select", "payload": f"Select ({dish})"},
            more_info,
        )
        for dish in ("Tacos", "Ramen")
    )
    plan = {
        "title": "Plan A",
        "subtitle": "10 EUR a month",
        "buttons": [{"type": "postback", "title": "Choose", "payload": "Choose (Plan A)"}],
    }
    assert received == [
        {"text": "Which size?", "quick_replies": [reply("Small"), reply("Large")]},
        {  # postbacks stay (`buttons`), replies go with the next message (`quick_replies`)
            "text": "Pick one",
            "buttons": [
                {"type": "postback", "title": "Yes", "payload": "Yes"},
                {"type": "web_url", "title": "Docs", "url": DOCS},
            ],
        },
        carousel(tacos, ramen),
        {"text": f"Location: Acme store, 1 Main St {MAP}"},
        {"text": "Size", "quick_replies": [reply("Small"), reply("Large")]},
        carousel(plan),
        {
            "text": "Please choose:",
            "buttons": [{"type": "web_url", "title": "All plans", "url": PLANS}],
        },
        {"text": "Like it?", "quick_replies": [reply("Yes"), reply("No")]},
        {"attachment": {"type": "image", "payload": {"src": TACO}}},
    ]


async def test_a_failing_emit_is_no_refusal_the_webhook_is_retried(
    rasa: RasaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """socket.io never refuses for good: an emit that fails (Redis down) answers 5xx."""
    sender_id = "webchat-" + new_id()
    conversation_id = await handoff_on(rasa, sender_id, "socketio")
    [web_chat] = [c for c in rasa.app.ctx.input_channels if isinstance(c, SocketIOInput)]

    async def emit(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the message queue is down")

    monkeypatch.setattr(web_chat.sio, "emit", emit)
    answer = await rasa.post_webhook(message_webhook(conversation_id, sender_id, text("Hi")))

    assert answer.status_code == 500
    record = state.current((await rasa.tracker(sender_id)).events)
    assert record is not None and not record.undelivered
    assert [e.text for e in await rasa.bot_events(sender_id)] == [
        "An agent will be with you shortly."
    ]  # nothing recorded: Zendesk's retry delivers it
