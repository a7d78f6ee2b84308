"""Private attachments (Zendesk's "private attachments" setting): the agent's media need the
app's credentials, so the user gets a link the channel serves itself, signed, expiring and
unguessable, that never carries the Zendesk credential.

The links are checked on their own (what they name, tampering, another connector's key,
expiry, what is never proxied), then end to end: the emulator with private attachments on,
the agent sending an uploaded image and file, the web chat getting links, and the links
serving the bytes the emulator only gives the app's key.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import AsyncIterator, Dict, Iterator, Tuple
from urllib.parse import urlsplit

import httpx
import pytest

from rasa_zendesk import clock
from rasa_zendesk.channel.attachment_links import AttachmentLinks, LinkRefused, LinkSettings
from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.emulator.samples import samples
from rasa_zendesk.platforms.rich import Card, Link, Media, Rich
from rasa_zendesk.settings import SettingsError
from testkit.channel_harness import CREDENTIALS, KEY_SECRET, SECRET
from testkit.emulator_stack import EmulatorStack, emulator_stack

pytestmark = pytest.mark.timeout(60)

PUBLIC_URL = "https://bot.example.org"
ATTACHMENT = "https://acme.zendesk.com/sc/attachments/v2/01JK0000/receipt.png"


def links(private: bool = True, public_url: str = PUBLIC_URL, **more: str) -> AttachmentLinks:
    credentials = {**CREDENTIALS, "public_url": public_url, **more}
    if private:
        credentials["private_attachments"] = "true"
    config = ChannelConfig.from_credentials(credentials, environ={})
    return AttachmentLinks(config.attachments, config.connectors)


@pytest.fixture
def clock_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(path))
    yield path


def token_of(link: str) -> str:
    path = urlsplit(link).path
    assert path.startswith("/webhooks/zendesk/attachments/"), link
    return path.split("/")[4]


# The links -----------------------------------------------------------------------------------


def test_a_private_attachment_becomes_a_signed_link_without_the_credential() -> None:
    made = links().link("default", ATTACHMENT, "receipt.png")

    assert made.startswith(f"{PUBLIC_URL}/webhooks/zendesk/attachments/")
    assert made.endswith("/receipt.png")
    for secret in (KEY_SECRET, SECRET, CREDENTIALS["key_id"]):
        assert secret not in made
    media = links().verify(token_of(made))
    assert (media.connector, media.path, media.name) == (
        "default",
        "/sc/attachments/v2/01JK0000/receipt.png",
        "receipt.png",
    )
    assert media.expires == pytest.approx(clock.now() + 86400, abs=5)


def test_two_links_to_one_attachment_differ_in_time_and_none_can_be_altered(
    clock_file: Path,
) -> None:
    made = links()
    first = token_of(made.link("default", ATTACHMENT, "receipt.png"))
    clock_file.write_text("1")
    second = token_of(made.link("default", ATTACHMENT, "receipt.png"))
    assert first != second

    body, signature = first.split(".")
    other_path = links().sign("default", "/sc/attachments/v2/OTHER/x.png", "x.png").split(".")[0]
    for forged in (
        f"{other_path}.{signature}",  # another attachment under this signature
        f"{body}.{signature[:-2]}AA",  # a signature changed
        body,  # none at all
        "not-a-token",
        f"{body}.{signature}{signature}",
    ):
        with pytest.raises(LinkRefused) as refused:
            made.verify(forged)
        assert refused.value.status == 404


@pytest.mark.parametrize(
    "token",
    [
        "W1tb" * 500 + ".AAAA",  # 1500 nested "[": parsed unsigned, a RecursionError
        "W1tb" * 500 + ".",
        "a" * 20000 + ".AAAA",
        "é30.AAAA",
    ],
)
def test_a_token_is_refused_before_any_claim_is_decoded(token: str) -> None:
    with pytest.raises(LinkRefused) as refused:
        links().verify(token)
    assert refused.value.status == 404


def test_a_link_signed_with_another_webhook_secret_is_refused() -> None:
    theirs = links(webhook_secret="someone-elses-secret-9c1e")
    token = token_of(theirs.link("default", ATTACHMENT, "receipt.png"))

    with pytest.raises(LinkRefused) as refused:
        links().verify(token)
    assert refused.value.status == 404


def test_a_link_expires(clock_file: Path) -> None:
    made = links(attachment_link_ttl="600")
    token = token_of(made.link("default", ATTACHMENT, "receipt.png"))
    clock_file.write_text("599")
    assert made.verify(token).path.endswith("/receipt.png")

    clock_file.write_text("601")

    with pytest.raises(LinkRefused) as refused:
        made.verify(token)
    assert refused.value.status == 410


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/image.jpg",  # not Zendesk's
        "https://acme.zendesk.com/sc/v2/apps/app_test/conversations/c1",  # the API itself
        "https://acme.zendesk.com/sc/attachments/../v2/apps/app_test/conversations",
        "https://acme.zendesk.com/sc/attachments/%2e%2e/v2/apps/app_test/users/u1",
        "https://other.zendesk.com/sc/attachments/v2/01JK0000/receipt.png",
        "http://acme.zendesk.com/sc/attachments/v2/01JK0000/receipt.png",  # not its scheme
        "https://acme.zendesk.com:8443/sc/attachments/v2/01JK0000/receipt.png",
    ],
)
def test_only_the_connectors_own_attachments_are_ever_fetched_with_its_key(url: str) -> None:
    assert links().link("default", url, "x") == url


def test_a_message_gets_links_for_its_media_and_keeps_the_agents_links() -> None:
    rewrite = links().media_links(None)
    assert rewrite is not None
    message = Rich(
        text="See",
        actions=(Link("Docs", ATTACHMENT),),
        image=Media(ATTACHMENT, "receipt.png"),
        file=Media(ATTACHMENT.replace("receipt.png", "invoice.pdf"), "invoice.pdf"),
        cards=(Card("A card", image=ATTACHMENT),),
    )

    linked = rewrite(message)

    assert linked.actions == message.actions  # a link the agent offers is theirs to choose
    for url in (linked.image.url, linked.file.url, linked.cards[0].image):  # type: ignore[union-attr]
        assert url.startswith(f"{PUBLIC_URL}/webhooks/zendesk/attachments/")
    assert linked.file.url.endswith("/invoice.pdf")  # type: ignore[union-attr]


def test_public_attachments_are_left_alone() -> None:
    assert links(private=False).media_links(None) is None


def test_without_a_public_url_a_private_attachment_is_linked_as_it_is_and_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="rasa_zendesk")
    made = links(public_url="")

    assert made.link("default", ATTACHMENT, "receipt.png") == ATTACHMENT

    warnings = [r.getMessage() for r in caplog.records]
    assert any("public_url (ZENDESK_PUBLIC_URL) is not set" in w for w in warnings), warnings
    assert any("set public_url (ZENDESK_PUBLIC_URL)" in w for w in warnings), warnings


def test_the_settings() -> None:
    env = {
        "ZENDESK_CONNECTORS": "eu",
        **{f"ZENDESK_CONNECTOR_EU_{k.upper()}": v for k, v in CREDENTIALS.items()},
        "ZENDESK_CONNECTOR_EU_PRIVATE_ATTACHMENTS": "true",
        "ZENDESK_PUBLIC_URL": "https://bot.example.org/",
        "ZENDESK_ATTACHMENT_LINK_TTL": "3600",
    }
    settings = ChannelConfig.from_credentials({}, environ=env).attachments
    assert settings == LinkSettings("https://bot.example.org", 3600, {"eu": True})
    assert ChannelConfig.from_credentials(CREDENTIALS, environ={}).attachments == LinkSettings(
        None, 86400, {"default": False}
    )
    for wrong in ({"public_url": "bot.example.org"}, {"attachment_link_ttl": "0"}):
        with pytest.raises(SettingsError) as error:
            ChannelConfig.from_credentials({**CREDENTIALS, **wrong}, environ={})
        assert next(iter(wrong)) in str(error.value)


# End to end, with the emulator's private attachments ---------------------------------------


@pytest.fixture
async def stack(db_path: Path) -> AsyncIterator[EmulatorStack]:
    settings = {"private_attachments": "true", "public_url": PUBLIC_URL}
    async with emulator_stack(db_path, credentials=settings) as running:
        await running.control("POST", "/private-attachments", {"enabled": True})
        yield running


async def upload(stack: EmulatorStack, name: str) -> Tuple[str, bytes, str]:
    """An attachment the agent uploaded: its SunCo URL, bytes and type."""
    media_type, data = samples()[name]
    async with httpx.AsyncClient(auth=(CREDENTIALS["key_id"], KEY_SECRET)) as http:
        answer = await http.post(
            f"{stack.emulator.api_url}/v2/apps/{CREDENTIALS['app_id']}/attachments",
            params={"access": "public"},
            files={"source": (name, data, media_type)},
        )
    assert answer.status_code == 201, answer.text
    return answer.json()["attachment"]["mediaUrl"], data, media_type


def on_rasa(stack: EmulatorStack, link: str) -> str:
    """The link, asked of the test's Rasa server (it is `PUBLIC_URL` to the user)."""
    assert link.startswith(PUBLIC_URL + "/webhooks/zendesk/attachments/"), link
    return stack.rasa.url + link[len(PUBLIC_URL) :]


async def test_the_user_gets_links_that_serve_what_only_the_apps_key_can_fetch(
    stack: EmulatorStack,
) -> None:
    image_url, image, image_type = await upload(stack, "receipt.png")
    file_url, pdf, _ = await upload(stack, "invoice.pdf")
    async with httpx.AsyncClient() as http:
        assert (await http.get(image_url)).status_code == 401  # private: nobody else
    sender_id, conversation_id, chat = await stack.handoff()
    path = f"/conversations/{conversation_id}/agent-message"
    try:
        await stack.control("POST", path, {"type": "image", "mediaUrl": image_url})
        await stack.control("POST", path, {"type": "file", "mediaUrl": file_url})
        shown = await chat.next_message()
        file_text = (await chat.next_message())["text"]
    finally:
        await chat.client.disconnect()

    image_link = shown["attachment"]["payload"]["src"]
    assert file_text.startswith("[invoice.pdf](") and file_text.endswith("/invoice.pdf)")
    file_link = file_text[len("[invoice.pdf](") : -1]
    async with httpx.AsyncClient() as http:
        served = await http.get(on_rasa(stack, image_link))
        head = await http.head(on_rasa(stack, image_link))
        document = await http.get(on_rasa(stack, file_link))
    assert served.status_code == 200 and served.content == image
    assert served.headers["content-type"] == image_type
    assert served.headers["content-disposition"] == "inline; filename*=UTF-8''receipt.png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    assert served.headers["cache-control"].startswith("private, max-age=")
    assert head.status_code == 200 and head.content == b""
    assert document.status_code == 200 and document.content == pdf
    for answer in (served, document):
        assert KEY_SECRET not in answer.text and "authorization" not in answer.headers
    recorded = [e for e in await stack.rasa.bot_events(sender_id) if e.data]
    assert recorded[-2].data == {"image": image_url}  # the record keeps Zendesk's own URL
    fetched = await stack.api_calls("GET", "/sc/attachments/")
    assert [call["status"] for call in fetched] == [401, 200, 200, 200]


async def test_a_bad_or_expired_link_is_refused_and_zendesk_is_not_asked(
    stack: EmulatorStack, clock_file: Path
) -> None:
    image_url, _, _ = await upload(stack, "receipt.png")
    link = stack.rasa.zendesk.processor.links.link("default", image_url, "receipt.png")
    body, signature = token_of(link).split(".")
    forged = link.replace(signature, signature[::-1])

    async with httpx.AsyncClient() as http:
        assert (await http.get(on_rasa(stack, forged))).status_code == 404
        clock_file.write_text(str(86400 + 60))
        expired = await http.get(on_rasa(stack, link))

    assert expired.status_code == 410
    assert await stack.api_calls("GET", "/sc/attachments/") == []


async def test_an_attachment_gone_from_zendesk_is_a_404(stack: EmulatorStack) -> None:
    gone = f"{stack.emulator.api_url}/attachments/v2/NOSUCHID/receipt.png"
    link = stack.rasa.zendesk.processor.links.link("default", gone, "receipt.png")

    async with httpx.AsyncClient() as http:
        answer = await http.get(on_rasa(stack, link))

    assert answer.status_code == 404
    assert [c["status"] for c in await stack.api_calls("GET", "/sc/attachments/")] == [404]


def _headers(answer: httpx.Response) -> Dict[str, str]:
    return dict(answer.headers)
