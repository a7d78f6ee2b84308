"""An agent's long text reaches the user in parts that fit their platform, cut on paragraph,
line, sentence, then word boundaries; a retried webhook sends only the parts that did not go
out (Telegram, on the Bot API stand-in, refusing the third part once)."""

from __future__ import annotations

import re

import pytest
from rasa.shared.core.events import AgentUttered

from rasa_zendesk import constants
from rasa_zendesk.platforms import registry
from rasa_zendesk.platforms.split import split_text
from testkit.channel_harness import RasaServer, message_webhook
from testkit.platforms import TelegramApi, TwilioApi, add_telegram, text, twilio_input
from testkit.reach import handoff_on

pytestmark = pytest.mark.timeout(60)


def words_of(parts: list) -> list:
    return " ".join(parts).split()


def test_paragraphs_are_kept_whole_where_they_fit() -> None:
    first, second = "a" * 40, "b" * 40
    assert split_text(f"{first}\n\n{second}", 100) == [f"{first}\n\n{second}"]
    assert split_text(f"{first}\n\n{second}", 60) == [first, second]


def test_a_long_paragraph_goes_by_lines_then_sentences_then_words() -> None:
    lines = "First line here.\nSecond line here."
    assert split_text(lines, 20) == ["First line here.", "Second line here."]
    sentences = 'One sentence here. Another one? "Quoted!" Last.'
    assert split_text(sentences, 25) == ["One sentence here.", 'Another one? "Quoted!"', "Last."]
    assert split_text("alpha beta gamma delta", 11) == ["alpha beta", "gamma delta"]


def test_only_a_word_longer_than_the_limit_is_cut_inside() -> None:
    assert split_text("see " + "x" * 25 + " ok", 10) == ["see", "x" * 10, "x" * 10, "x" * 5 + " ok"]


@pytest.mark.parametrize("limit", [7, 30, 160, 1600])
def test_every_part_fits_and_nothing_but_whitespace_is_lost(limit: int) -> None:
    text = "\n\n".join(
        f"Paragraph {n}. " + " ".join(f"word{n}x{i}." for i in range(n * 7)) + "\nA line."
        for n in range(1, 30)
    )
    parts = split_text(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())
    if limit >= 30:  # no word is longer: every word whole
        assert words_of(parts) == text.split()


def test_an_agent_text_and_its_parts_are_stripped() -> None:
    assert split_text("  hi \n", 10) == ["hi"]
    assert split_text("  first line\n\n  second line", 14) == ["first line", "second line"]


def test_blank_text_has_no_part_and_the_limit_must_be_positive() -> None:
    assert split_text(" \n\n ", 10) == []
    with pytest.raises(ValueError):
        split_text("x", 0)


def test_each_platform_knows_its_limit() -> None:
    limits = {name: registry.named(name).text_limit("+15550001234") for name in registry.PLATFORMS}
    assert limits == {
        "socketio": None,
        "rest": None,
        "slack": 4000,
        "twilio": 1600,
        "telegram": 4096,
        "facebook": 2000,
        "callback": None,
    }
    assert registry.named("twilio").text_limit("whatsapp:+15550001234") == 4096


def long_text(sentences: int) -> str:
    return " ".join(f"Sentence number {n} of the agent's long answer." for n in range(sentences))


async def test_an_sms_over_1600_characters_goes_in_parts_on_sentence_boundaries(
    rasa: RasaServer, twilio_api: TwilioApi
) -> None:
    sender = "+15551230042"
    conversation_id = await handoff_on(rasa, sender, twilio_input())
    agent_text = long_text(80)  # about 3,900 characters in one paragraph
    answer = await rasa.post_webhook(message_webhook(conversation_id, sender, text(agent_text)))
    assert answer.json()["processed"] == 1, answer.text

    bodies = [form["Body"][0] for form in twilio_api.messages()]
    assert len(bodies) == 3 and all(len(body) <= 1600 for body in bodies)
    assert all(re.fullmatch(r"Sentence number \d+ .*answer\.", body) for body in bodies)
    assert " ".join(bodies) == agent_text


async def test_a_retried_webhook_sends_only_the_parts_that_did_not_go_out(
    rasa: RasaServer, telegram_api: TelegramApi
) -> None:
    chat_id = "700000051"
    add_telegram(rasa.app.ctx.input_channels, telegram_api)
    conversation_id = await handoff_on(rasa, chat_id, "telegram")
    agent_text = long_text(400)  # about 19,500 characters: five parts of at most 4,096
    expected = split_text(agent_text, 4096)
    assert len(expected) == 5
    telegram_api.refuse_send_once = 3
    webhook = message_webhook(conversation_id, chat_id, text(agent_text))

    first = await rasa.post_webhook(webhook)
    assert first.status_code >= 500  # Zendesk retries
    progress = [e for e in (await rasa.tracker(chat_id)).events if isinstance(e, AgentUttered)]
    message_id = webhook["events"][0]["payload"]["message"]["id"]
    assert [e.metadata for e in progress] == [
        {constants.EVENT_ZENDESK_PARTS_OF: message_id, constants.EVENT_ZENDESK_PARTS_SENT: 2}
    ]
    assert not [e for e in await rasa.bot_events(chat_id) if e.text == agent_text]

    retried = await rasa.post_webhook(webhook)  # the same event, as Zendesk retries it
    assert retried.json()["processed"] == 1, retried.text

    sent = [fields["text"] for method, fields in telegram_api.calls() if method == "sendMessage"]
    first_try, second_try = sent[:3], sent[3:]
    assert first_try == expected[:3]  # the third was refused (429)
    assert second_try == expected[2:]  # the retry: the third part onward, once each
    (recorded,) = (
        e
        for e in await rasa.bot_events(chat_id)
        if e.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID) == message_id
    )
    assert recorded.text == agent_text

    again = await rasa.post_webhook(webhook)  # a duplicate after success sends nothing
    assert again.status_code == 200
    assert len(telegram_api.calls()) == len(sent)
