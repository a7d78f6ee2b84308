"""`action_zendesk_handoff` through rasa-sdk's executor against the running emulator."""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any, AsyncIterator, Callable, Dict, List

import pytest
from aiohttp import web
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, FollowupAction
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.actions import ActionZendeskHandoff, sunco_session
from rasa_zendesk.actions.escalate import asked_to_connect
from rasa_zendesk.actions.handoff_metadata import (
    FIRST_MESSAGE_ID,
    REQUESTER_EMAIL,
    REQUESTER_NAME,
    SUBJECT,
    TAGS,
)
from rasa_zendesk.emulator.testing import free_port
from rasa_zendesk.handoff import endings, state
from rasa_zendesk.sunco.text import MAX_TEXT_LENGTH
from testkit.action_calls import (
    DOMAIN,
    action_call,
    as_recorded,
    bot,
    handoff_closed,
    handoff_opened,
    is_ours,
    responses,
    run_action,
    slots,
    user,
)
from testkit.action_emulator import Zendesk, applied_then_500, assert_each_once, failed_posts

pytestmark = pytest.mark.timeout(60)

SENDER = "web-7f3a9c"
ORDER_ENTITY = [{"entity": "order_id", "value": "A-1234", "start": 19, "end": 25}]


def history() -> List[Any]:
    return [
        *user("hi there", "greet"),
        *bot("Hello! How can I help?"),
        *user("where is my order A-1234?", "order_status", entities=ORDER_ENTITY),
        *slots(order_id="A-1234"),
        *bot("Order A-1234 shipped yesterday.", action="action_order_status"),
        *slots(name="Jane Doe", email="jane@example.com"),
        *user("it did not arrive, I want to talk to a person", "human_handoff"),
    ]


def slot_events(result: Dict[str, Any]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}


def opened(result: Dict[str, Any]) -> state.Handoff:
    """The handoff the escalation stored."""
    handoff = state.Handoff.from_slot(slot_events(result).get(constants.SLOT_HANDOFF))
    assert handoff is not None, result
    return handoff


def conversation_of(result: Dict[str, Any]) -> str:
    return opened(result).conversation_id


def posted_texts(zendesk: Zendesk, result: Dict[str, Any]) -> List[str]:
    return [m["content"]["text"] for m in zendesk.conversation(conversation_of(result))["messages"]]


async def escalate(executor: ActionExecutor, turns: List[Any], sender: str = SENDER) -> Dict:
    """The user's turn: the notice, then the SunCo work (the follow-up run); its answer."""
    return await run_action(executor, constants.ACTION_HANDOFF, sender, turns)


async def test_escalation_calls_in_order_and_sets_the_slots(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    result = await escalate(executor, history())

    ops = zendesk.operations()
    assert ops[:2] == ["POST /users", "POST /conversations"]
    assert ops[-1] == "POST /conversations/{id}/passControl"
    assert set(ops[2:-1]) == {"POST /conversations/{id}/messages"}

    calls = zendesk.api_calls()
    assert calls[0]["body"] == {
        "externalId": SENDER,
        "profile": {"givenName": "Jane Doe", "email": "jane@example.com"},
    }
    assert calls[1]["body"]["type"] == "personal"
    assert calls[1]["body"]["participants"] == [{"userExternalId": SENDER}]
    metadata = calls[1]["body"]["metadata"]
    assert metadata[constants.CONVERSATION_SENDER_ID] == SENDER
    assert metadata[constants.CONVERSATION_INPUT_CHANNEL] == "socketio"

    handoff = opened(result)
    assert list(slot_events(result)) == [constants.SLOT_HANDOFF]
    assert handoff.state == state.WAITING and handoff.trigger == "explicit_request"
    assert handoff.agent_joined_at is None and handoff.end_reason is None
    assert responses(result) == ["utter_zendesk_handoff_started"]

    conversation = zendesk.conversation(handoff.conversation_id)
    assert conversation["participants"][0]["externalId"] == SENDER
    messages = conversation["messages"]
    # A short chat: the summary and the whole transcript fit in one message.
    assert len(messages) == len(ops) - 3 == 1
    [summary] = messages
    assert is_ours(summary["metadata"])
    assert summary["author"]["type"] == "business"
    assert summary["author"]["displayName"] == "Bot"
    text = summary["content"]["text"]
    # The summary comes first and says what the agent needs ...
    for expected in ("human_handoff", "order_status", "A-1234", "Jane Doe", "talk to a person"):
        assert expected in text.split("\n\n")[0], expected
    # ... then the transcript, top to bottom, each turn with its time and speaker.
    turns = [block for block in text.split("\n\n")[1:]]
    assert [re.sub(r"^\[[^]]+ UTC\] ", "", turn) for turn in turns] == [
        "User: hi there",
        "Bot: Hello! How can I help?",
        "User: where is my order A-1234?",
        "Bot: Order A-1234 shipped yesterday.",
        "User: it did not arrive, I want to talk to a person",
    ]

    # passControl: Agent Workspace, the ticket starts at the summary, flat and under 4 KB.
    pass_body = calls[-1]["body"]
    assert pass_body["switchboardIntegration"] == constants.AGENT_WORKSPACE
    metadata = pass_body["metadata"]
    assert metadata[FIRST_MESSAGE_ID] == summary["id"]
    assert metadata[REQUESTER_NAME] == "Jane Doe"
    assert metadata[REQUESTER_EMAIL] == "jane@example.com"
    # The link tag first (ticket webhooks find the conversation by it), then the action's.
    assert metadata[TAGS].split(",") == [
        f"rasa_zendesk_conversation_{conversation['id']}",
        "rasa_handoff",
        "explicit_request",
    ]
    assert 0 < len(metadata[SUBJECT]) <= 150
    assert all(isinstance(value, (str, int, float, bool)) for value in metadata.values())
    assert len(json.dumps(metadata).encode("utf-8")) < 4096
    assert conversation["agentStatus"] == "open"
    assert conversation["handoffMetadata"] == metadata


async def test_the_connector_s_routing_lands_the_ticket_with_its_group_and_fields(
    zendesk: Zendesk, executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENDESK_TICKET_FIELDS", "order_id=360001234567,email=360001234568")
    monkeypatch.setenv("ZENDESK_GROUP_BY_INTENT", "order_status=360000111")
    monkeypatch.setenv("ZENDESK_DEFAULT_GROUP", "360000999")
    result = await escalate(executor, history())
    metadata = zendesk.conversation(conversation_of(result))["handoffMetadata"]
    assert metadata["dataCapture.ticketField.360001234567"] == "A-1234"
    assert metadata["dataCapture.ticketField.360001234568"] == "jane@example.com"
    assert metadata["dataCapture.systemField.group_id"] == "360000111"  # the order question's


async def test_long_turns_are_cut_into_messages_of_at_most_4096_characters(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    long_user = " ".join(f"word{i}" for i in range(2500))  # about 20,000 characters
    long_bot = "x" * 9000  # no space to cut at
    turns = [
        *user(long_user, "nlu_fallback", confidence=0.2),
        *bot(long_bot, action="utter_default"),
        *user("a person please", "human_handoff"),
    ]
    result = await escalate(executor, turns)
    messages = zendesk.conversation(conversation_of(result))["messages"]

    texts = [m["content"]["text"] for m in messages]
    assert max(len(text) for text in texts) <= MAX_TEXT_LENGTH
    assert all(is_ours(m["metadata"]) for m in messages)
    assert all(m["author"]["type"] == "business" for m in messages)
    whole = " ".join(texts)
    assert "".join(long_user.split()) in "".join(whole.split())  # only whitespace lost
    assert "".join(re.findall(r"x{20,}", "".join(texts))) == long_bot  # nothing lost
    assert whole.rstrip().endswith("User: a person please")
    assert len(texts) <= math.ceil(len("\n\n".join(texts)) / MAX_TEXT_LENGTH)


@pytest.mark.parametrize("turn_count", [10, 50, 200])
async def test_escalation_calls_grow_with_the_size_of_the_chat_not_its_turns(
    zendesk: Zendesk, executor: ActionExecutor, turn_count: int
) -> None:
    """At most 3 + ceil(transcript size / 4096) calls, one after another: a 200-turn chat
    made 200 message posts before, while the user waited and the conversation was locked."""
    turns: List[Any] = []
    for i in range(turn_count // 2):
        turns += user(f"message {i}: my parcel still has not arrived, what now?", "inform")
        turns += bot(f"reply {i}: I am sorry to hear that, let me check.", "utter_check")
    turns += user("a human please", "human_handoff")

    result = await escalate(executor, turns)

    texts = posted_texts(zendesk, result)
    size = len("\n\n".join(texts))  # the summary and transcript, as one text
    assert len(zendesk.api_calls()) <= 3 + math.ceil(size / MAX_TEXT_LENGTH)
    assert max(len(text) for text in texts) <= MAX_TEXT_LENGTH
    said = re.findall(r"(?:User|Bot): (message|reply) (\d+):", "\n".join(texts))
    expected = [(kind, str(i)) for i in range(turn_count // 2) for kind in ("message", "reply")]
    assert said == expected  # every turn, once, in order
    # Turns are kept whole: each message ends where a turn ends.
    assert all(text.endswith(("what now?", "let me check.", "a human please")) for text in texts)


async def test_without_name_or_email_no_profile_and_no_requester(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns = [*user("human please", "human_handoff", channel="rest")]
    result = await escalate(executor, turns, sender="anon-1")
    assert responses(result) == ["utter_zendesk_handoff_started"]
    calls = zendesk.api_calls()
    assert calls[0]["body"] == {"externalId": "anon-1"}
    assert calls[1]["body"]["metadata"][constants.CONVERSATION_INPUT_CHANNEL] == "rest"
    metadata = calls[-1]["body"]["metadata"]
    assert REQUESTER_NAME not in metadata and REQUESTER_EMAIL not in metadata


async def test_existing_user_is_reused(zendesk: Zendesk, executor: ActionExecutor) -> None:
    first = await escalate(executor, history())
    second = await escalate(executor, history())
    ids = [conversation_of(r) for r in (first, second)]
    assert ids[0] != ids[1]  # each handoff gets a conversation (and a ticket) of its own
    state = zendesk.control("GET", "/state")
    assert [u["externalId"] for u in state["users"]] == [SENDER]
    user_calls = [c for c in zendesk.api_calls() if "/users" in c["path"]]
    assert [(c["method"], c["status"]) for c in user_calls] == [
        ("POST", 201),
        ("POST", 409),
        ("GET", 200),
    ]


async def test_already_in_a_handoff_opens_no_second_ticket(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns = [
        *handoff_opened("conv_1"),
        *user("agent!", "human_handoff"),
    ]
    result = await escalate(executor, turns)
    assert result["events"] == []
    assert responses(result) == ["utter_zendesk_handoff_started"]
    assert zendesk.api_calls() == []


async def test_the_user_is_told_before_any_call_to_zendesk(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    """The first run answers at once: the notice, and itself as the follow-up action."""
    first = await executor.run(action_call(constants.ACTION_HANDOFF, SENDER, history()))
    assert first is not None
    assert responses(first) == [constants.UTTER_CONNECTING]
    assert [(e["event"], e.get("name")) for e in first["events"]] == [
        ("followup", constants.ACTION_HANDOFF)
    ]
    assert zendesk.api_calls() == []
    # Rasa runs the follow-up in the same turn: the SunCo work, and the handoff's start.
    second = await executor.run(
        action_call(
            constants.ACTION_HANDOFF,
            SENDER,
            [*history(), *as_recorded(constants.ACTION_HANDOFF, first)],
        )
    )
    assert second is not None
    assert responses(second) == [constants.UTTER_HANDOFF_STARTED]
    assert opened(second).state == state.WAITING
    assert zendesk.operations()[-1] == "POST /conversations/{id}/passControl"


async def test_without_the_response_in_the_domain_the_notice_has_its_built_in_text(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    spec = copy.deepcopy(DOMAIN.as_dict())
    del spec["responses"][constants.UTTER_CONNECTING]
    call = action_call(constants.ACTION_HANDOFF, SENDER, history(), Domain.from_dict(spec))
    first = await executor.run(call)
    assert first is not None
    [notice] = first["responses"]
    assert notice["text"] == endings.BUILT_IN_TEXTS[constants.UTTER_CONNECTING]
    assert zendesk.api_calls() == []


@pytest.mark.parametrize(
    "before, told_first",
    [
        ([], False),
        # Another action (the author's) asked for the escalation as its follow-up.
        ([ActionExecuted("action_check_order"), FollowupAction(constants.ACTION_HANDOFF)], False),
        # The escalation's own first run did: this run is the work.
        (
            [
                ActionExecuted(constants.ACTION_HANDOFF),
                BotUttered("One moment"),
                FollowupAction(constants.ACTION_HANDOFF),
            ],
            True,
        ),
        # A first run of an earlier turn does not count.
        (
            [
                ActionExecuted(constants.ACTION_HANDOFF),
                FollowupAction(constants.ACTION_HANDOFF),
                *user("hello?", "greet"),
            ],
            False,
        ),
    ],
)
def test_the_follow_up_run_is_the_one_its_first_run_asked_for(
    before: List[Any], told_first: bool
) -> None:
    body = action_call(constants.ACTION_HANDOFF, SENDER, [*history(), *before])
    events = body["tracker"]["events"]
    assert asked_to_connect(events, constants.ACTION_HANDOFF) is told_first


@pytest.mark.parametrize(
    "failing",
    ["/passControl", "/conversations"],
    ids=["passControl", "create-conversation"],
)
async def test_sunco_failure_leaves_the_bot_in_charge(
    zendesk: Zendesk, executor: ActionExecutor, failing: str
) -> None:
    zendesk.fault(failing, status=500)
    result = await escalate(executor, history())

    assert result["events"] == []  # no slot: never a half-open handoff
    assert responses(result) == ["utter_zendesk_handoff_failed"]
    calls = zendesk.api_calls()
    failed = [c for c in calls if c["path"].endswith(failing)]
    assert len(failed) >= 2 and all(c["status"] == 500 for c in failed)  # retried, then gave up
    assert calls[-1] == failed[-1]  # nothing posted after it
    for conversation in zendesk.conversations():
        assert conversation["agentStatus"] != "open"  # no agent got a ticket
    if failing == "/conversations":
        assert zendesk.conversations() == []


async def test_timed_out_pass_control_is_released_again(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    """SunCo may have applied a passControl it never answered: give control back, post
    nothing more, and leave the bot in charge."""
    zendesk.fault("/passControl", hang=True)
    result = await escalate(executor, history())
    assert result["events"] == []
    assert responses(result) == ["utter_zendesk_handoff_failed"]
    ops = zendesk.operations()
    assert ops[-2:] == [
        "POST /conversations/{id}/passControl",
        "POST /conversations/{id}/releaseControl",
    ]


async def test_a_pass_control_the_action_deadline_cut_is_still_released(
    zendesk: Zendesk, executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The action's whole run has 2 s (each call alone would have 30): the hanging
    passControl ends with the run, and the release is tried all the same, in time of its own."""
    monkeypatch.setenv("ZENDESK_ACTION_DEADLINE", "2")
    monkeypatch.setenv("ZENDESK_REQUEST_TIMEOUT", "30")
    monkeypatch.setenv("ZENDESK_REQUEST_DEADLINE", "30")
    zendesk.fault("/passControl", hang=True)
    result = await escalate(executor, history())
    assert responses(result) == ["utter_zendesk_handoff_failed"]
    assert zendesk.operations()[-2:] == [
        "POST /conversations/{id}/passControl",
        "POST /conversations/{id}/releaseControl",
    ]


async def test_missing_settings_tell_the_user_and_log_no_secret(
    zendesk: Zendesk,
    executor: ActionExecutor,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("ZENDESK_APP_ID")
    result = await escalate(executor, history())
    assert result["events"] == []
    assert responses(result) == ["utter_zendesk_handoff_failed"]
    assert "ZENDESK_APP_ID" in caplog.text
    assert zendesk.api_calls() == []


async def test_failure_log_names_the_call_never_the_secret(
    zendesk: Zendesk, executor: ActionExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    zendesk.fault("/users", status=503)
    await escalate(executor, history())
    assert "POST /users" in caplog.text and "503" in caplog.text
    secret = zendesk.process.config.key_secret
    assert secret not in caplog.text


async def test_bot_integration_takes_control_first_when_configured(
    zendesk: Zendesk, configured: Callable[..., type]
) -> None:
    """An account whose default responder is not the bot: control to the bot first."""
    Handoff = configured(
        ActionZendeskHandoff,
        bot_switchboard_integration=zendesk.process.config.bot_integration_name,
        bot_display_name="Acme Assistant",
        tags=("rasa_handoff", "acme"),
    )
    executor = ActionExecutor()
    executor.register_action(Handoff)
    result = await escalate(executor, history())
    assert responses(result) == ["utter_zendesk_handoff_started"]
    calls = zendesk.api_calls()
    passes = [c for c in calls if c["path"].endswith("/passControl")]
    assert [c["body"]["switchboardIntegration"] for c in passes] == [
        Handoff.bot_switchboard_integration,
        constants.AGENT_WORKSPACE,
    ]
    assert _operation_index(calls, "/passControl") < _operation_index(calls, "/messages")
    assert passes[-1]["body"]["metadata"][TAGS].split(",")[1:3] == ["rasa_handoff", "acme"]
    first = zendesk.conversation(conversation_of(result))["messages"][0]
    assert first["author"]["displayName"] == "Acme Assistant"


def _operation_index(calls: List[Dict[str, Any]], suffix: str) -> int:
    return next(i for i, c in enumerate(calls) if c["path"].endswith(suffix))


async def test_client_is_shared_within_a_loop(zendesk: Zendesk) -> None:
    assert sunco_session.get_client() is sunco_session.get_client()


async def test_reason_recorded_by_the_policy_sets_subject_and_tag(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    detail = "negative sentiment -0.81 in the last message"
    turns = [
        *user("where is my refund", "order_status"),
        *bot("I could not find a refund.", action="action_refund"),
        *user("this is useless, I am so angry", "nlu_fallback", confidence=0.3),
        *slots(zendesk_handoff_reason={"kind": "frustration", "detail": detail}),
    ]
    result = await escalate(executor, turns)
    assert responses(result) == ["utter_zendesk_handoff_started"]
    metadata = zendesk.api_calls()[-1]["body"]["metadata"]
    assert metadata[TAGS].split(",")[1:] == ["rasa_handoff", "frustration"]
    assert metadata[SUBJECT] == "Chat handoff: the user seems frustrated"
    summary = posted_texts(zendesk, result)[0]
    assert f"frustration: {detail}" in summary


async def test_agent_turns_of_an_earlier_handoff_keep_the_agent_name(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    agent_reply = BotUttered(
        "Hi, Alex here. Your refund is on its way.",
        metadata={constants.EVENT_ZENDESK_AGENT_NAME: "Alex", "zendesk_message_id": "msg_9"},
    )
    turns = [*user("human please", "human_handoff"), *handoff_opened("conv_old")]
    turns += [*user("where is my refund?", "inform"), agent_reply]
    turns += [*handoff_closed(turns), *user("human again please", "human_handoff")]
    result = await escalate(executor, turns)
    [text] = posted_texts(zendesk, result)
    speakers = re.findall(r"\] ([^:]+): ", text)
    assert speakers == ["User", "User", "Agent Alex", "User"]


@pytest.fixture
async def unreadable_sunco(
    zendesk: Zendesk, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[List[str]]:
    """A server that answers every SunCo call 201 with a body the client cannot read."""
    seen: List[str] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path}")
        return web.json_response({"unexpected": True}, status=201)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    monkeypatch.setenv("ZENDESK_API_URL", f"http://127.0.0.1:{port}/sc")
    try:
        yield seen
    finally:
        await sunco_session.get_client().aclose()
        await runner.cleanup()


async def test_an_unreadable_answer_leaves_the_bot_in_charge(
    unreadable_sunco: List[str], executor: ActionExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    result = await escalate(executor, history())
    assert len(unreadable_sunco) == 1 and unreadable_sunco[0].endswith("/users")
    assert result["events"] == []
    assert responses(result) == ["utter_zendesk_handoff_failed"]
    assert "failed unexpectedly" in caplog.text


ONCE_SENDER = "web-exactly-once"


IMAGE = {"type": "image", "url": "https://cdn.example.com/u/photo.jpg", "name": "photo.jpg"}


async def run(executor: ActionExecutor, action: str, turns: List[Any]) -> Dict[str, Any]:
    return await run_action(executor, action, ONCE_SENDER, turns)


async def test_escalation_creates_one_conversation_and_posts_each_message_once(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    applied_then_500(zendesk, "/conversations", count=1)  # the first POST under it: creation
    applied_then_500(zendesk, "/messages")
    turns = [
        *user("hi there", "greet"),
        *bot("Hello! How can I help?"),
        *user("I want to talk to a person", "human_handoff"),
    ]

    result = await run(executor, constants.ACTION_HANDOFF, turns)

    assert responses(result) == ["utter_zendesk_handoff_started"]
    (conversation,) = zendesk.conversations()
    assert len(failed_posts(zendesk, "/conversations")) == 1
    posts = failed_posts(zendesk, "/messages")
    messages = conversation["messages"]
    assert len(messages) == len(posts)  # every POST was applied, none was sent twice
    assert_each_once(messages)
    assert "hi there" in "".join(m["content"]["text"] for m in messages)  # the transcript
    assert conversation["agentStatus"] == "open"  # and the handoff went through
    assert conversation["metadata"][constants.CONVERSATION_SENDER_ID] == ONCE_SENDER


TELEGRAM_SENDER = "telegram-5521"


@pytest.fixture
def eu(zendesk: Zendesk, monkeypatch: pytest.MonkeyPatch) -> Zendesk:
    """A named connector `eu` on the running emulator; the default one unreachable, so a
    call that goes to the wrong connector fails the test."""
    config = zendesk.process.config
    env = {
        "ZENDESK_CONNECTORS": "eu",
        "ZENDESK_CONNECTOR_EU_SUBDOMAIN": "acme-eu",
        "ZENDESK_CONNECTOR_EU_APP_ID": config.app_id,
        "ZENDESK_CONNECTOR_EU_KEY_ID": config.key_id,
        "ZENDESK_CONNECTOR_EU_KEY_SECRET": config.key_secret,
        "ZENDESK_CONNECTOR_EU_WEBHOOK_SECRET": "whsec_eu",
        "ZENDESK_CONNECTOR_EU_API_URL": zendesk.process.api_url,
        "ZENDESK_CONNECTOR_EU_TAGS": "brand_eu",
        "ZENDESK_API_URL": f"http://127.0.0.1:{free_port()}/sc",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return zendesk


def asking(channel: str = "telegram", **values: Any) -> List[Any]:
    return [*slots(**values), *user("I want a person", "human_handoff", channel=channel)]


async def test_the_slot_chooses_the_connector(eu: Zendesk, executor: ActionExecutor) -> None:
    result = await run_action(
        executor, constants.ACTION_HANDOFF, TELEGRAM_SENDER, asking(zendesk_connector="eu")
    )
    assert responses(result) == [constants.UTTER_HANDOFF_STARTED]
    handoff = opened(result)
    assert handoff.connector == "eu"
    conversation = eu.conversation(handoff.conversation_id)
    assert conversation["metadata"][constants.CONVERSATION_CONNECTOR] == "eu"
    tags = eu.api_calls()[-1]["body"]["metadata"][TAGS].split(",")
    assert tags[0] == f"rasa_zendesk_conversation_{handoff.conversation_id}"
    assert "brand_eu" in tags

    # The relay and the end go through the connector the handoff recorded.
    turns = [
        *asking(zendesk_connector="eu"),
        *[_slot(constants.SLOT_HANDOFF, handoff.as_slot())],
        *user("my order never came", "inform", channel="telegram"),
    ]
    relayed = await run_action(executor, constants.ACTION_RELAY, TELEGRAM_SENDER, turns)
    assert responses(relayed) == []
    texts = [m["content"].get("text") for m in eu.conversation(handoff.conversation_id)["messages"]]
    assert "my order never came" in texts
    await run_action(
        executor,
        constants.ACTION_END_HANDOFF,
        TELEGRAM_SENDER,
        [*turns, *user("/end", "end_handoff")],
    )
    released = [c for c in eu.api_calls() if c["path"].endswith("/releaseControl")]
    assert [c["body"]["metadata"][constants.END_REASON_KEY] for c in released] == ["user_ended"]
    assert handoff.conversation_id in released[0]["path"]


async def test_the_input_channel_rule_then_the_default(
    eu: Zendesk, executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENDESK_CONNECTOR_BY_CHANNEL", "telegram=eu")
    result = await run_action(
        executor, constants.ACTION_HANDOFF, TELEGRAM_SENDER, asking("telegram")
    )
    assert opened(result).connector == "eu"
    # Another channel gets the default connector, which is unreachable here: the user hears
    # that the handoff failed, and nothing is recorded.
    failed = await run_action(executor, constants.ACTION_HANDOFF, "web-1", asking("socketio"))
    assert responses(failed) == [constants.UTTER_HANDOFF_FAILED]
    assert not [e for e in failed["events"] if e.get("name") == constants.SLOT_HANDOFF]


async def test_a_connector_that_is_not_configured_fails_the_handoff_without_a_call(
    eu: Zendesk, executor: ActionExecutor
) -> None:
    before = len(eu.api_calls())
    result = await run_action(
        executor, constants.ACTION_HANDOFF, TELEGRAM_SENDER, asking(zendesk_connector="asia")
    )
    assert responses(result) == [constants.UTTER_HANDOFF_FAILED]
    assert len(eu.api_calls()) == before


def _slot(name: str, value: Any) -> Any:
    return slots(**{name: value})[0]


CUSTOMER = "cust-42"


async def test_a_known_customer_is_one_messaging_user_across_senders(
    zendesk: Zendesk, executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slot names the customer on one channel, the metadata of a channel the bot author
    trusts on another: one SunCo user, a conversation (and a handoff) per sender, each relay
    in its own."""
    monkeypatch.setenv("ZENDESK_EXTERNAL_ID_CHANNELS", "rest")
    web = await escalate(executor, [*slots(zendesk_external_id=CUSTOMER), *history()])
    metadata = {constants.SLOT_EXTERNAL_ID: f" {CUSTOMER} "}
    rest_turns = user("a person please", "human_handoff", metadata=metadata, channel="rest")
    rest = await escalate(executor, rest_turns, sender="rest-9b2e")
    assert slot_events(web) == {constants.SLOT_HANDOFF: opened(web).as_slot()}
    assert slot_events(rest)[constants.SLOT_EXTERNAL_ID] == CUSTOMER  # kept for next time

    users = [c["body"] for c in zendesk.api_calls() if c["path"].endswith("/users")]
    assert [body["externalId"] for body in users] == [CUSTOMER, CUSTOMER]
    assert [u["externalId"] for u in zendesk.control("GET", "/state")["users"]] == [CUSTOMER]
    assert opened(web).user_external_id == opened(rest).user_external_id == CUSTOMER
    assert conversation_of(web) != conversation_of(rest)
    for sender, result in (("web-7f3a9c", web), ("rest-9b2e", rest)):
        conversation = zendesk.conversation(conversation_of(result))
        assert conversation["participants"][0]["externalId"] == CUSTOMER
        assert conversation["metadata"][constants.CONVERSATION_SENDER_ID] == sender

    turns = [_slot(constants.SLOT_HANDOFF, opened(rest).as_slot())]
    turns += user("my card was charged twice", "inform", channel="rest")
    await run_action(executor, constants.ACTION_RELAY, "rest-9b2e", turns)
    [relayed] = [
        m
        for m in zendesk.conversation(conversation_of(rest))["messages"]
        if m["author"]["type"] == "user"
    ]
    assert relayed["content"]["text"] == "my card was charged twice"
    assert relayed["author"]["userId"] == zendesk.control("GET", "/state")["users"][0]["id"]
    web_texts = [
        m["content"]["text"] for m in zendesk.conversation(conversation_of(web))["messages"]
    ]
    assert "my card was charged twice" not in "\n".join(web_texts)


async def test_a_customer_id_in_metadata_is_ignored_on_a_channel_not_trusted_with_it(
    zendesk: Zendesk,
    executor: ActionExecutor,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A web page's `customData` is what the page says: naming someone else's id there must
    not make the agent see that customer (or their history). Only the listed channels'
    metadata counts; the slot, which the bot sets, always does."""
    monkeypatch.setenv("ZENDESK_EXTERNAL_ID_CHANNELS", "my_app.LoggedInInput")
    claimed = {constants.SLOT_EXTERNAL_ID: CUSTOMER}
    turns = user("a person please", "human_handoff", metadata=claimed, channel="socketio")
    result = await escalate(executor, turns, sender="web-claims")

    assert opened(result).user_external_id is None
    assert constants.SLOT_EXTERNAL_ID not in slot_events(result)
    [body] = [c["body"] for c in zendesk.api_calls() if c["path"].endswith("/users")]
    assert body["externalId"] == "web-claims"
    assert [u["externalId"] for u in zendesk.control("GET", "/state")["users"]] == ["web-claims"]
    assert any("ignored" in r.getMessage() and "socketio" in r.getMessage() for r in caplog.records)

    trusted = [*slots(zendesk_external_id=CUSTOMER), *turns]  # the bot's own slot
    assert opened(await escalate(executor, trusted, sender="web-2")).user_external_id == CUSTOMER


async def test_the_profile_s_locale_and_an_unusable_customer_id(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    domain = DOMAIN.merge(
        Domain.from_yaml(
            'version: "3.1"\nslots:\n  locale: {type: text, mappings: [{type: custom}]}'
        )
    )
    turns = [*slots(locale="fr-CA", zendesk_external_id="x" * 1025), *history()]
    result = await run_action(executor, constants.ACTION_HANDOFF, SENDER, turns, domain)
    assert opened(result).user_external_id is None  # too long for SunCo: the sender id
    body = zendesk.api_calls()[0]["body"]
    assert body["externalId"] == SENDER and body["profile"]["locale"] == "fr-CA"
    turns = [*slots(locale="not a locale!"), *history()]
    await run_action(executor, constants.ACTION_HANDOFF, "web-2", turns, domain)
    assert (
        "locale"
        not in [c for c in zendesk.api_calls() if c["path"].endswith("/users")][-1]["body"][
            "profile"
        ]
    )


@pytest.mark.parametrize(
    "slack_metadata, pinned",
    [
        (  # in a channel, in no thread: the agent starts one on the user's message
            {"out_channel": "C0SUPPORT", "thread_id": "1700000100.000200", "users": ["U0BOT"]},
            ("C0SUPPORT", "1700000100.000200"),
        ),
        (  # in a DM: the DM, no thread
            {"out_channel": "D0DIRECT", "thread_id": "1700000100.000200", "users": ["U0BOT"]},
            ("D0DIRECT", None),
        ),
    ],
)
async def test_a_slack_handoff_is_pinned_where_the_user_asked(
    zendesk: Zendesk,
    executor: ActionExecutor,
    slack_metadata: Dict[str, Any],
    pinned: Any,
) -> None:
    turns = [*user("human please", "human_handoff", metadata=slack_metadata, channel="slack")]
    result = await escalate(executor, turns, sender="U0USER")
    record = state.Handoff.from_slot(slot_events(result)[constants.SLOT_HANDOFF])
    assert record is not None
    assert (record.pinned_channel, record.pinned_thread) == pinned


async def test_a_handoff_elsewhere_is_pinned_nowhere(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    result = await escalate(executor, [*user("human please", "human_handoff")], sender="w-1")
    record = state.Handoff.from_slot(slot_events(result)[constants.SLOT_HANDOFF])
    assert record is not None
    assert (record.pinned_channel, record.pinned_thread) == (None, None)
