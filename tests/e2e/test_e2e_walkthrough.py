"""The README's "Add it to your own bot", done as a new user does it, with real processes.

The commands are the README's own: every indented command line of that section is read from
README.md here and run as it is written, in the bot's folder, with no ZENDESK_* variable in
any shell (`README_COMMANDS` says what each one is; a command the README gains or loses fails
the test until it says so too). What it proves, step by step:
- `rasa init --no-prompt` makes the bot (Rasa's own command; its project is cached per Rasa
  version, since it trains a model of its own that the walkthrough then replaces).
- Step 1: the wheel `make dist` builds (`scripts/dist.py`), installed into a venv that has
  Rasa but not this checkout (`testkit/wheel_venv.py`), its `bin/` first on PATH as in an
  activated venv; the venv's `rasa_zendesk` is the wheel's copy, checked below.
- Step 2: `rasa-zendesk init`; socket.io is enabled in credentials.yml as step 5 says.
- Step 3: `rasa train`, through the content cache of `scripts/train_model.py` (which runs
  that `rasa train` once per content of the bot's files).
- Step 4: the emulator command (it writes zendesk.env), `rasa run actions` and `rasa run` as
  processes on the README's ports; the curl commands as written. *Solve* pressed in the
  agent console with Playwright: the next message gets the end notice, then the bot's own
  answer. Then *Close*, the same way, on a second handoff.
- Step 6: `rasa-zendesk doctor --rasa-url ...` passes, with no WARN about the ticket webhook.
- Over socket.io (step 5): the agent's reply is pushed with the agent's name in its
  metadata, and *Close* gives the web chat user back to the bot.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from demo.process import ManagedProcess, port_is_free, start_all, stop_all
from demo.stack import REPO_ROOT
from rasa_zendesk.settings import ENV_FILE, read_env_file
from scripts import dist
from scripts.train_model import cache_dir
from testkit.browser import browser  # noqa: F401 (fixture)
from testkit.processes import ARTIFACTS, run_dir
from testkit.socket_user import SocketUser
from testkit.stack_users import ENDED, STARTED
from testkit.wheel_venv import clean_env, run, wheel_venv

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(2400)]

README = REPO_ROOT / "README.md"
#: rasa init's rule for `bot_challenge`: the bot's own answer, whatever came before.
BOT_CHALLENGE, BOT_ANSWER = "are you a bot?", "I am a bot, powered by Rasa."
#: rasa init's answer to a greeting (the README's "hello"), at the start of a session.
GREETING_ANSWER = "Hey! How are you?"
#: What each command of the README's walkthrough is, by how it starts (in README order).
README_COMMANDS = {
    "pip install": "install (the wheel venv does it)",
    "rasa-zendesk init": "init",
    "rasa train": "train",
    "rasa-zendesk emulator": "emulator",
    "rasa run actions": "actions",
    "rasa run": "rasa",
    "curl": "curl",
    "rasa-zendesk doctor": "doctor",
}
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
SHOTS = ARTIFACTS / "screenshots-walkthrough"
STEP = 30_000  # ms for each visible step in the console


def readme_commands() -> Dict[str, List[str]]:
    """The walkthrough's command lines (indented code, comments cut off), by what they are."""
    text = README.read_text()
    section = text[text.index("## Add it to your own bot") : text.index("## Zendesk-side setup")]
    commands: Dict[str, List[str]] = {}
    fenced = False  # a ``` block holds a file's text (YAML, Python), not commands
    for line in section.splitlines():
        fenced ^= line.startswith("```")
        if fenced or not line.startswith("    ") or line.startswith("     "):
            continue
        if line.strip().startswith("#"):
            continue
        command = re.sub(r"\s+#.*$", "", line.strip()) if "curl" not in line else line.strip()
        kind = next((v for k, v in README_COMMANDS.items() if command.startswith(k)), None)
        assert kind is not None, f"the README has a command this test does not run: {command}"
        commands.setdefault(kind, []).append(command)
    return commands


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


@dataclass
class Walkthrough:
    bot: Path
    env: Dict[str, str]
    commands: Dict[str, List[str]]
    logs: Path

    def shell(self, command: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """One README command in the bot's folder, as a user's shell runs it."""
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.bot,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def curl(self, number: int) -> List[Dict[str, Any]]:
        """The README's `number`th curl command (0: ask for a human, 1: poll, 2: the bot)."""
        done = self.shell(self.commands["curl"][number], timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    @property
    def console_url(self) -> str:
        found = re.search(r"\(?(http://127\.0\.0\.1:\d+/console)\)?", README.read_text())
        assert found, "the README names the agent console's address"
        return found.group(1)


def server(walk: Walkthrough, name: str, command: str, ready: str) -> ManagedProcess:
    return ManagedProcess(
        name,
        ["bash", "-c", command],
        env=walk.env,
        cwd=walk.bot,
        log_path=walk.logs / f"{name}.log",
        ready_url=ready,
        startup_timeout=600,
    )


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walkthrough]:
    commands = readme_commands()
    assert commands["init"] == ["rasa-zendesk init"] and commands["train"] == ["rasa train"]
    assert len(commands["curl"]) == 3, commands["curl"]
    for port in (5005, 5055, 8090):  # the README's: the defaults of `rasa run` and the emulator
        assert port_is_free("127.0.0.1", port), f"port {port} is busy: the walkthrough needs it"
    venv = wheel_venv(dist.cached_build()[1])
    python = venv / "bin" / "python"
    bot = tmp_path_factory.mktemp("own") / "bot"
    shutil.copytree(
        rasa_init_project(python), bot, ignore=shutil.ignore_patterns(".complete", "__pycache__")
    )
    # The venv borrows Rasa from the cached one (testkit/wheel_venv.py), so Rasa's console
    # script is not in its bin/: a `rasa` beside it, as pip writes one, completes step 1.
    scripts = tmp_path_factory.mktemp("bin")
    (scripts / "rasa").write_text(f'#!/bin/sh\nexec "{python}" -m rasa "$@"\n')
    (scripts / "rasa").chmod(0o755)
    env = {k: v for k, v in clean_env().items() if not k.startswith("ZENDESK_")}
    env["PATH"] = f"{venv / 'bin'}:{scripts}:{env.get('PATH', '')}"
    walk = Walkthrough(bot, env, commands, run_dir("walkthrough"))
    where = walk.shell("python -c 'import rasa_zendesk; print(rasa_zendesk.__file__)'")
    assert where.stdout.startswith(str(venv)), where

    said = walk.shell(commands["init"][0])
    assert said.returncode == 0 and "changed credentials.yml" in said.stdout, said
    assert "Left for you" not in said.stdout
    with (bot / "credentials.yml").open("a") as credentials:
        credentials.write(SOCKETIO)
    run([str(python), "-c", TRAIN, str(bot)], REPO_ROOT)

    (emulator_command,) = commands["emulator"]
    processes = [
        server(walk, "emulator", emulator_command, "http://127.0.0.1:8090/_emulator/health"),
        server(walk, "actions", commands["actions"][0], "http://localhost:5055/health"),
        server(walk, "rasa", commands["rasa"][0], "http://localhost:5005/"),
    ]
    start_all(processes[:1])  # it writes zendesk.env, which both servers read at start
    try:
        assert (bot / ENV_FILE).is_file(), processes[0].log_tail()
        start_all(processes[1:])
    except BaseException:
        stop_all(processes[:1])
        raise
    try:
        yield walk
    finally:
        stop_all(processes)


def test_the_emulator_writes_the_settings_both_servers_read(walkthrough: Walkthrough) -> None:
    settings = read_env_file(walkthrough.bot / ENV_FILE)
    assert settings["ZENDESK_API_URL"] == "http://127.0.0.1:8090/sc"
    assert set(settings) >= {
        "ZENDESK_APP_ID",
        "ZENDESK_KEY_SECRET",
        "ZENDESK_TICKET_WEBHOOK_SECRET",
    }
    printed = (walkthrough.logs / "emulator.log").read_text()
    assert "Ticket webhooks to: http://localhost:5005/webhooks/zendesk/ticket_status" in printed
    assert "export ZENDESK_APP_ID=app_demo" in printed  # the lines for servers elsewhere


async def settled() -> None:
    """Every webhook the emulator has to send (SunCo's, the ticket ones) is answered."""
    async with httpx.AsyncClient(timeout=40) as http:
        answer = await http.post(
            "http://127.0.0.1:8090/_emulator/webhooks/wait",
            json={"timeout": 30},
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 200 and answer.json()["idle"], answer.text


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [message.get("text") or "" for message in messages]


async def agent_answers(console: Page, text: str) -> None:
    """The agent writes in the newest waiting conversation, which the console selects."""
    await expect(console.get_by_test_id("queue").get_by_test_id("queue-item")).to_have_count(1)
    await expect(console.get_by_test_id("handoff-state")).to_have_attribute("data-state", "waiting")
    await console.get_by_test_id("reply-input").fill(text)
    await console.get_by_test_id("send-button").click()
    await expect(console.get_by_test_id("handoff-state")).to_have_attribute("data-state", "agent")


@pytest.fixture
async def console(
    walkthrough: Walkthrough,
    browser: Browser,  # noqa: F811 (the imported fixture)
) -> Any:
    expect.set_options(timeout=STEP)
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    await page.goto(walkthrough.console_url)
    await expect(page.get_by_test_id("connection")).to_have_text("connected")
    yield page
    await context.close()


async def test_solve_in_the_console_brings_the_bot_back(
    walkthrough: Walkthrough, console: Page
) -> None:
    assert any(STARTED in t for t in texts(walkthrough.curl(0)))
    await agent_answers(console, "Hi, Alex here. How can I help?")
    polled = texts(walkthrough.curl(1))
    assert "has joined" in polled[0] and polled[1:] == ["Hi, Alex here. How can I help?"], polled

    await expect(console.get_by_test_id("solve-help")).to_contain_text("the bot answers")
    await console.get_by_test_id("solve-button").click()
    await expect(console.get_by_test_id("ticket")).to_have_attribute("data-ticket-status", "solved")
    await expect(console.get_by_test_id("queue").get_by_test_id("queue-item")).to_have_count(0)
    await settled()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await console.screenshot(path=str(SHOTS / "console-after-solve.png"))
    answer = texts(walkthrough.curl(2))
    assert ENDED in answer[0] and answer[1:] == [GREETING_ANSWER], answer  # the bot is back


async def test_close_in_the_console_brings_the_bot_back(
    walkthrough: Walkthrough, console: Page
) -> None:
    assert any(STARTED in t for t in texts(walkthrough.curl(0)))
    await agent_answers(console, "Hello again, Alex here.")
    assert "Hello again, Alex here." in texts(walkthrough.curl(1))
    await console.get_by_test_id("close-button").click()
    await expect(console.get_by_test_id("handoff-state")).to_have_attribute(
        "data-state", "released"
    )
    await settled()
    answer = texts(walkthrough.curl(2))
    assert ENDED in answer[0] and answer[1:] == [GREETING_ANSWER], answer


def test_doctor_passes_with_the_ticket_webhook_on(walkthrough: Walkthrough) -> None:
    done = walkthrough.shell(walkthrough.commands["doctor"][0], timeout=600)
    assert done.returncode == 0 and "\n0 FAIL, " in done.stdout, done.stdout
    warned = [line for line in done.stdout.splitlines() if line.startswith("WARN")]
    assert not [line for line in warned if "ticket-status webhook" in line], warned
    assert "Warning" not in done.stderr, done.stderr


async def test_a_web_chat_user_sees_the_agent_by_name_and_close_brings_the_bot_back(
    walkthrough: Walkthrough, console: Page
) -> None:
    chat = SocketUser("http://localhost:5005", uuid.uuid4().hex)
    await chat.connect()
    try:
        mark = await chat.say("I want to talk to a human")
        await chat.next_text(mark, STARTED, timeout=60)
        mark = len(chat.received)
        await agent_answers(console, "Hello from the desk.")
        await chat.next_text(mark, "Hello from the desk", timeout=30)
        (pushed,) = (m for m in chat.received[mark:] if m.text == "Hello from the desk.")
        assert pushed.data["metadata"]["agent_name"] == "Alex (Zendesk agent)", pushed.data
        mark = len(chat.received)
        await console.get_by_test_id("close-button").click()
        await chat.next_text(mark, ENDED, timeout=30)
        mark = await chat.say(BOT_CHALLENGE)
        assert await chat.next_text(mark, timeout=60) == BOT_ANSWER  # the bot is back
    finally:
        await chat.close()
