"""A plain `rasa init` bot wired as the README says, with real processes and the REST channel.

During a handoff the bot is silent: every message reaches the agent at once, whatever rasa
init's NLU makes of it. After every way a handoff ends, the bot starts afresh: "hello" gets
rasa init's greeting, "are you a bot?" its `utter_iamabot`, and nothing reaches Zendesk. One
stack serves every test; the timers run on the plugin's clock (`ZENDESK_CLOCK_FILE`), which the
tests move.

The example bot's rules hide what most bots do: a bot answers what its NLU does not understand
with Rasa's default fallback, whose rewind (`UserUtteranceReverted`) undoes the user's message;
`/back` (Rasa's `action_back`) rewinds two turns; and rasa init's NLU, trained on greetings and
moods, reads words meant for an agent as anything. None of it may revive a handoff that ended,
or end one that runs. The rewinds are caused on purpose (`/back`, and `/nlu_fallback`, which the
test bot's fallback rule answers; `testkit/rasa_init_bot.py`), never left to what a training
makes of gibberish; where the NLU reads ordinary words, the test accepts either reading.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from demo.stack import DemoStack
from rasa_zendesk.constants import SLOT_HANDOFF
from rasa_zendesk.handoff import state
from scripts import train_model
from testkit.clock_file import ClockFile
from testkit.emulator_control import EmulatorControl, user_texts, wait_for
from testkit.events_table import EventsTable
from testkit.ordinary_messages import ORDINARY_MESSAGES
from testkit.processes import running_stack
from testkit.rasa_init_bot import ensure_rasa_init_bot
from testkit.stack_users import emulator_of, tracker_of

pytestmark = pytest.mark.e2e

HANDOFF_STARTED = "connecting you with a human agent"
HANDOFF_ENDED = "back with the bot"
RELAY_FAILED = "didn't reach the agent"  # utter_zendesk_relay_failed
GREETING = "Hey! How are you?"  # rasa init's utter_greet
I_AM_A_BOT = "I am a bot, powered by Rasa."  # rasa init's utter_iamabot
AGENT_TIMEOUT = 600  # the default
IDLE_TIMEOUT = 1800
#: A message reaches the agent within this many seconds of being sent.
AT_ONCE = 2.0


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clock") / "offset"


@pytest.fixture(scope="module")
def init_stack(clock_file: Path) -> Iterator[DemoStack]:
    bot = ensure_rasa_init_bot()
    model = train_model.ensure_model(bot)
    env = {"ZENDESK_CLOCK_FILE": str(clock_file), "ZENDESK_IDLE_TIMEOUT": str(IDLE_TIMEOUT)}
    with running_stack(Path(model), "rasa-init-bot", bot_dir=bot, extra_env=env) as stack:
        yield stack


@pytest.fixture
def clock(clock_file: Path) -> Iterator[ClockFile]:
    """The plugin's clock, back to the real time after each test (a timer test moves it on)."""
    moved = ClockFile(clock_file)
    yield moved
    moved.advance(-moved.ahead)


@pytest.fixture
async def emulator(init_stack: DemoStack) -> AsyncIterator[EmulatorControl]:
    async with emulator_of(init_stack) as control:
        yield control


@pytest.fixture
def tracker(init_stack: DemoStack) -> EventsTable:
    return tracker_of(init_stack)


class RestUser:
    """A user of Rasa's REST channel (what `rasa init` enables): one request per message."""

    def __init__(self, rasa_url: str) -> None:
        self.sender = "rest-" + uuid.uuid4().hex[:12]
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.http = httpx.AsyncClient(timeout=60)

    async def say(self, text: str) -> List[str]:
        """Send `text`; the bot's answers to it."""
        answer = await self.http.post(self.url, json={"sender": self.sender, "message": text})
        assert answer.status_code == 200, answer.text
        return [message.get("text") or "" for message in answer.json()]

    async def close(self) -> None:
        await self.http.aclose()


@pytest.fixture
async def user(init_stack: DemoStack) -> AsyncIterator[RestUser]:
    rest = RestUser(init_stack.rasa_url)
    yield rest
    await rest.close()


async def hand_off(user: RestUser, emulator: EmulatorControl) -> Dict[str, Any]:
    """Ask for a human; the Zendesk conversation once Agent Workspace has it."""
    assert any(HANDOFF_STARTED in text for text in await user.say("I want to talk to a human"))
    return await wait_for(
        lambda: emulator.handed_off_conversation(user.sender), "the conversation with the agents"
    )


def replayed_slot(tracker: EventsTable, sender: str) -> Dict[str, Any]:
    """The handoff slot as Rasa replays the stored events: rewinds applied."""
    return replayed_slot_of(sender, tracker.events(sender))


def replayed_slot_of(sender: str, events: List[Dict[str, Any]]) -> Dict[str, Any]:
    domain = Domain.load(str(ensure_rasa_init_bot() / "domain.yml"))
    replayed = DialogueStateTracker.from_dict(sender, events, domain.slots)
    return replayed.get_slot(SLOT_HANDOFF)


def handoff_of(tracker: EventsTable, sender: str) -> state.Handoff:
    handoff = tracker.handoff(sender)
    assert handoff is not None
    return handoff


async def _ended(tracker: EventsTable, sender: str) -> Optional[state.Handoff]:
    handoff = tracker.handoff(sender)
    return handoff if handoff is not None and handoff.state == state.ENDED else None


@pytest.mark.timeout(600)
async def test_rewinds_after_the_hand_back_do_not_revive_the_handoff(
    user: RestUser, emulator: EmulatorControl, tracker: EventsTable
) -> None:
    conversation = await hand_off(user, emulator)
    assert await user.say("my parcel never arrived") == []  # to the agent: the bot is quiet
    await wait_for(
        lambda: emulator.has_user_message(user.sender, "my parcel never arrived"), "relayed"
    )
    await emulator.agent_message(conversation["id"], text="Hi, Alex here. All sorted now.")
    await wait_for(
        lambda: handoff_of(tracker, user.sender).state == state.AGENT_JOINED, "the agent joined"
    )
    await emulator.solve(conversation["id"])
    ended = await wait_for(lambda: _ended(tracker, user.sender), "the end of the handoff")
    # Closing the ticket sends Zendesk's ticket event (CLOSED) and Agent Workspace's release;
    # whichever arrives first ends the handoff, the other finds it over.
    assert ended.end_reason in (state.TICKET_CLOSED, state.TICKET_SOLVED)
    in_zendesk = len((await emulator.conversation_of(user.sender))["messages"])
    written = len(tracker.events(user.sender))

    # `/back` first: Rasa's action_back rewinds two turns, itself and "my parcel never
    # arrived", the turn after which the channel wrote the agent's message and the end. Then
    # Rasa's default fallback (its rewind undoes the message), and `/back` reaches back past
    # the end again; greetings, gibberish, more `/back`. Every message is the bot's again, none
    # reaches the solved conversation, and the state stays ended whatever Rasa's replay says.
    messages = ("/back", "/nlu_fallback", "/back", "hello", "asdkjh qwe zzz", "/back", "hi")
    for text in messages:
        answers = await user.say(text)
        assert not any(RELAY_FAILED in a for a in answers), (text, answers)
        conversation = await emulator.conversation_of(user.sender)
        assert len(conversation["messages"]) == in_zendesk, f"{text!r} reached Zendesk"
        handoff = handoff_of(tracker, user.sender)
        assert handoff.state == state.ENDED and handoff.end_reason == ended.end_reason, text
    assert any(GREETING in a for a in await user.say("hello")), "the bot answers by itself"

    # The case under test happened: right after its rewinds, Rasa's replay of the stored
    # events (what a new session would carry over) had lost the end each time a rewind reached
    # back past the fresh session that followed it (Rasa replays a session from its start, and
    # a rewind with no user turn left in it undoes the slots carried over): the first `/back`,
    # the fallback's rewind after it (the policy's repair came with the message it rewound),
    # and the next `/back`. Whatever the NLU made of the gibberish, the last `/back` stops at
    # the policy's repair that came with "hello". The policy set the slot right in each next
    # turn, and it is right now.
    rewound = replays_after_rewinds(user.sender, tracker.events(user.sender), written)
    assert "/nlu_fallback" in [turn for turn, _ in rewound], "Rasa's default fallback rewound"
    lost = [turn for turn, replay in rewound if (replay or {}).get("state") != state.ENDED]
    assert lost == ["/back", "/nlu_fallback", "/back"], rewound
    assert replayed_slot(tracker, user.sender) == ended.as_slot()


def replays_after_rewinds(
    sender: str, events: List[Dict[str, Any]], first: int
) -> List[Tuple[str, Any]]:
    """For each turn from `events[first]` on that rewound: its message, and the handoff slot
    as Rasa replays the stored events up to its last rewind."""
    found: List[Tuple[str, Any]] = []
    turn = ""
    for index in range(first, len(events)):
        event = events[index].get("event")
        following = events[index + 1].get("event") if index + 1 < len(events) else None
        if event == "user":
            turn = events[index].get("text") or ""
        elif event == "rewind" and following != "rewind":
            found.append((turn, replayed_slot_of(sender, events[: index + 1])))
    return found


@pytest.mark.timeout(600)
async def test_during_a_handoff_every_message_reaches_the_agent_at_once_and_the_bot_is_silent(
    user: RestUser, emulator: EmulatorControl, tracker: EventsTable
) -> None:
    conversation = await hand_off(user, emulator)
    sent: List[str] = []
    took: Dict[str, float] = {}
    for text in (*ORDINARY_MESSAGES, "/back", "/nlu_fallback", "asdkjh qwe zzz"):
        started = time.monotonic()
        answers = await user.say(text)
        assert answers == [], (text, answers)  # the bot says nothing, asks nothing
        sent.append(text)
        await wait_for(
            lambda: _all_relayed(emulator, user.sender, sent), f"{text!r} at the agent", AT_ONCE
        )
        took[text] = time.monotonic() - started
        handoff = handoff_of(tracker, user.sender)
        assert handoff.active and handoff.conversation_id == conversation["id"], text
    assert len(sent) >= 40
    assert max(took.values()) <= AT_ONCE, took

    # Only a gesture ends it: `/end`.
    answers = await user.say("/end")
    assert any(HANDOFF_ENDED in answer for answer in answers), answers
    handoff = handoff_of(tracker, user.sender)
    assert handoff.state == state.ENDED and handoff.end_reason == state.USER_ENDED
    assert await _all_relayed(emulator, user.sender, sent) == sent  # once each, in order
    await wait_for(
        lambda: _released(emulator, user.sender), "control released in Zendesk", timeout=30
    )


async def _all_relayed(
    emulator: EmulatorControl, sender: str, sent: List[str]
) -> Optional[List[str]]:
    """The user's messages in Zendesk, once every one of `sent` is there (and nothing else)."""
    conversation = await emulator.conversation_of(sender)
    texts = user_texts(conversation) if conversation else []
    return texts if texts == sent else None


# --- after every end, the bot starts afresh ---------------------------------------------------


async def agent_releases(stack: DemoStack, conversation: Dict[str, Any]) -> None:
    """The agent gives the conversation back in Agent Workspace (releaseControl, no reason)."""
    credentials = stack.config.credentials
    url = (
        f"{stack.emulator_url}/sc/v2/apps/{credentials.app_id}/conversations/"
        f"{conversation['id']}/releaseControl"
    )
    auth = (credentials.key_id, credentials.key_secret)
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(url, json={}, auth=auth)
    assert answer.status_code == 200, answer.text


@dataclass
class Scene:
    """A user in a handoff on the shared stack, and what a test ends it with."""

    stack: DemoStack
    user: RestUser
    emulator: EmulatorControl
    conversation: Dict[str, Any]
    clock: ClockFile
    tracker: EventsTable


#: What ends it; what the user got in answer to it (REST: the Rasa server's ends are handed
#: out with the answer to the user's next message).
Ending = Callable[[Scene], Awaitable[List[str]]]


async def by_release(scene: Scene) -> List[str]:
    await agent_releases(scene.stack, scene.conversation)
    return []


async def by_ticket_solved(scene: Scene) -> List[str]:
    await scene.emulator.set_ticket_status(scene.conversation["id"], "solved")
    return []


async def by_email(scene: Scene) -> List[str]:
    await scene.emulator.solve(scene.conversation["id"], reason="transferToEmail")
    return []


async def by_end(scene: Scene) -> List[str]:
    return await scene.user.say("/end")


async def by_restart(scene: Scene) -> List[str]:
    return await scene.user.say("/restart")


async def by_agent_timeout(scene: Scene) -> List[str]:
    """No agent came in time; the user chooses to go back to the bot (`/bot`)."""
    scene.clock.advance(AGENT_TIMEOUT + 5)
    await wait_for(
        lambda: handoff_of(scene.tracker, scene.user.sender).agent_timeout_offered_at,
        "the agent timeout",
    )
    return await scene.user.say("/bot")  # the offer, handed out (REST), then the end


async def by_idle_timeout(scene: Scene) -> List[str]:
    """An agent joined; then nobody wrote for `idle_timeout`."""
    await scene.emulator.agent_message(scene.conversation["id"], text="Hi, Alex here.")
    await wait_for(
        lambda: handoff_of(scene.tracker, scene.user.sender).state == state.AGENT_JOINED,
        "the agent joined",
    )
    scene.clock.advance(IDLE_TIMEOUT + 5)
    return []


ENDINGS: List[Tuple[str, Ending]] = [
    (state.AGENT_RELEASED, by_release),
    (state.TICKET_SOLVED, by_ticket_solved),
    (state.TRANSFER_TO_EMAIL, by_email),
    (state.USER_ENDED, by_end),
    (state.RESTART, by_restart),
    (state.AGENT_TIMEOUT, by_agent_timeout),
    (state.IDLE_TIMEOUT, by_idle_timeout),
]


def last_record(tracker: EventsTable, sender: str) -> Optional[state.Handoff]:
    """The newest record written, also across a restart (which forgets the slot)."""
    written = list(state.records(tracker.events(sender)))
    return written[-1] if written else None


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("reason", "end"), ENDINGS, ids=[reason for reason, _ in ENDINGS])
async def test_after_each_end_the_bot_starts_afresh(
    init_stack: DemoStack,
    user: RestUser,
    emulator: EmulatorControl,
    tracker: EventsTable,
    clock: ClockFile,
    reason: str,
    end: Ending,
) -> None:
    conversation = await hand_off(user, emulator)
    assert await user.say("my parcel never arrived") == []
    await wait_for(
        lambda: emulator.has_user_message(user.sender, "my parcel never arrived"), "relayed"
    )
    told = await end(Scene(init_stack, user, emulator, conversation, clock, tracker))
    ended = await wait_for(
        lambda: (lambda r: r if r and r.state == state.ENDED else None)(
            last_record(tracker, user.sender)
        ),
        "the end of the handoff",
    )
    assert ended.end_reason == reason
    events = tracker.events(user.sender)
    if reason != state.RESTART:  # a new session after the end, carrying the record over
        kinds = [event.get("event") for event in events]
        started = len(kinds) - 1 - kinds[::-1].index("session_started")
        assert state.current(events[started:]) == ended, events[started:]
    in_zendesk = len((await emulator.conversation_of(user.sender))["messages"])
    posted = len(await emulator.requests("/messages"))

    answers = await user.say("hello")
    assert any(GREETING in answer for answer in answers), (reason, answers)
    told += answers  # with it, what the user's channel could not take when it happened
    if reason == state.RESTART:  # Rasa's restart says nothing of its own
        assert not any(HANDOFF_ENDED in text for text in told), told
    else:
        notice = "by email" if reason == state.TRANSFER_TO_EMAIL else HANDOFF_ENDED
        assert len([text for text in told if notice in text]) == 1, (reason, told)
    answers = await user.say("are you a bot?")
    assert any(I_AM_A_BOT in answer for answer in answers), (reason, answers)

    assert len((await emulator.conversation_of(user.sender))["messages"]) == in_zendesk
    assert len(await emulator.requests("/messages")) == posted, "nothing forwarded to SunCo"
    assert last_record(tracker, user.sender) == ended


async def _released(emulator: EmulatorControl, sender: str) -> bool:
    conversation = await emulator.conversation_of(sender)
    return bool(conversation) and conversation.get("agentStatus") != "open"
