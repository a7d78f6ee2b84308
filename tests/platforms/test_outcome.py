"""Every send's outcome (`platforms/outcome.py`): each platform's real errors classified, and a
send refused for good reaching the agent in the emulator's conversation (once per cause), the
webhook acknowledged (no retry can help), the message kept for the user, the refusal noted
and counted. A failure for now answers 5xx so Zendesk retries."""

from __future__ import annotations

import logging

import pytest
from aiogram.utils import exceptions as telegram_errors
from rasa.utils.endpoints import ClientResponseError
from slack_sdk.errors import SlackApiError
from twilio.base.exceptions import TwilioRestException

from rasa_zendesk import clock
from rasa_zendesk.platforms import callback, messenger, outcome, slack, telegram, twilio
from rasa_zendesk.platforms.outcome import Refusal
from rasa_zendesk.platforms.registry import DEFAULT
from testkit.emulator_stack import EmulatorStack
from testkit.platforms import (
    CallbackServer,
    GraphApi,
    SlackApi,
    TelegramApi,
    TwilioApi,
    add_telegram,
    callback_input,
    facebook_input,
    slack_event_metadata,
    slack_input,
    twilio_input,
    whatsapp_input,
)
from testkit.refusals import agent_writes, platform_handoff

pytestmark = pytest.mark.timeout(60)

DAY = 24 * 3600


def test_the_agent_reads_the_cause_in_words() -> None:
    assert Refusal("facebook", outcome.WINDOW_7D).agent_text() == (
        "Not delivered to the customer: Messenger's 7-day window since the customer's last "
        "message has passed. They get it when they write again."
    )
    assert "(replied STOP)" in Refusal("twilio", outcome.UNSUBSCRIBED).agent_text()
    assert set(outcome.CAUSES) >= {
        outcome.BLOCKED,
        outcome.UNREACHABLE,
        outcome.CHAT_GONE,
        outcome.WINDOW_24H,
    }


def twilio_error(status: int, code: int) -> TwilioRestException:
    return TwilioRestException(status, "https://api.twilio.com/x", "refused", code=code)


@pytest.mark.parametrize(
    ("error", "recipient", "refusal"),
    [
        (twilio_error(400, 21211), "+15550001", ("twilio", outcome.UNREACHABLE)),
        (twilio_error(400, 21614), "+15550001", ("twilio", outcome.UNREACHABLE)),
        (twilio_error(400, 21610), "+15550001", ("twilio", outcome.UNSUBSCRIBED)),
        (twilio_error(400, 63016), "whatsapp:+15550001", ("whatsapp", outcome.WINDOW_24H)),
        (twilio_error(401, 20003), "+15550001", None),  # a wrong token: the operator fixes it
        (twilio_error(429, 20429), "+15550001", None),
        (twilio_error(500, 20500), "+15550001", None),
        (ConnectionError("down"), "+15550001", None),
    ],
)
def test_twilio_errors(error: Exception, recipient: str, refusal: object) -> None:
    found = twilio.PLATFORM.refusal(error, recipient)
    assert (found and (found.platform, found.cause)) == refusal


def graph_error(code: int, subcode: object = None, tag: object = None) -> Exception:
    return messenger.SendApiError({"message": "x", "code": code, "error_subcode": subcode}, tag)


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (graph_error(551, 1545041), outcome.BLOCKED),
        (graph_error(100, 2018001), outcome.UNREACHABLE),
        (graph_error(10, 2018278), outcome.WINDOW_24H),
        (graph_error(10, 2018278, tag=messenger.HUMAN_AGENT), outcome.WINDOW_7D),
        (graph_error(190), None),  # the page token: the operator fixes it
        (graph_error(613), None),  # rate limited
        (graph_error(1200), None),  # temporary send message failure
        (graph_error(100, 2018047), None),
    ],
)
def test_messenger_errors(error: Exception, cause: object) -> None:
    found = messenger.PLATFORM.refusal(error, "psid")
    assert (found and found.cause) == cause


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (telegram_errors.BotBlocked("Forbidden: bot was blocked by the user"), outcome.BLOCKED),
        (telegram_errors.UserDeactivated("Forbidden: user is deactivated"), outcome.UNREACHABLE),
        (telegram_errors.ChatNotFound("Bad Request: chat not found"), outcome.CHAT_GONE),
        (telegram_errors.Unauthorized("Unauthorized"), None),  # the bot token
        (telegram_errors.RetryAfter(3), None),
        (telegram_errors.NetworkError("down"), None),
    ],
)
def test_telegram_errors(error: Exception, cause: object) -> None:
    found = telegram.PLATFORM.refusal(error, "7000")
    assert (found and found.cause) == cause


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        ("channel_not_found", outcome.CHAT_GONE),
        ("not_in_channel", outcome.CHAT_GONE),
        ("is_archived", outcome.CHAT_GONE),
        ("msg_too_long", outcome.REJECTED),
        ("invalid_auth", None),
        ("ratelimited", None),
        ("internal_error", None),
    ],
)
def test_slack_errors(code: str, cause: object) -> None:
    error = SlackApiError("refused", {"ok": False, "error": code})
    found = slack.PLATFORM.refusal(error, "C0")
    assert (found and found.cause) == cause


@pytest.mark.parametrize(
    ("status", "cause"),
    [(404, outcome.REJECTED), (410, outcome.REJECTED), (429, None), (503, None)],
)
def test_callback_statuses(status: int, cause: object) -> None:
    error = ClientResponseError(status, "refused", "")
    found = callback.PLATFORM.refusal(error, "caller")
    assert (found and found.cause) == cause


def test_a_channel_the_plugin_does_not_know_never_refuses_for_good() -> None:
    assert DEFAULT.refusal(RuntimeError("any"), "x") is None


# A refusal reaches the agent ---------------------------------------------------------------


async def test_an_sms_to_an_unsubscribed_number_tells_the_agent(
    stack: EmulatorStack, twilio_api: TwilioApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # a "sent" line would be a debug line
    number = "+15557650001"
    twilio_api.unsubscribed.add(number)
    conversation_id = await platform_handoff(stack, number, twilio_input())

    after = await agent_writes(
        stack,
        conversation_id,
        number,
        "Hello",
        "Still there?",
        platform="twilio",
        cause=outcome.UNSUBSCRIBED,
    )

    assert after.told == [Refusal("twilio", outcome.UNSUBSCRIBED).agent_text()]  # once
    assert after.answers == [(1, 200), (1, 200)]  # acknowledged: no retry can help
    assert after.undelivered == [outcome.UNSUBSCRIBED]
    assert after.waiting == ["Hello", "Still there?"]
    assert after.counted == 2
    assert [m["To"] for m in twilio_api.messages()] == [[number], [number]]  # Twilio said no
    logged = [r.getMessage() for r in caplog.records if number in r.getMessage()]
    assert not [line for line in logged if " sent to sender " in line], logged
    assert len([line for line in logged if "refused for good (unsubscribed" in line]) == 2


async def test_whatsapp_after_24_hours_is_refused_before_sending_and_the_agent_is_told(
    stack: EmulatorStack, twilio_api: TwilioApi
) -> None:
    address = "whatsapp:+15557650002"
    wrote = clock.now() - DAY - 60
    twilio_api.user_wrote(address, at=wrote)
    conversation_id = await platform_handoff(stack, address, whatsapp_input(), user_wrote_at=wrote)

    after = await agent_writes(
        stack,
        conversation_id,
        address,
        "Sorry for the wait",
        platform="whatsapp",
        cause=outcome.WINDOW_24H,
    )

    assert after.told == [
        "Not delivered to the customer: WhatsApp's 24-hour window since the customer's last "
        "message has passed. They get it when they write again."
    ]
    assert after.answers == [(1, 200)]
    assert after.waiting == ["Sorry for the wait"]
    assert twilio_api.messages() == []  # checked before sending


async def test_messenger_after_7_days_is_refused_and_the_agent_is_told(
    stack: EmulatorStack, graph_api: GraphApi
) -> None:
    psid = "6543210987650001"
    wrote = clock.now() - 8 * DAY
    graph_api.user_wrote(psid, at=wrote)
    conversation_id = await platform_handoff(stack, psid, facebook_input(), user_wrote_at=wrote)

    after = await agent_writes(
        stack, conversation_id, psid, "Any news?", platform="facebook", cause=outcome.WINDOW_7D
    )

    assert after.told == [Refusal("facebook", outcome.WINDOW_7D).agent_text()]
    assert after.answers == [(1, 200)]
    assert after.undelivered == [outcome.WINDOW_7D]
    assert [body for body in graph_api.sent() if "message" in body] == []


async def test_a_messenger_user_who_is_unavailable_tells_the_agent(
    stack: EmulatorStack, graph_api: GraphApi
) -> None:
    psid = "6543210987650002"
    graph_api.user_wrote(psid)
    graph_api.unavailable.add(psid)
    conversation_id = await platform_handoff(stack, psid, facebook_input())

    after = await agent_writes(
        stack, conversation_id, psid, "Hello", platform="facebook", cause=outcome.BLOCKED
    )

    assert after.told == [Refusal("facebook", outcome.BLOCKED).agent_text()]
    assert after.answers == [(1, 200)]
    assert after.waiting == ["Hello"]


@pytest.mark.parametrize(
    ("refusing", "cause"), [("blocked", outcome.BLOCKED), ("gone", outcome.CHAT_GONE)]
)
async def test_a_telegram_chat_that_blocked_the_bot_or_is_gone_tells_the_agent(
    stack: EmulatorStack, telegram_api: TelegramApi, refusing: str, cause: str
) -> None:
    chat = "700000101"
    getattr(telegram_api, refusing).add(chat)
    add_telegram(stack.rasa.app.ctx.input_channels, telegram_api)
    conversation_id = await platform_handoff(stack, chat, "telegram")

    after = await agent_writes(
        stack, conversation_id, chat, "Hello", "Hello?", platform="telegram", cause=cause
    )

    assert after.told == [Refusal("telegram", cause).agent_text()]
    assert after.answers == [(1, 200), (1, 200)]
    assert after.counted == 2
    assert [fields["chat_id"] for method, fields in telegram_api.calls()] == [chat, chat]


async def test_an_archived_slack_channel_tells_the_agent(
    stack: EmulatorStack, slack_api: SlackApi
) -> None:
    slack_api.refuse["C0ARCHIVED"] = "is_archived"
    sender_id = "U0USER"
    metadata = slack_event_metadata("C0ARCHIVED", "1700000000.000100")
    conversation_id = await platform_handoff(stack, sender_id, slack_input(), metadata)

    after = await agent_writes(
        stack, conversation_id, sender_id, "Hello", platform="slack", cause=outcome.CHAT_GONE
    )

    assert after.told == [Refusal("slack", outcome.CHAT_GONE).agent_text()]
    assert after.answers == [(1, 200)]
    assert [post["channel"] for post in slack_api.posts()] == ["C0ARCHIVED"]


async def test_a_callback_url_that_refuses_tells_the_agent(stack: EmulatorStack) -> None:
    with CallbackServer() as server:
        server.status = 410
        conversation_id = await platform_handoff(stack, "caller-1", callback_input(server))

        after = await agent_writes(
            stack,
            conversation_id,
            "caller-1",
            "Hello",
            platform="callback",
            cause=outcome.REJECTED,
        )

    assert after.told == [Refusal("callback", outcome.REJECTED).agent_text()]
    assert after.answers == [(1, 200)]
    assert server.texts() == ["Hello"]


async def test_a_platform_that_fails_for_now_gets_the_webhook_retried(
    stack: EmulatorStack, twilio_api: TwilioApi
) -> None:
    """A 5xx from the platform is no refusal: the webhook answers 5xx and Zendesk retries."""
    number = "+15557650003"
    conversation_id = await platform_handoff(stack, number, twilio_input())
    answer = twilio_api.answer
    failures = iter([(503, {"code": 20503, "message": "Service unavailable", "status": 503})])
    twilio_api.answer = lambda request: next(failures, None) or answer(request)  # type: ignore[method-assign]

    after = await agent_writes(
        stack, conversation_id, number, "Hello", platform="twilio", cause=outcome.REJECTED
    )

    assert after.told == []
    assert after.answers == [(2, 200)]  # 5xx, then delivered on Zendesk's retry
    assert after.undelivered == []
    assert [m["Body"] for m in twilio_api.messages()] == [["Hello"], ["Hello"]]
