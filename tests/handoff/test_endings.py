"""The table of endings (`rasa_zendesk.handoff.endings`), and every end path of both servers
against it: whichever server ends a handoff, for whichever reason, the user reads what the
reason's row says (the domain's response; the built-in sentence when the domain lacks it;
`handoff_ended_text` when set) and the same follow-up runs (`after_handoff_action`, Rasa's
restart, or nothing).

The Rasa server's paths run its real handlers and write path on an in-memory tracker store;
the action server's run the real actions in rasa-sdk's executor against the emulator.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, Event, SessionStarted, SlotSet
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.actions import (
    ActionZendeskEndHandoff,
    ActionZendeskHandoff,
    ActionZendeskLeaveMessage,
    ActionZendeskRelay,
    sunco_session,
)
from rasa_zendesk.channel.processor import WebhookProcessor
from rasa_zendesk.emulator.testing import EmulatorProcess
from rasa_zendesk.handoff import endings, offer, state
from rasa_zendesk.settings import HandoffSettings, Sources
from rasa_zendesk.sunco.webhooks import parse_event
from rasa_zendesk.tickets.events import StatusChanged
from rasa_zendesk.tickets.link import link_tag
from testkit.action_calls import DOMAIN, PLUGIN_DOMAIN, emulator_env, run_action, user
from testkit.channel_harness import pass_control_webhook, release_webhook
from testkit.in_memory_rasa import in_memory_rasa

pytestmark = pytest.mark.timeout(60)

AFTER = "utter_ask_feedback"
ENDED_TEXT = "Bye from the handoff settings"
EMAIL = "jane@example.com"
WITH_AFTER = Domain.from_yaml(
    'version: "3.1"\nresponses:\n  utter_ask_feedback: [{text: "How was it?"}]'
).merge(DOMAIN)
BOT = {"id": "sbi_bot", "name": "rasa", "integrationId": "int_rasa", "integrationType": "custom"}


# --- the table ------------------------------------------------------------------------------

#: The table as a contract: reason -> (response, releases, has a note, what follows).
EXPECTED = {
    state.AGENT_RELEASED: (constants.UTTER_HANDOFF_ENDED, False, False, endings.AFTER_HANDOFF),
    state.TICKET_CLOSED: (constants.UTTER_HANDOFF_ENDED, False, False, endings.AFTER_HANDOFF),
    state.TICKET_SOLVED: (constants.UTTER_HANDOFF_ENDED, False, False, endings.AFTER_HANDOFF),
    state.TRANSFER_TO_EMAIL: (
        constants.UTTER_TRANSFERRED_TO_EMAIL,
        False,
        False,
        endings.AFTER_HANDOFF,
    ),
    state.USER_ENDED: (constants.UTTER_HANDOFF_ENDED, True, True, endings.AFTER_HANDOFF),
    state.AGENT_TIMEOUT: (constants.UTTER_HANDOFF_ENDED, True, True, endings.AFTER_HANDOFF),
    state.IDLE_TIMEOUT: (constants.UTTER_HANDOFF_ENDED, True, False, endings.AFTER_HANDOFF),
    state.MAX_DURATION: (constants.UTTER_HANDOFF_ENDED, True, False, endings.AFTER_HANDOFF),
    state.CONVERSATION_GONE: (constants.UTTER_HANDOFF_ENDED, False, False, endings.NEW_SESSION),
    state.RESTART: (None, True, True, endings.RESTART),
    state.LEFT_MESSAGE: (constants.UTTER_MESSAGE_TAKEN, False, False, endings.NEW_SESSION),
    state.FAILED: (constants.UTTER_HANDOFF_ENDED, True, False, endings.NEW_SESSION),
}


def test_every_end_reason_has_exactly_its_row() -> None:
    assert list(endings.ENDINGS) == list(state.END_REASONS)
    assert {reason: endings.ending_for(reason).reason for reason in state.END_REASONS} == {
        reason: reason for reason in state.END_REASONS
    }


@pytest.mark.parametrize("reason", state.END_REASONS)
def test_each_row_says_what_the_user_zendesk_and_the_bot_get(reason: str) -> None:
    row = endings.ending_for(reason)
    assert (row.response, row.releases, row.agent_note is not None, row.then) == EXPECTED[reason]


def test_a_note_is_only_read_before_a_release() -> None:
    notes = endings.agent_notes()
    assert set(notes) == {state.USER_ENDED, state.AGENT_TIMEOUT, state.RESTART}
    assert all(endings.ending_for(reason).releases for reason in notes)
    assert notes[state.USER_ENDED] == "The customer ended the chat and is back with the bot."


def test_every_response_of_an_end_is_shipped_and_built_in_with_the_same_placeholders() -> None:
    shipped = Domain.load(str(PLUGIN_DOMAIN)).responses
    for row in endings.ENDINGS.values():
        if row.response is None:
            continue
        domain_text = shipped[row.response][0]["text"]
        assert placeholders(endings.BUILT_IN_TEXTS[row.response]) == placeholders(domain_text)


def placeholders(text: str) -> set:
    return set(re.findall(r"{(\w+)}", text))


def test_the_words_the_configured_text_else_the_domain_else_built_in() -> None:
    plain, configured = HandoffSettings(), HandoffSettings(handoff_ended_text=ENDED_TEXT)
    ended, email = endings.ending_for(state.USER_ENDED), endings.ending_for(state.TRANSFER_TO_EMAIL)

    assert ended.wording(plain, True) == endings.Wording(constants.UTTER_HANDOFF_ENDED)
    assert ended.wording(configured, True) == endings.Wording(
        constants.UTTER_HANDOFF_ENDED, ENDED_TEXT
    )
    assert ended.wording(plain, False) == endings.Wording(
        constants.UTTER_HANDOFF_ENDED, endings.BUILT_IN_TEXTS[constants.UTTER_HANDOFF_ENDED]
    )
    # handoff_ended_text rewords the usual notice only, never the move to email.
    assert email.wording(configured, True) == endings.Wording(constants.UTTER_TRANSFERRED_TO_EMAIL)
    built_in = email.wording(configured, False, email=EMAIL)
    assert built_in is not None and f"by email ({EMAIL})" in (built_in.text or "")
    assert endings.ending_for(state.RESTART).wording(configured, True) is None


def test_what_follows() -> None:
    after, plain = HandoffSettings(after_handoff_action=AFTER), HandoffSettings()
    ended, restart = endings.ending_for(state.USER_ENDED), endings.ending_for(state.RESTART)
    assert ended.fresh_session and ended.follow_up(after) == AFTER
    assert ended.then_run(after) == ("action_session_start", AFTER)
    assert ended.follow_up(plain) is None and ended.then_run(plain) == ("action_session_start",)
    # Rasa's restart forgets everything; Rasa starts the next session itself.
    assert not restart.fresh_session and restart.then_run(after) == ("action_restart",)
    for reason in (state.LEFT_MESSAGE, state.CONVERSATION_GONE, state.FAILED):
        row = endings.ending_for(reason)
        assert row.fresh_session and row.follow_up(after) is None
        assert row.then_run(after) == ("action_session_start",)


def test_every_end_but_a_restart_starts_a_fresh_session() -> None:
    fresh = {reason for reason, row in endings.ENDINGS.items() if row.fresh_session}
    assert fresh == set(state.END_REASONS) - {state.RESTART}


def test_the_release_says_why() -> None:
    assert endings.release_metadata(state.IDLE_TIMEOUT) == {
        "rasa_zendesk_end_reason": "idle_timeout"
    }


def test_the_ended_text_is_one_setting_of_both_servers() -> None:
    credentials = {"handoff_ended_text": "From credentials"}
    assert HandoffSettings.read(Sources(credentials, {})).handoff_ended_text == "From credentials"
    env = {"ZENDESK_HANDOFF_ENDED_TEXT": "From the environment"}
    assert HandoffSettings.read(Sources(None, env)).handoff_ended_text == "From the environment"
    assert HandoffSettings.read(Sources(None, {})).handoff_ended_text is None


# --- every path of both servers -------------------------------------------------------------


@dataclass
class Ended:
    """What a path did: the user's notice (its text), the follow-ups it ran (the Rasa
    server's actions; the action server's `FollowupAction`), the end reason stored, what
    Zendesk was told (releases' metadata), and whether a session started after the end,
    carrying the ended record over (`fresh`)."""

    notice: Optional[str]
    follow_ups: List[str]
    reason: Optional[str]
    releases: List[Dict[str, Any]] = field(default_factory=list)
    fresh: bool = False
    #: The slot `zendesk_handoff_outcome` as the bot sees it after the end (the new
    #: session's value when one started), and the ended record it must describe.
    outcome: Any = None
    record: Optional[state.Handoff] = None


@dataclass
class Case:
    """How the bot is set up: its domain and the handoff settings' environment."""

    domain: Domain
    env: Dict[str, str]


# Rasa server: its handlers and write path on an in-memory store.


RasaPath = Callable[[WebhookProcessor, Any, str, str], Awaitable[Any]]


async def on_rasa(case: Case, path: RasaPath, env: Dict[str, str]) -> Ended:
    server = await in_memory_rasa(case.domain, {**case.env, **env})
    await path(server.processor, server.rasa, server.sender_id, server.conversation_id)
    events, record = list((await server.tracker()).events), await server.record()
    started = [i for i, event in enumerate(events) if isinstance(event, SessionStarted)]
    ended_in = events[: started[-1]] if len(started) > 1 else events  # the first: the harness's
    said = [event for event in ended_in if isinstance(event, BotUttered)]
    return Ended(
        said[-1].text if said else None,
        server.follow_ups.ran,
        record.end_reason if record else None,
        server.directory.released,
        fresh=len(started) > 1 and state.current(ended_in) == record,
        outcome=(await server.tracker()).get_slot(constants.SLOT_HANDOFF_OUTCOME),
        record=record,
    )


def webhook(build: Callable[..., Dict[str, Any]], *args: Any, reason: Optional[str]) -> RasaPath:
    async def post(processor: WebhookProcessor, rasa: Any, sender: str, conversation: str) -> Any:
        envelope = build(conversation, sender, *args)
        payload = envelope["events"][0]["payload"]
        payload.pop("reason", None)
        if reason:
            payload["reason"] = reason
        result = await processor.apply(parse_event(envelope["events"][0]), rasa)
        assert result.applied, result

    return post


def ticket(status: str) -> RasaPath:
    async def post(processor: WebhookProcessor, rasa: Any, sender: str, conversation: str) -> Any:
        change = StatusChanged.parse_obj(
            {
                "id": f"ticket-event-{status}",
                "detail": {"id": "4711", "status": status, "tags": [link_tag(conversation)]},
                "event": {"previous": "OPEN", "current": status},
            }
        )
        assert (await processor.ticket_status(change, rasa)).applied

    return post


async def timers(processor: WebhookProcessor, rasa: Any, sender: str, conversation: str) -> Any:
    assert await processor.fire_timers(rasa, sender) is None  # it fired, and ended it


async def timers_gave_up(
    processor: WebhookProcessor, rasa: Any, sender: str, conversation: str
) -> Any:
    """The timers' tries could not reach the user (`channel.timers.loop`)."""
    await processor.give_up_timers(rasa, sender)


# Action server: the actions in rasa-sdk's executor, against the emulator.


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as process:
        yield process


@dataclass(frozen=True)
class ActionPath:
    """An action run on a history: after a real escalation into the emulator (`escalated`;
    `offered`: no agent came and the user was offered the choices), or after `before`."""

    action: str
    then: List[Event]
    escalated: bool = True
    offered: bool = False
    before: List[Event] = field(default_factory=list)


def gesture(text: str, intent: str, offered: bool = False) -> ActionPath:
    return ActionPath(constants.ACTION_END_HANDOFF, user(text, intent), offered=offered)


#: A conversation the emulator does not have: the relay's post gets 404.
GONE = ActionPath(
    constants.ACTION_RELAY,
    user("hello?", "greet"),
    escalated=False,
    before=[SlotSet(constants.SLOT_HANDOFF, state.opened("0123456789abcdef0123ffff").as_slot())],
)
LEFT = ActionPath(
    constants.ACTION_LEAVE_MESSAGE,
    user("/leave_message", "leave_message"),
    escalated=False,
    before=[
        SlotSet("email", EMAIL),
        SlotSet(constants.SLOT_OFFER, offer.offered("holiday", None, "default").as_slot()),
    ],
)


async def on_actions(
    case: Case, path: ActionPath, env: Dict[str, str], emulator: EmulatorProcess
) -> Ended:
    emulator.control("POST", "/reset")
    executor = ActionExecutor()
    for action in (
        ActionZendeskHandoff,
        ActionZendeskEndHandoff,
        ActionZendeskRelay,
        ActionZendeskLeaveMessage,
    ):
        executor.register_action(action)
    sender = "web-endings"
    turns = [*path.before, *user("I want a human", "human_handoff")]
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**emulator_env(emulator), **case.env, **env}.items():
            patch.setenv(name, value)
        try:
            if path.escalated:
                opened = await run_action(executor, constants.ACTION_HANDOFF, sender, turns)
                running = state.Handoff.from_slot(opened["events"][0]["value"])
                assert running is not None
                if path.offered:
                    running = state.agent_timed_out(running)
                turns.append(SlotSet(constants.SLOT_HANDOFF, running.as_slot()))
            turns += path.then
            result = await run_action(executor, path.action, sender, turns, case.domain)
        finally:
            await sunco_session.get_client().aclose()
    said = [told_text(message, case.domain) for message in result["responses"]]
    records = [e["value"] for e in result["events"] if e.get("name") == constants.SLOT_HANDOFF]
    record = state.Handoff.from_slot(records[-1]) if records else None
    releases = [
        call["body"].get("metadata")
        for call in emulator.control("GET", "/requests")["requests"]
        if call["path"].endswith("/releaseControl")
    ]
    if releases:  # given back for real: no agent has it any more
        [conversation] = emulator.control("GET", "/state")["conversations"]
        assert conversation["agentStatus"] != "open"
        notes = [m["content"].get("text") for m in conversation["messages"]]
        assert record is not None and record.end_reason is not None
        assert ActionZendeskEndHandoff.agent_notes[record.end_reason] in notes
    kinds = [event["event"] for event in result["events"]]
    fresh = "session_started" in kinds
    outcomes = [e for e in result["events"] if e.get("name") == constants.SLOT_HANDOFF_OUTCOME]
    if fresh:  # the record carried over, then listening, as Rasa's action_session_start does
        start = kinds.index("session_started")
        carried = [e for e in result["events"][start:] if e.get("name") == constants.SLOT_HANDOFF]
        assert [e["value"] for e in carried] == [records[0]], result["events"]
        kept = [e for e in result["events"][start:] if e in outcomes]
        assert kept and kept[-1] == outcomes[0], result["events"]
        assert "action_listen" in [e.get("name") for e in result["events"][start:]]
    return Ended(
        said[-1] if said else None,
        [e["name"] for e in result["events"] if e["event"] == "followup"],
        record.end_reason if record else None,
        releases,
        fresh,
        outcomes[-1]["value"] if outcomes else None,
        record,
    )


def told_text(message: Dict[str, Any], domain: Domain) -> str:
    """What the user reads of an action's message: Rasa fills a response from the domain."""
    if message.get("response"):
        values = {k: v for k, v in message.items() if k not in ("response", "text")}
        return domain.responses[message["response"]][0]["text"].format(**values)
    return message["text"]


#: Every path that ends a handoff: (reason, server, how), with its own settings.
PATHS: List[Tuple[str, str, Any, Dict[str, str]]] = [
    (state.AGENT_RELEASED, "rasa", webhook(release_webhook, reason=None), {}),
    (state.TICKET_CLOSED, "rasa", webhook(release_webhook, reason="ticketClosed"), {}),
    (
        state.TICKET_CLOSED,
        "rasa",
        webhook(pass_control_webhook, BOT, None, reason="ticketClosed"),
        {},
    ),
    (state.TRANSFER_TO_EMAIL, "rasa", webhook(release_webhook, reason="transferToEmail"), {}),
    (state.TICKET_SOLVED, "rasa", ticket("SOLVED"), {}),
    (state.TICKET_SOLVED, "rasa", ticket("CLOSED"), {}),
    (
        state.IDLE_TIMEOUT,
        "rasa",
        timers,
        {"ZENDESK_AGENT_TIMEOUT": "0", "ZENDESK_IDLE_TIMEOUT": "1800"},
    ),
    (
        state.MAX_DURATION,
        "rasa",
        timers,
        {"ZENDESK_AGENT_TIMEOUT": "0", "ZENDESK_MAX_DURATION": "7200"},
    ),
    (state.FAILED, "rasa", timers_gave_up, {}),
    (state.USER_ENDED, "actions", gesture("/end", "end_handoff"), {}),
    (state.USER_ENDED, "actions", gesture("/end_handoff", "end_handoff"), {}),
    (state.AGENT_TIMEOUT, "actions", gesture("/bot", "inform", offered=True), {}),
    (state.RESTART, "actions", gesture("/restart", "restart"), {}),
    (state.CONVERSATION_GONE, "actions", GONE, {}),
    (state.LEFT_MESSAGE, "actions", LEFT, {}),
]
NOTICES = ("domain", "built_in", "handoff_ended_text")


def case_of(notice: str, response: Optional[str]) -> Case:
    env = {"ZENDESK_AFTER_HANDOFF_ACTION": AFTER}
    if notice == "handoff_ended_text":
        env["ZENDESK_HANDOFF_ENDED_TEXT"] = ENDED_TEXT
    domain = WITH_AFTER
    if notice == "built_in" and response is not None:
        data = copy.deepcopy(domain.as_dict())
        del data["responses"][response]
        domain = Domain.from_dict(data)
    return Case(domain, env)


def expected_notice(reason: str, notice: str) -> Optional[str]:
    row = endings.ending_for(reason)
    if row.response is None:
        return None
    values = {"email": EMAIL if reason == state.LEFT_MESSAGE else endings.UNKNOWN_EMAIL}
    if notice == "handoff_ended_text" and row.response == constants.UTTER_HANDOFF_ENDED:
        return ENDED_TEXT
    if notice == "built_in":
        return endings.BUILT_IN_TEXTS[row.response].format(**values)
    return WITH_AFTER.responses[row.response][0]["text"].format(**values)


def test_every_reason_has_a_path() -> None:
    produced = {reason for reason, *_ in PATHS}
    assert produced == set(state.END_REASONS)


@pytest.mark.parametrize("notice", NOTICES)
@pytest.mark.parametrize(
    ("reason", "server", "path", "env"),
    PATHS,
    ids=[f"{reason}-{server}-{index}" for index, (reason, server, *_) in enumerate(PATHS)],
)
async def test_every_path_tells_the_user_and_follows_up_as_its_row_says(
    reason: str,
    server: str,
    path: Any,
    env: Dict[str, str],
    notice: str,
    request: pytest.FixtureRequest,
) -> None:
    row = endings.ending_for(reason)
    case = case_of(notice, row.response)
    if server == "rasa":
        ended = await on_rasa(case, path, env)
    else:
        ended = await on_actions(case, path, env, request.getfixturevalue("emulator"))

    assert ended.reason == reason
    assert ended.notice == expected_notice(reason, notice)
    settings = HandoffSettings(after_handoff_action=AFTER)
    follow_up = row.follow_up(settings)
    if server == "rasa":  # it runs the session start itself, as Rasa does
        assert ended.follow_ups == list(row.then_run(settings))
    else:  # its events start the session; Rasa runs the follow-up
        assert ended.follow_ups == ([follow_up] if follow_up else [])
    assert ended.fresh == row.fresh_session
    assert ended.releases == ([endings.release_metadata(reason)] if row.releases else [])
    assert ended.record is not None and ended.outcome == endings.outcome(ended.record)
    assert ended.outcome["reason"] == reason


def test_the_outcome_says_how_it_ended_who_answered_and_how_long_it_took() -> None:
    opened = state.opened("conv-1", trigger="frustration", at=1000.0)
    joined = state.agent_joined(opened, "Alex", at=1042.5)
    ticketed = state.ticket_changed(joined, "4711", "solved")
    assert endings.outcome(state.ended(ticketed, state.TICKET_SOLVED, at=1600.0)) == {
        "reason": state.TICKET_SOLVED,
        "handoff_id": opened.id,
        "ticket_id": "4711",
        "ticket_status": "solved",
        "agent_name": "Alex",
        "wait_seconds": 42.5,
        "duration_seconds": 600.0,
    }
    nobody = endings.outcome(state.ended(opened, state.AGENT_TIMEOUT, at=1600.0))
    assert nobody["agent_name"] is None and nobody["ticket_id"] is None
    assert nobody["wait_seconds"] == nobody["duration_seconds"] == 600.0
    with pytest.raises(ValueError):
        endings.outcome(opened)


async def test_the_rasa_server_keeps_the_outcome_when_the_bot_carries_no_slots_over() -> None:
    data = copy.deepcopy(WITH_AFTER.as_dict())
    data["session_config"] = {"carry_over_slots_to_new_session": False}
    case = Case(Domain.from_dict(data), {})
    ended = await on_rasa(case, webhook(release_webhook, reason="transferToEmail"), {})
    assert ended.fresh and ended.reason == state.TRANSFER_TO_EMAIL
    assert ended.record is not None and ended.outcome == endings.outcome(ended.record)
