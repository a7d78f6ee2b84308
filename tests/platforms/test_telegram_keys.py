"""Telegram's keys: a press of an inline button is answered (`answerCallbackQuery`, else the
user's app shows it loading), and the reply keyboard an agent offered goes away with the
notice that ends the handoff. On the Bot API stand-in, which answers a query id only once,
and only one Telegram sent."""

from __future__ import annotations

import logging
from typing import Any, Dict

import pytest

from rasa_zendesk import constants
from rasa_zendesk.platforms.telegram import PLATFORM
from testkit.channel_harness import RasaServer, release_webhook
from testkit.platforms import QUICK_REPLIES, TelegramApi, add_telegram, without_chat
from testkit.reach import agent_sends, handoff_on
from testkit.telegram_rasa import (  # noqa: F401 (fixtures)
    CHAT_ID,
    TelegramRasa,
    message_update,
    telegram_api_fixture,
    telegram_rasa_fixture,
)

pytestmark = pytest.mark.timeout(60)


def button_press(update_id: int, query_id: str, data: str) -> Dict[str, Any]:
    """Telegram's update for a press of an inline button under the bot's message 7."""
    user = {"id": CHAT_ID, "is_bot": False, "first_name": "Ann"}
    chat = {"id": CHAT_ID, "first_name": "Ann", "type": "private"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id,
            "from": user,
            "chat_instance": "-5730512345",
            "data": data,
            "message": {"message_id": 7, "date": 1_700_000_000, "chat": chat, "text": "Pick"},
        },
    }


async def test_a_button_press_is_answered_and_reaches_the_bot(
    telegram_rasa: TelegramRasa, telegram_api: TelegramApi
) -> None:
    query_id = telegram_api.pressed("4382bfdwdsb323b2d9")

    message = await telegram_rasa.send(button_press(1, query_id, "Large"))

    assert message.text == "Large" and message.sender_id == str(CHAT_ID)
    answers = [fields for method, fields in telegram_api.calls() if method == "answerCallbackQuery"]
    assert answers == [{"callback_query_id": query_id}]
    assert telegram_api.open_queries == []  # Telegram took the answer


async def test_a_press_telegram_will_not_answer_still_reaches_the_bot(
    telegram_rasa: TelegramRasa, telegram_api: TelegramApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)

    message = await telegram_rasa.send(button_press(2, "expired-query", "Small"))

    assert message.text == "Small"
    assert [m for m, _ in telegram_api.calls() if m == "answerCallbackQuery"] == [
        "answerCallbackQuery"
    ]
    assert "Telegram refused to answer a button press" in caplog.text
    assert "query id is invalid" in caplog.text  # aiogram knows the error: InvalidQueryID


async def test_no_query_id_is_not_asked_of_telegram(
    telegram_rasa: TelegramRasa, telegram_api: TelegramApi
) -> None:
    await PLATFORM.answer_button(telegram_rasa.telegram, None)
    assert telegram_api.calls() == []


async def test_the_end_notice_takes_the_agents_reply_keyboard_away(
    rasa: RasaServer, telegram_api: TelegramApi
) -> None:
    chat_id = "700000052"
    add_telegram(rasa.app.ctx.input_channels, telegram_api)
    conversation_id = await handoff_on(rasa, chat_id, "telegram")
    await agent_sends(rasa, conversation_id, chat_id, QUICK_REPLIES)  # a reply keyboard

    answer = await rasa.post_webhook(release_webhook(conversation_id, chat_id))
    assert answer.json()["processed"] == 1, answer.text

    calls = telegram_api.calls()
    (offered,) = (f for m, f in calls if "keyboard" in f.get("reply_markup", {}))
    assert offered["reply_markup"]["keyboard"] == [[{"text": "Small"}], [{"text": "Large"}]]
    method, ended = calls[-1]
    assert method == "sendMessage" and ended["text"]
    assert without_chat(ended) == {"text": ended["text"], "reply_markup": {"remove_keyboard": True}}


async def test_the_end_the_user_asks_for_takes_the_keyboard_away_too(
    telegram_rasa: TelegramRasa, telegram_api: TelegramApi
) -> None:
    """The end action's notice carries the end (`actions.base`); Rasa sends it through the
    output channel of the user's message, which `TelegramMediaInput` gives it."""
    message = await telegram_rasa.send(message_update(3, text="/end"))
    notice = {"text": "You are back with the bot.", constants.EVENT_HANDOFF_ENDED: "user_ended"}

    await message.output_channel.send_response(str(CHAT_ID), notice)
    await message.output_channel.send_response(str(CHAT_ID), {"text": "Anything else?"})

    sent = [without_chat(f) for m, f in telegram_api.calls() if m == "sendMessage"]
    assert sent == [
        {"text": "You are back with the bot.", "reply_markup": {"remove_keyboard": True}},
        {"text": "Anything else?"},
    ]
