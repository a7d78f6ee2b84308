"""A Telegram user's photo or document reaches the bot (and so the relay) through
`TelegramMediaInput`: Rasa's own `TelegramInput` webhook handler, on an in-process Rasa server
next to `ZendeskInput`, with the file as a signed link the Zendesk channel serves by fetching it
from the Bot API (a loopback stand-in) with the bot token, which is never stored, logged or
linked.

The agent records each user message in a real SQL tracker store as Rasa's processor logs it
(`UserUttered` with the channel's text and metadata); no model is loaded, since the NLU is not
what is tested.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any, Dict

import httpx
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import UserUttered
from sanic import Sanic

from rasa_zendesk import clock, constants
from rasa_zendesk.channel.media_inputs import NOT_SET_UP
from testkit.platforms import TelegramApi
from testkit.telegram_rasa import (  # noqa: F401 (fixtures)
    CHAT_ID,
    TELEGRAM_SAYS_TOO_BIG,
    TOKEN_SECRET,
    TelegramRasa,
    document_update,
    message_update,
    photo_update,
    start_telegram_rasa,
    stop_telegram_rasa,
    telegram_api_fixture,
    telegram_rasa_fixture,
)
from testkit.user_files import PDF, PNG

pytestmark = pytest.mark.timeout(60)
Sanic.test_mode = True

LINKS = "/webhooks/zendesk/attachments/"


# Realistic Telegram updates (Bot API `Update` objects as Telegram posts them) ---------------


def link_of(message: UserMessage) -> str:
    assert message.metadata is not None
    (attachment,) = message.metadata[constants.USER_ATTACHMENTS_KEY]
    return str(attachment["url"])


def claims_of(link: str) -> Dict[str, Any]:
    token = link.split(LINKS, 1)[1].split("/", 1)[0]
    body = token.split(".", 1)[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


# The tests -------------------------------------------------------------------------------


async def test_a_photo_reaches_rasa_with_its_caption_and_a_link_that_serves_its_bytes(
    telegram_rasa: TelegramRasa, telegram_api: TelegramApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    message = await telegram_rasa.send(photo_update())

    assert message.text == "my receipt" and message.input_channel == "telegram"
    assert message.sender_id == str(CHAT_ID)
    link = link_of(message)
    assert message.metadata == {
        constants.USER_ATTACHMENTS_KEY: [{"type": "image", "url": link, "name": "photo.jpg"}]
    }
    assert link.startswith(f"{telegram_rasa.url}{LINKS}") and link.endswith("/photo.jpg")
    assert claims_of(link)["p"] == "AgACAgIAAxkBAAIBZ2Xlarge"  # the largest size
    assert telegram_api.downloads() == []  # nothing is fetched before the link is asked

    async with httpx.AsyncClient(timeout=15) as http:
        served = await http.get(link)
    assert served.status_code == 200, served.text
    assert served.content == PNG
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert telegram_api.downloads() == ["photos/file_12.jpg"]

    assert TOKEN_SECRET not in link
    assert TOKEN_SECRET.encode() not in telegram_rasa.stored()
    assert TOKEN_SECRET not in caplog.text
    assert "/bot<token>/getFile" in caplog.text  # httpx's request log, redacted


async def test_a_document_without_a_caption_reaches_rasa_as_a_file(
    telegram_rasa: TelegramRasa, telegram_api: TelegramApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    message = await telegram_rasa.send(document_update())

    assert message.text == "[document]"
    link = link_of(message)
    assert message.metadata == {
        constants.USER_ATTACHMENTS_KEY: [{"type": "file", "url": link, "name": "invoice.pdf"}]
    }
    async with httpx.AsyncClient(timeout=15) as http:
        served = await http.get(link)
        head = await http.head(link)
    assert served.status_code == 200 and served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert head.status_code == 200 and head.content == b""
    tracker = await telegram_rasa.server.tracker(str(CHAT_ID))
    (uttered,) = (e for e in tracker.events if isinstance(e, UserUttered))
    assert uttered.text == "[document]" and uttered.metadata == message.metadata
    assert TOKEN_SECRET.encode() not in telegram_rasa.stored()
    assert TOKEN_SECRET not in caplog.text


async def test_a_photo_without_caption_is_a_short_text(telegram_rasa: TelegramRasa) -> None:
    message = await telegram_rasa.send(photo_update(caption=None))

    assert message.text == "[photo]"
    assert link_of(message).endswith("/photo.jpg")


async def test_a_text_message_is_passed_on_as_rasa_does(telegram_rasa: TelegramRasa) -> None:
    message = await telegram_rasa.send(message_update(3, text="hello"))

    assert message.text == "hello" and message.metadata is None


async def test_a_tampered_or_expired_link_is_refused_and_telegram_is_not_asked(
    telegram_rasa: TelegramRasa,
    telegram_api: TelegramApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    link = link_of(await telegram_rasa.send(photo_update()))
    prefix, rest = link.split(LINKS, 1)
    token, name = rest.split("/", 1)
    body, signature = token.split(".", 1)
    claims = claims_of(link)
    other = {**claims, "p": "BQACAgIAAxkBAAIBaGXdocument"}  # another file, same signature
    other_body = base64.urlsafe_b64encode(json.dumps(other).encode()).rstrip(b"=").decode()
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    tampered = [
        f"{prefix}{LINKS}{other_body}.{signature}/{name}",
        f"{prefix}{LINKS}{body}.{flipped}/{name}",
        f"{prefix}{LINKS}{body}/{name}",
    ]
    async with httpx.AsyncClient(timeout=15) as http:
        refused = [(await http.get(url)).status_code for url in tampered]
        clock_file = tmp_path / "clock"
        clock_file.write_text(str(24 * 3600 + 60))  # a day and a minute later
        monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(clock_file))
        expired = await http.get(link)

    assert refused == [404, 404, 404]
    assert expired.status_code == 410
    assert [r for r in telegram_api.received if r.path.endswith("/getFile")] == []
    assert telegram_api.downloads() == []


async def test_a_file_telegram_will_not_hand_out_is_refused_with_the_reason(
    telegram_rasa: TelegramRasa, telegram_api: TelegramApi
) -> None:
    big = 25 * 1024 * 1024
    message = await telegram_rasa.send(
        document_update(file_id="BQACbig", name="scan.zip", size=big)
    )

    assert message.text == "[document]"
    assert message.metadata == {
        constants.USER_ATTACHMENTS_REFUSED_KEY: [
            {"name": "scan.zip", "reason": TELEGRAM_SAYS_TOO_BIG}
        ]
    }
    assert telegram_api.received[-1].path.endswith("/getMe")  # no file was asked for


async def test_a_link_to_a_file_telegram_says_is_too_big_answers_413(
    telegram_rasa: TelegramRasa, telegram_api: TelegramApi
) -> None:
    # The update said a small size; Telegram's getFile knows better.
    telegram_api.add_file("BQACgrown", "documents/file_14.pdf", PDF, "application/pdf", 21 << 20)
    link = link_of(await telegram_rasa.send(document_update(file_id="BQACgrown")))
    async with httpx.AsyncClient(timeout=15) as http:
        served = await http.get(link)

    assert served.status_code == 413
    assert TOKEN_SECRET not in served.text
    assert telegram_api.downloads() == []


async def test_without_public_url_the_file_is_refused_and_a_warning_names_the_setting(
    tmp_path: Path,
    telegram_api: TelegramApi,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("ZENDESK_PUBLIC_URL", raising=False)
    rasa = await start_telegram_rasa(tmp_path, telegram_api, monkeypatch, public_url=False)
    try:
        message = await rasa.send(photo_update())
    finally:
        await stop_telegram_rasa(rasa)

    assert message.text == "my receipt"
    assert message.metadata == {
        constants.USER_ATTACHMENTS_REFUSED_KEY: [{"name": "photo.jpg", "reason": NOT_SET_UP}]
    }
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("public_url (ZENDESK_PUBLIC_URL)" in warning for warning in warnings), warnings
    assert TOKEN_SECRET.encode() not in rasa.stored()
