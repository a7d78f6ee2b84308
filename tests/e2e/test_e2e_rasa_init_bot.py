"""A plain `rasa init` bot wired as the README says, with real processes and the REST channel.

The example bot's rules hide what most bots do: a bot answers what its NLU does not understand
with Rasa's default fallback, whose rewind (`UserUtteranceReverted`) undoes the user's message;
`/back` (Rasa's `action_back`) rewinds two turns; and rasa init's NLU, trained on greetings and
moods, reads words meant for an agent as anything. None of it may revive a handoff that ended,
or end one that runs. The rewinds are caused on purpose (`/back`, and `/nlu_fallback`, which the
test bot's fallback rule answers; `testkit/rasa_init_bot.py`), never left to what a training
makes of gibberish; where the NLU reads ordinary words, the test accepts either reading.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from demo.stack import DemoStack
from rasa_zendesk.constants import SLOT_HANDOFF
from rasa_zendesk.handoff import state
from scripts import train_model
from testkit.emulator_control import EmulatorControl, user_texts, wait_for
from testkit.events_table import EventsTable
from testkit.ordinary_messages import ORDINARY_MESSAGES
from testkit.processes import running_stack
from testkit.rasa_init_bot import ensure_rasa_init_bot
from testkit.stack_users import emulator_of, tracker_of

pytestmark = pytest.mark.e2e

HANDOFF_STARTED = "connecting you with a human agent"
HANDOFF_ENDED = "back with the bot"
CONFIRM_END = "go back to the bot?"
RELAY_FAILED = "didn't reach the agent"  # utter_zendesk_relay_failed
GREETING = "Hey! How are you?"  # rasa init's utter_greet


@pytest.fixture(scope="module")
def init_stack() -> Iterator[DemoStack]:
    bot = ensure_rasa_init_bot()
    model = train_model.ensure_model(bot)
    with running_stack(Path(model), "rasa-init-bot", bot_dir=bot) as stack:
        yield stack


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
        assert not any(RELAY_FAILED in a or CONFIRM_END in a for a in answers), (text, answers)
        conversation = await emulator.conversation_of(user.sender)
        assert len(conversation["messages"]) == in_zendesk, f"{text!r} reached Zendesk"
        handoff = handoff_of(tracker, user.sender)
        assert handoff.state == state.ENDED and handoff.end_reason == ended.end_reason, text
    assert any(GREETING in a for a in await user.say("hello")), "the bot answers by itself"

    # The case under test happened: right after its rewinds, Rasa's replay of the stored
    # events (what a new session would carry over) had lost the end each time a `/back`
    # reached back past it: the first one (the turn with the end), and the one after the
    # fallback (the fallback had undone its own turn). Whatever the NLU made of the gibberish,
    # the last `/back` stops at the policy's repair. The policy set the slot right in the
    # same turn, and it is right now.
    rewound = replays_after_rewinds(user.sender, tracker.events(user.sender), written)
    assert "/nlu_fallback" in [turn for turn, _ in rewound], "Rasa's default fallback rewound"
    lost = [turn for turn, replay in rewound if (replay or {}).get("state") != state.ENDED]
    assert lost == ["/back", "/back"], rewound
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
async def test_no_ordinary_message_ends_a_running_handoff(
    user: RestUser, emulator: EmulatorControl, tracker: EventsTable
) -> None:
    conversation = await hand_off(user, emulator)
    sent: List[str] = []
    asked_after: List[str] = []
    for text in (
        *ORDINARY_MESSAGES,
        "/back",
        "/nlu_fallback",
        "asdkjh qwe zzz",
        "it is still broken",
    ):
        answers = await user.say(text)
        # The bot says nothing of its own: at most it asks whether to end the chat.
        assert all(CONFIRM_END in answer for answer in answers), (text, answers)
        handoff = handoff_of(tracker, user.sender)
        assert handoff.active and handoff.conversation_id == conversation["id"], text
        sent.append(text)
        if answers:
            # rasa init's NLU read the words as `end_handoff`. Whatever comes next in the list
            # ("ok" is a yes), the user declines: "no" keeps the handoff, and the held message
            # goes on to the agent.
            asked_after.append(text)
            assert await user.say("no") == []
            assert handoff_of(tracker, user.sender).active, text
    await user.say("thanks, waiting")
    sent.append("thanks, waiting")

    relayed = await wait_for(
        lambda: _all_relayed(emulator, user.sender, "thanks, waiting"), "the last message relayed"
    )
    assert relayed == sent, ("each message reaches the agent once, in order", asked_after)
    assert handoff_of(tracker, user.sender).active

    # Only a gesture ends it: `/end`.
    answers = await user.say("/end")
    assert any(HANDOFF_ENDED in answer for answer in answers), answers
    handoff = handoff_of(tracker, user.sender)
    assert handoff.state == state.ENDED and handoff.end_reason == state.USER_ENDED
    await wait_for(
        lambda: _released(emulator, user.sender), "control released in Zendesk", timeout=30
    )


async def _all_relayed(emulator: EmulatorControl, sender: str, last: str) -> Optional[List[str]]:
    conversation = await emulator.conversation_of(sender)
    texts = user_texts(conversation) if conversation else []
    return texts if texts and texts[-1] == last else None


async def _released(emulator: EmulatorControl, sender: str) -> bool:
    conversation = await emulator.conversation_of(sender)
    return bool(conversation) and conversation.get("agentStatus") != "open"
