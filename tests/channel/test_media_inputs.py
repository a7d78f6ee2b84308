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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional

import httpx
import pytest
from aiogram.bot.api import TelegramAPIServer
from rasa.core.agent import Agent
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramOutput
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.run import configure_app
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import UserUttered
from sanic import Sanic

from rasa_zendesk import clock, constants
from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.channel.media_inputs import NOT_SET_UP, TelegramMediaInput
from rasa_zendesk.emulator.samples import samples
from rasa_zendesk.platforms.outputs import close_outputs, output_channel_for
from testkit.channel_harness import CREDENTIALS, RasaServer, load_domain
from testkit.platforms import TELEGRAM_TOKEN, TelegramApi
from testkit.processes import free_ports

pytestmark = pytest.mark.timeout(60)
Sanic.test_mode = True

_, PNG = samples()["receipt.png"]
_, PDF = samples()["invoice.pdf"]
CHAT_ID = 700000077
LINKS = "/webhooks/zendesk/attachments/"
#: The bot token's secret part (what must never leak; the id before ":" is public).
TOKEN_SECRET = TELEGRAM_TOKEN.split(":", 1)[1]
TELEGRAM_SAYS_TOO_BIG = "it is larger than Telegram's limit of 20 MB for bots"


class RecordingAgent(Agent):
    """Rasa's agent without a model: each user message is logged to the tracker store as
    Rasa's processor logs it, and kept for the test."""

    received: List[UserMessage]

    async def handle_message(self, message: UserMessage) -> None:
        assert self.tracker_store is not None
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(
            UserUttered(
                message.text,
                input_channel=message.input_channel,
                message_id=message.message_id,
                metadata=message.metadata,
            )
        )
        await self.tracker_store.save(tracker)
        self.received.append(message)


@dataclass
class TelegramRasa:
    """The Rasa server with the Zendesk and Telegram channels, and what the tests look at."""

    server: RasaServer
    telegram: TelegramMediaInput
    db_path: Path

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def received(self) -> List[UserMessage]:
        return self.server.agent.received  # type: ignore[attr-defined,no-any-return]

    async def send(self, update: Dict[str, Any]) -> UserMessage:
        """Telegram's webhook with one update; the user message Rasa made of it."""
        before = len(self.received)
        async with httpx.AsyncClient(base_url=self.url, timeout=15) as http:
            answer = await http.post("/webhooks/telegram/webhook", json=update)
        assert answer.status_code == 200 and answer.text == "success", answer.text
        assert len(self.received) == before + 1, "Rasa got no user message"
        return self.received[-1]

    def stored(self) -> bytes:
        """Every byte of the tracker store."""
        return self.db_path.read_bytes()


async def start_telegram_rasa(
    tmp_path: Path,
    api: TelegramApi,
    monkeypatch: pytest.MonkeyPatch,
    public_url: Optional[bool] = True,
) -> TelegramRasa:
    """Rasa with `ZendeskInput` (its `public_url` this server, unless told otherwise) and
    `TelegramMediaInput` as credentials.yml makes them, its Telegram output on the stand-in."""
    port = free_ports(1)[0]
    credentials = dict(CREDENTIALS)
    if public_url:
        credentials["public_url"] = f"http://127.0.0.1:{port}"
    zendesk = ZendeskInput.from_credentials(credentials)
    telegram = TelegramMediaInput.from_credentials(
        {"access_token": TELEGRAM_TOKEN, "verify": "acme_bot", "webhook_url": "https://x.org/tg"}
    )
    assert isinstance(telegram, TelegramMediaInput) and isinstance(zendesk, ZendeskInput)
    output = output_channel_for([telegram], "telegram")
    assert isinstance(output, TelegramOutput)
    output.server = TelegramAPIServer.from_base(api.base_url)
    # Rasa's channel registers its webhook with asyncio.run when it makes its blueprint; here
    # it gets the kept output channel, pointed at the stand-in (`getMe` checks the bot).
    monkeypatch.setattr(TelegramMediaInput, "get_output_channel", lambda self: output)
    channels: List[InputChannel] = [zendesk, telegram]
    app = configure_app(input_channels=channels, enable_api=False, port=port)
    db_path = tmp_path / "tracker.db"
    domain = load_domain()
    store = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(db_path))
    agent = RecordingAgent(domain=domain, tracker_store=store, lock_store=InMemoryLockStore())
    agent.received = []
    app.ctx.agent = agent
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    url = f"http://127.0.0.1:{port}"
    return TelegramRasa(RasaServer(app, server, url, agent, store, zendesk), telegram, db_path)


async def stop_telegram_rasa(rasa: TelegramRasa) -> None:
    await rasa.server.stop()
    await close_outputs([rasa.telegram])


@contextmanager
def bot_api() -> Iterator[TelegramApi]:
    """The Bot API stand-in, with the files of `photo_update` and `document_update`."""
    with TelegramApi() as api:
        api.add_file("AgACAgIAAxkBAAIBZ2Xlarge", "photos/file_12.jpg", PNG, "image/jpeg")
        api.add_file("BQACAgIAAxkBAAIBaGXdocument", "documents/file_13.pdf", PDF, "application/pdf")
        yield api


@pytest.fixture(name="telegram_api")
def telegram_api_fixture() -> Iterator[TelegramApi]:
    with bot_api() as api:
        yield api


@pytest.fixture(name="telegram_rasa")
async def telegram_rasa_fixture(
    tmp_path: Path, telegram_api: TelegramApi, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TelegramRasa]:
    rasa = await start_telegram_rasa(tmp_path, telegram_api, monkeypatch)
    yield rasa
    await stop_telegram_rasa(rasa)


# Realistic Telegram updates (Bot API `Update` objects as Telegram posts them) ---------------


def _message(update_id: int, **content: Any) -> Dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 100 + update_id,
            "from": {
                "id": CHAT_ID,
                "is_bot": False,
                "first_name": "Ann",
                "language_code": "en",
            },
            "chat": {"id": CHAT_ID, "first_name": "Ann", "type": "private"},
            "date": 1_700_000_000 + update_id,
            **content,
        },
    }


def photo_update(update_id: int = 1, caption: Optional[str] = "my receipt") -> Dict[str, Any]:
    """A photo in Telegram's three sizes, smallest first; the largest is the file to pass."""
    sizes = [
        ("AgACAgIAAxkBAAIBZ2Xsmall", 90, 67, 1204),
        ("AgACAgIAAxkBAAIBZ2Xlarge", 1280, 960, 571),  # out of order, as nothing promises
        ("AgACAgIAAxkBAAIBZ2Xmedium", 320, 240, 9876),
    ]
    photo = [
        {
            "file_id": file_id,
            "file_unique_id": "AQAD" + file_id[-6:],
            "width": width,
            "height": height,
            "file_size": size,
        }
        for file_id, width, height, size in sizes
    ]
    content: Dict[str, Any] = {"photo": photo}
    if caption is not None:
        content["caption"] = caption
    return _message(update_id, **content)


def document_update(
    update_id: int = 2,
    file_id: str = "BQACAgIAAxkBAAIBaGXdocument",
    name: str = "invoice.pdf",
    size: int = len(PDF),
) -> Dict[str, Any]:
    document = {
        "file_name": name,
        "mime_type": "application/pdf",
        "file_id": file_id,
        "file_unique_id": "AgADdocument",
        "file_size": size,
    }
    return _message(update_id, document=document)


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
    message = await telegram_rasa.send(_message(3, text="hello"))

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
