"""A Twilio user's MMS or WhatsApp media reach the agent although Twilio hands them out only
with the account's Basic auth: `TwilioMediaInput` passes the bot's own account's media on as
links of the Rasa server, which fetches them with the Twilio channel's credentials (from its
credentials.yml section) and streams them to the relay action (rasa-sdk's executor), which
uploads them to the emulator. The credentials never reach the tracker, the action server or
the logs. Twilio's API is a loopback stand-in that answers 401 without the credentials and
redirects to a CDN that refuses a request carrying them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import AsyncIterator, Dict

import httpx
import pytest
from rasa.core.channels.channel import UserMessage
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.channel.media_inputs import TwilioMediaInput
from testkit.action_calls import responses, user
from testkit.action_emulator import Zendesk
from testkit.platforms import (
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    TwilioApi,
    basic_auth,
    twilio_api_fixture,
)
from testkit.telegram_rasa import (
    TelegramRasa,
    bot_api,
    start_telegram_rasa,
    stop_telegram_rasa,
)
from testkit.user_files import (
    HOSTS_ENV,
    PDF,
    PNG,
    PUBLIC_URL_ENV,
    handed_off,
    relay,
    relayed_since,
    stored,
    uploads,
)

pytestmark = pytest.mark.timeout(60)
__all__ = ["twilio_api_fixture"]  # Twilio's API stand-in

LINKS = "/webhooks/zendesk/attachments/"
USER = "+15551230077"


@pytest.fixture(name="rasa")
async def rasa_fixture(
    tmp_path: Path, twilio_api: TwilioApi, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TelegramRasa]:
    """A Rasa server with the Zendesk channel and `TwilioMediaInput` as credentials.yml makes
    it; an action server that knows where it is and trusts only its links."""
    twilio = TwilioMediaInput.from_credentials(
        {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "twilio_number": TWILIO_NUMBER}
    )
    with bot_api() as telegram:
        rasa = await start_telegram_rasa(tmp_path, telegram, monkeypatch, more=[twilio])
        monkeypatch.setenv(PUBLIC_URL_ENV, rasa.url)
        monkeypatch.delenv(HOSTS_ENV, raising=False)
        yield rasa
        await stop_telegram_rasa(rasa)


async def mms(rasa: TelegramRasa, **media: str) -> UserMessage:
    """Twilio's webhook for an MMS with `media` (`MediaUrl0`, `MediaContentType0`, ...)."""
    form: Dict[str, str] = {
        "MessageSid": "MM" + "0" * 31 + "1",
        "AccountSid": TWILIO_SID,
        "From": USER,
        "To": TWILIO_NUMBER,
        "Body": "",
        "NumMedia": str(len(media) // 2),
        **media,
    }
    before = len(rasa.received)
    async with httpx.AsyncClient(base_url=rasa.url, timeout=15) as http:
        answer = await http.post("/webhooks/twilio/webhook", data=form)
    assert answer.status_code == 204, answer.text
    assert len(rasa.received) == before + 1
    return rasa.received[-1]


def test_twilio_hands_media_out_only_with_the_accounts_credentials(twilio_api: TwilioApi) -> None:
    url = twilio_api.add_media(1, PNG, "image/png")
    refused = httpx.get(url)
    assert refused.status_code == 401 and refused.json()["code"] == 20003
    wrong = httpx.get(url, auth=(TWILIO_SID, "not-the-token"))
    assert wrong.status_code == 401
    with httpx.Client(auth=(TWILIO_SID, TWILIO_TOKEN), follow_redirects=True) as http:
        assert http.get(url).content == PNG  # httpx leaves the credentials out for the CDN


async def test_mms_media_reach_the_agent_fetched_with_the_accounts_credentials(
    zendesk: Zendesk,
    executor: ActionExecutor,
    rasa: TelegramRasa,
    twilio_api: TwilioApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    photo = twilio_api.add_media(1, PNG, "image/png")
    pdf = twilio_api.add_media(2, PDF, "application/pdf")
    message = await mms(
        rasa,
        MediaUrl0=photo,
        MediaContentType0="image/png",
        MediaUrl1=pdf,
        MediaContentType1="application/pdf",
    )
    assert message.metadata is not None
    attachments = message.metadata[constants.USER_ATTACHMENTS_KEY]
    assert [a["type"] for a in attachments] == ["image", "file"]
    assert all(a["url"].startswith(f"{rasa.url}{LINKS}") for a in attachments)
    assert twilio_api.received == []  # nothing is fetched before the link is asked

    turns = await handed_off(executor, channel="twilio")
    turns += user("", "inform", metadata=message.metadata, channel="twilio")
    result = await relay(executor, turns)

    assert responses(result) == []
    relayed = relayed_since(zendesk, turns)
    assert [m["content"]["type"] for m in relayed] == ["image", "file"]
    assert [stored(zendesk, m["content"]["mediaUrl"]) for m in relayed] == [PNG, PDF]
    assert len(uploads(zendesk)) == 2
    media_calls = [r for r in twilio_api.received if "/Media/" in r.path]
    assert [r.headers.get("authorization") for r in media_calls] == [
        basic_auth(TWILIO_SID, TWILIO_TOKEN)
    ] * 2
    assert [("authorization" in r.headers) for r in twilio_api.cdn.received] == [False, False]
    everything = caplog.text + json.dumps(result) + json.dumps(zendesk.control("GET", "/requests"))
    assert TWILIO_TOKEN not in everything
    assert TWILIO_TOKEN.encode() not in rasa.stored()


async def test_media_of_another_account_or_host_pass_on_as_they_are(
    rasa: TelegramRasa, twilio_api: TwilioApi
) -> None:
    elsewhere = "https://media.example.org/u/receipt.png"
    other_account = twilio_api.add_media(3, PNG, "image/png").replace(TWILIO_SID, "AC" + "9" * 32)
    message = await mms(
        rasa,
        MediaUrl0=elsewhere,
        MediaContentType0="image/png",
        MediaUrl1=other_account,
        MediaContentType1="image/png",
    )
    assert message.metadata == {
        "attachments": [
            {"type": "image", "url": elsewhere},
            {"type": "image", "url": other_account},
        ]
    }


async def test_a_link_to_a_media_id_that_is_not_twilios_is_refused(
    rasa: TelegramRasa, twilio_api: TwilioApi
) -> None:
    links = rasa.server.zendesk.processor.links
    assert links is not None
    forged = links.platform_link("twilio", "../../Calls.json", "x")
    assert forged is not None
    async with httpx.AsyncClient() as http:
        answer = await http.get(forged)
    assert answer.status_code == 404
    assert twilio_api.received == []
