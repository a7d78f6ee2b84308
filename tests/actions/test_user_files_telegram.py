"""A Telegram user's photo and document reach the agent as an uploaded image and file: Rasa's
Telegram webhook through `TelegramMediaInput` on an in-process Rasa server (the Bot API a
loopback stand-in), then the relay action (rasa-sdk's executor) fetches the Rasa server's own
link (trusted as `ZENDESK_PUBLIC_URL`'s) and uploads the bytes to the emulator. A file Telegram
will not hand out, or one the bot cannot link, is named to the user with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk.channel.media_inputs import NOT_SET_UP
from testkit.action_calls import responses, user
from testkit.action_emulator import Zendesk
from testkit.platforms import TelegramApi
from testkit.telegram_rasa import (
    TELEGRAM_SAYS_TOO_BIG,
    TOKEN_SECRET,
    TelegramRasa,
    document_update,
    photo_update,
    start_telegram_rasa,
    stop_telegram_rasa,
    telegram_api_fixture,
    telegram_rasa_fixture,
)
from testkit.user_files import (
    HOSTS_ENV,
    PDF,
    PNG,
    PUBLIC_URL_ENV,
    handed_off,
    relay,
    relayed_since,
    sent_reasons,
    stored,
    uploads,
)

pytestmark = pytest.mark.timeout(60)
__all__ = ["telegram_rasa_fixture", "telegram_api_fixture"]  # the Rasa server and Bot API stand-in


@pytest.fixture(name="linked")
def linked_fixture(telegram_rasa: TelegramRasa, monkeypatch: pytest.MonkeyPatch) -> TelegramRasa:
    """The Rasa server, and an action server that knows where it is and trusts only its links
    (no `ZENDESK_USER_FILE_HOSTS`: the defaults, which do not list 127.0.0.1)."""
    monkeypatch.setenv(PUBLIC_URL_ENV, telegram_rasa.url)
    monkeypatch.delenv(HOSTS_ENV, raising=False)
    return telegram_rasa


async def relayed_from_telegram(
    executor: ActionExecutor, *messages: Any
) -> Tuple[List[Any], Dict[str, Any]]:
    """A handoff on Telegram, then the relay of the user's `messages` (as Rasa's Telegram
    channel made them of updates): the turns and the relay's result."""
    turns = await handed_off(executor, channel="telegram")
    for message in messages:
        turns += user(message.text or "", "inform", metadata=message.metadata, channel="telegram")
    return turns, await relay(executor, turns)


async def test_a_telegram_photo_and_document_reach_the_agent_as_image_and_file(
    zendesk: Zendesk, executor: ActionExecutor, linked: TelegramRasa, telegram_api: TelegramApi
) -> None:
    photo = await linked.send(photo_update())
    document = await linked.send(document_update())

    turns, result = await relayed_from_telegram(executor, photo, document)

    assert responses(result) == []
    relayed = relayed_since(zendesk, turns)
    assert [m["content"]["type"] for m in relayed] == ["text", "image", "text", "file"]
    assert [relayed[0]["content"]["text"], relayed[2]["content"]["text"]] == [
        "my receipt",
        "[document]",
    ]
    assert [stored(zendesk, m["content"]["mediaUrl"]) for m in relayed[1::2]] == [PNG, PDF]
    assert [m["content"].get("altText") for m in relayed[1::2]] == ["photo.jpg", "invoice.pdf"]
    assert len(uploads(zendesk)) == 2
    assert telegram_api.downloads() == ["photos/file_12.jpg", "documents/file_13.pdf"]
    sent_to_zendesk = json.dumps(zendesk.control("GET", "/requests"))
    assert TOKEN_SECRET not in sent_to_zendesk and TOKEN_SECRET not in json.dumps(result)
    assert TOKEN_SECRET.encode() not in linked.stored()


async def test_a_telegram_file_over_the_bot_api_limit_is_refused_with_the_reason(
    zendesk: Zendesk, executor: ActionExecutor, linked: TelegramRasa
) -> None:
    big = await linked.send(document_update(file_id="BQACbig", name="scan.zip", size=25 << 20))

    turns, result = await relayed_from_telegram(executor, big)

    assert sent_reasons(result) == [("scan.zip", TELEGRAM_SAYS_TOO_BIG)]
    assert [m["content"]["text"] for m in relayed_since(zendesk, turns)] == ["[document]"]
    assert uploads(zendesk) == []


async def test_without_public_url_the_user_is_told_the_file_was_not_passed_on(
    zendesk: Zendesk,
    executor: ActionExecutor,
    telegram_api: TelegramApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(PUBLIC_URL_ENV, raising=False)
    rasa = await start_telegram_rasa(tmp_path, telegram_api, monkeypatch, public_url=False)
    try:
        photo = await rasa.send(photo_update())
    finally:
        await stop_telegram_rasa(rasa)

    turns, result = await relayed_from_telegram(executor, photo)

    assert sent_reasons(result) == [("photo.jpg", NOT_SET_UP)]
    assert [m["content"]["text"] for m in relayed_since(zendesk, turns)] == ["my receipt"]
    assert uploads(zendesk) == []
