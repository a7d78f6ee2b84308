"""A Telegram user on an in-process Rasa server with `TelegramMediaInput` next to
`ZendeskInput` (the Bot API a loopback stand-in with the user's files), whose agent records each
user message as Rasa's processor logs it; and Telegram's updates as Telegram posts them."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Sequence

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

from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.channel.media_inputs import TelegramMediaInput
from rasa_zendesk.platforms.outputs import close_outputs, user_output
from testkit.channel_harness import CREDENTIALS, RasaServer, load_domain
from testkit.platforms import TELEGRAM_TOKEN, TelegramApi
from testkit.processes import free_ports
from testkit.user_files import PDF, PNG

CHAT_ID = 700000077


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
    settings: Optional[Dict[str, Any]] = None,
    more: Sequence[InputChannel] = (),
) -> TelegramRasa:
    """Rasa with `ZendeskInput` (its `public_url` this server, unless told otherwise; more
    `settings` of its credentials) and `TelegramMediaInput` as credentials.yml makes them, its
    Telegram output on the stand-in, and `more` input channels."""
    port = free_ports(1)[0]
    credentials = {**CREDENTIALS, **(settings or {})}
    if public_url:
        credentials["public_url"] = f"http://127.0.0.1:{port}"
    zendesk = ZendeskInput.from_credentials(credentials)
    telegram = TelegramMediaInput.from_credentials(
        {"access_token": TELEGRAM_TOKEN, "verify": "acme_bot", "webhook_url": "https://x.org/tg"}
    )
    assert isinstance(telegram, TelegramMediaInput) and isinstance(zendesk, ZendeskInput)
    output = user_output([telegram], None, "telegram")
    assert isinstance(output, TelegramOutput)
    output.server = TelegramAPIServer.from_base(api.base_url)
    # Rasa's channel registers its webhook with asyncio.run when it makes its blueprint; here
    # it gets the kept output channel, pointed at the stand-in (`getMe` checks the bot).
    monkeypatch.setattr(TelegramMediaInput, "get_output_channel", lambda self: output)
    channels: List[InputChannel] = [zendesk, telegram, *more]
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


def message_update(update_id: int, **content: Any) -> Dict[str, Any]:
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
    return message_update(update_id, **content)


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
    return message_update(update_id, document=document)
