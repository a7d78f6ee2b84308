"""The README's "Add it to your own bot", done as a new user does it, with real processes.

What it proves, step by step:
- `rasa init --no-prompt` makes the bot (Rasa's own command; its project is cached per Rasa
  version, since it trains a model of its own that the walkthrough then replaces).
- The wheel `make dist` builds (`scripts/dist.py`) installed into a venv that has Rasa but not
  this checkout (`testkit/wheel_venv.py`, whose docstring says how) provides everything:
  `rasa-zendesk init`, the channel, policy and actions the servers load, and the emulator.
  The venv's `rasa_zendesk` is the wheel's copy, checked below.
- `rasa-zendesk init` wires the bot; socket.io is enabled in credentials.yml as the README
  says; `rasa train` runs in that venv (the model is cached by content, as for every bot of
  the tests); the emulator, `rasa run actions` and `rasa run` all run from that venv, with the
  very `export` lines the emulator prints at start.
- Over REST (what rasa init enables): hand off; the agent joins and writes while the user is
  silent; a poll (`/zendesk_poll`) gets those messages in order (the image as an image) and
  reaches neither the agent nor the bot; the next message gets the next agent message first
  and goes to the agent; after the release the next message gets the notice first, then the
  bot's own answer; rewinds (`/back`, and whatever rasa init's bot does with gibberish) hand
  nothing out again. Each agent message reaches the user exactly once.
- Over socket.io: hand off, the agent's reply and the end are pushed at once, the bot is back.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import uuid
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List

import httpx
import pytest

from demo.stack import REPO_ROOT, DemoStack
from rasa_zendesk.handoff import pending, state
from scripts import dist
from scripts.train_model import cache_dir
from testkit.emulator_control import EmulatorControl, user_texts, wait_for
from testkit.events_table import EventsTable
from testkit.processes import running, stack_config
from testkit.stack_users import ENDED, STARTED, emulator_of, tracker_of, web_chat_user
from testkit.wheel_venv import run, wheel_venv

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(2400)]

#: rasa init's rule for `bot_challenge`: the bot's own answer, whatever came before.
BOT_CHALLENGE, BOT_ANSWER = "are you a bot?", "I am a bot, powered by Rasa."
SOCKETIO = (
    "\n# Enabled for the web chat, as the README's walkthrough says.\n"
    "socketio:\n"
    "  user_message_evt: user_uttered\n"
    "  bot_message_evt: bot_uttered\n"
    "  session_persistence: true\n"
)
TRAIN = (
    "import sys; from pathlib import Path; from scripts import train_model; "
    "print(train_model.ensure_model(Path(sys.argv[1])))"
)


def rasa_init_project(python: Path) -> Path:
    """What `rasa init --no-prompt` leaves (without its model), made once per Rasa version."""
    project = cache_dir() / "bots" / f"rasa-init-no-prompt-{metadata.version('rasa')}"
    if not (project / ".complete").is_file():
        shutil.rmtree(project, ignore_errors=True)
        project.mkdir(parents=True)
        run(
            [str(python), "-m", "rasa", "init", "--no-prompt", "--init-dir", str(project)],
            project.parent,
        )
        shutil.rmtree(project / "models", ignore_errors=True)
        shutil.rmtree(project / ".rasa", ignore_errors=True)
        (project / ".complete").touch()
    return project


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStack]:
    venv = wheel_venv(dist.cached_build()[1])
    python = venv / "bin" / "python"
    bot = tmp_path_factory.mktemp("own") / "bot"
    shutil.copytree(
        rasa_init_project(python), bot, ignore=shutil.ignore_patterns(".complete", "__pycache__")
    )
    where = run([str(python), "-c", "import rasa_zendesk; print(rasa_zendesk.__file__)"], bot)
    assert where.startswith(str(venv)), where

    said = run([str(venv / "bin" / "rasa-zendesk"), "init"], bot)
    assert "changed credentials.yml" in said and "Left for you" not in said, said
    with (bot / "credentials.yml").open("a") as credentials:
        credentials.write(SOCKETIO)
    model = Path(run([str(python), "-c", TRAIN, str(bot)], REPO_ROOT).strip().splitlines()[-1])

    config = stack_config(model, "walkthrough", bot_dir=bot, extra_env={"PYTHONPATH": ""})
    with running(dataclasses.replace(config, python=str(python))) as stack:
        yield stack


@pytest.fixture
async def emulator(walkthrough: DemoStack) -> AsyncIterator[EmulatorControl]:
    async with emulator_of(walkthrough) as control:
        yield control


def test_the_emulator_prints_the_lines_both_servers_run_with(walkthrough: DemoStack) -> None:
    printed = (walkthrough.config.run_dir / "emulator.log").read_text()
    exports = dict(re.findall(r"export (ZENDESK_\w+)=(\S+)", printed))
    assert set(exports) >= {"ZENDESK_APP_ID", "ZENDESK_KEY_SECRET", "ZENDESK_API_URL"}
    for name, value in exports.items():
        assert walkthrough.env[name] == value, name


class RestUser:
    """One user of Rasa's REST channel: every answer it got, in order."""

    def __init__(self, rasa_url: str) -> None:
        self.sender = "rest-" + uuid.uuid4().hex[:12]
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.http = httpx.AsyncClient(timeout=60)
        self.received: List[Dict[str, Any]] = []

    async def say(self, text: str) -> List[Dict[str, Any]]:
        answer = await self.http.post(self.url, json={"sender": self.sender, "message": text})
        assert answer.status_code == 200, answer.text
        self.received += answer.json()
        return answer.json()


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [message.get("text") or "" for message in messages]


def waiting_for(tracker: EventsTable, sender: str, last: str) -> Any:
    """A condition: the channel recorded messages for the user, not handed out yet, the last
    of which has `last` in its text or image."""

    async def check() -> bool:
        waiting = pending.not_handed_out(tracker.events(sender))
        data = waiting[-1].get("data") or {} if waiting else {}
        return bool(waiting) and last in f"{waiting[-1].get('text')} {data.get('image')}"

    return check


async def test_a_rest_user_gets_the_agent_with_each_answer_and_by_polling(
    walkthrough: DemoStack, emulator: EmulatorControl
) -> None:
    user, tracker = RestUser(walkthrough.rasa_url), tracker_of(walkthrough)
    assert any(STARTED in t for t in texts(await user.say("I want to talk to a human")))
    conversation = await wait_for(
        lambda: emulator.handed_off_conversation(user.sender), "the conversation with the agents"
    )
    await emulator.agent_message(conversation["id"], text="Hi, Alex here.")
    await emulator.agent_message(
        conversation["id"],
        type="image",
        mediaUrl="/_emulator/samples/receipt.png",
        text="Is this your receipt?",
    )
    # The agent joined notice and two messages, recorded for a user whose channel cannot push.
    await wait_for(waiting_for(tracker, user.sender, "receipt.png"), "the messages recorded")

    polled = await user.say(pending.POLL_COMMAND)
    assert "has joined" in texts(polled)[0], polled
    assert texts(polled).index("Hi, Alex here.") == 1, polled
    images = [i for i, m in enumerate(polled) if (m.get("image") or "").endswith("receipt.png")]
    assert images and images[0] > 1, polled
    assert await user.say(pending.POLL_COMMAND) == []

    await emulator.agent_message(conversation["id"], text="Which order is it?")
    await wait_for(waiting_for(tracker, user.sender, "Which order"), "the next one recorded")
    answer = texts(await user.say("the one from Monday"))
    # The agent's message, handed out; nothing else: during a handoff the bot is silent,
    # whatever rasa init's NLU reads in the words.
    assert answer == ["Which order is it?"], answer
    await wait_for(lambda: emulator.has_user_message(user.sender, "the one from Monday"), "relayed")
    in_zendesk = user_texts(await emulator.conversation_of(user.sender))
    assert pending.POLL_COMMAND not in in_zendesk, in_zendesk

    await emulator.solve(conversation["id"])
    await wait_for(waiting_for(tracker, user.sender, ENDED), "the end notice recorded")
    handoff = tracker.handoff(user.sender)
    assert handoff is not None and handoff.state == state.ENDED
    answer = texts(await user.say(BOT_CHALLENGE))
    assert ENDED in answer[0] and answer[1:] == [BOT_ANSWER], answer  # the bot is back

    # `/back` (Rasa's action_back) rewinds two turns. What rasa init's unseeded bot makes of
    # the gibberish is its training's guess (its TEDPolicy answers, or Rasa's fallback rewinds
    # the message): nothing below depends on which.
    for text in ("asdkjh qwe zzz", "/back", pending.POLL_COMMAND):
        again = texts(await user.say(text))
        assert not any(ENDED in t or "Alex" in t for t in again), (text, again)
    counts = Counter(texts(user.received))
    for agent_said in ("Hi, Alex here.", "Which order is it?"):
        assert counts[agent_said] == 1, counts
    assert sum(ENDED in t for t in texts(user.received)) == 1
    await user.http.aclose()


async def test_a_web_chat_user_gets_the_agent_pushed(
    walkthrough: DemoStack, emulator: EmulatorControl
) -> None:
    tracker = tracker_of(walkthrough)
    async with web_chat_user(walkthrough) as chat:
        mark = await chat.say("I want to talk to a human")
        await chat.next_text(mark, STARTED, timeout=60)
        conversation = await wait_for(
            lambda: emulator.handed_off_conversation(chat.session_id), "handed off"
        )
        mark = len(chat.received)
        await emulator.agent_message(conversation["id"], text="Hello from the desk.")
        await chat.next_text(mark, "Hello from the desk", timeout=30)
        await chat.say("my parcel is late")
        await wait_for(
            lambda: emulator.has_user_message(chat.session_id, "my parcel is late"), "relayed"
        )
        mark = len(chat.received)
        await emulator.solve(conversation["id"])
        await chat.next_text(mark, ENDED, timeout=30)
        assert pending.not_handed_out(tracker.events(chat.session_id)) == []
        mark = await chat.say(BOT_CHALLENGE)
        assert await chat.next_text(mark, timeout=60) == BOT_ANSWER  # the bot is back
