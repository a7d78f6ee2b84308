"""A scripted day of handoffs on real processes (`rasa run`, `rasa run actions`, the emulator),
with a SQLite and a Redis tracker store: the metrics route and `rasa-zendesk report` say what
was scripted, and `rasa-zendesk doctor` passes the running stack and fails it with a wrong
webhook secret. The plugin's clock is moved to make the day, never waited for."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest
import yaml

from demo.stack import REPO_ROOT, DemoStack
from rasa_zendesk.handoff import state
from testkit.clock_file import ClockFile
from testkit.emulator_control import EmulatorControl, wait_for
from testkit.metrics import scrape, value
from testkit.processes import running, stack_config
from testkit.services import redis_server
from testkit.socket_user import SocketUser
from testkit.stack_users import STARTED, emulator_of, web_chat_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

BOT_FILES = ("actions", "data", "domain.yml", "config.yml", "credentials.yml", "endpoints.yml")
WAITS = (120.0, 1800.0)  # the agents of the first two handoffs, after the request
WINDOW = 60.0  # what real seconds may add to a scripted time
METRICS_TOKEN = "metrics-token-ops-0123456789"


@contextlib.contextmanager
def started(
    kind: str, model: Path, env: Dict[str, str], factory: pytest.TempPathFactory
) -> Iterator[DemoStack]:
    """The example bot's stack on a SQLite tracker store, or on a Redis one (a copy of the bot
    whose endpoints.yml names a throwaway redis-server)."""
    if kind == "sql":
        with running(stack_config(model, "ops-sql", extra_env=env)) as stack:
            yield stack
        return
    bot = factory.mktemp("redis-bot")
    for name in BOT_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, bot / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, bot / name)
    with redis_server() as redis:
        endpoints = yaml.safe_load((bot / "endpoints.yml").read_text())
        endpoints["tracker_store"] = {"type": "redis", "url": "127.0.0.1", "port": redis.port}
        (bot / "endpoints.yml").write_text(yaml.safe_dump(endpoints))
        config = stack_config(model, "ops-redis", extra_env=env, bot_dir=bot)
        config.tracker_db = None  # the bot's own store: Redis
        with running(config) as stack:
            yield stack


@pytest.fixture(params=["sql", "redis"])
def stack(
    request: pytest.FixtureRequest, trained_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tuple[DemoStack, ClockFile]]:
    clock = ClockFile(tmp_path_factory.mktemp("clock") / "offset")
    env = {
        "ZENDESK_CLOCK_FILE": str(clock.path),
        "ZENDESK_METRICS": "true",
        "ZENDESK_METRICS_TOKEN": METRICS_TOKEN,
        "ZENDESK_AGENT_TIMEOUT": "0",
        "ZENDESK_IDLE_TIMEOUT": "0",
        "ZENDESK_MAX_DURATION": "0",
    }
    with started(request.param, trained_model, env, tmp_path_factory) as running_stack:
        yield running_stack, clock


async def hand_off(emulator: EmulatorControl, user: SocketUser) -> str:
    await user.next_text(await user.say("I want to talk to a human"), contains=STARTED)
    found = await wait_for(
        lambda: emulator.handed_off_conversation(user.session_id), "the agents have it"
    )
    return str(found["id"])


async def agent_and_user_write(
    emulator: EmulatorControl, user: SocketUser, conversation: str, n: int
) -> None:
    """The agent writes, the user reads it and answers, the answer reaches the agent."""
    mark = len(user.received)
    await emulator.agent_message(conversation, text=f"Agent here ({n})")
    await user.next_text(mark, contains=f"Agent here ({n})")
    await user.say(f"thanks ({n})")
    await wait_for(lambda: emulator.has_user_message(user.session_id, f"thanks ({n})"), "relayed")


def run_cli(
    stack: DemoStack, clock: ClockFile, *args: str, **env: str
) -> subprocess.CompletedProcess:
    environ = {**stack.env, "ZENDESK_CLOCK_FILE": str(clock.path), **env}
    return subprocess.run(
        [sys.executable, "-m", "rasa_zendesk.cli", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO_ROOT,
    )


async def test_a_scripted_day_in_the_metrics_the_report_and_the_doctor(
    stack: Tuple[DemoStack, ClockFile],
) -> None:
    running_stack, clock = stack
    async with emulator_of(running_stack) as emulator:
        # 1: an agent after 120 s, two messages each way, solved 10 minutes later.
        # 2: an agent after 30 minutes, one message each way, solved.
        for wait, messages in zip(WAITS, (2, 1)):
            async with web_chat_user(running_stack) as user:
                conversation = await hand_off(emulator, user)
                clock.advance(wait)
                for n in range(messages):
                    await agent_and_user_write(emulator, user, conversation, n)
                clock.advance(600)
                await emulator.solve(conversation)
                await emulator.wait_idle()
        # 3: no agent comes; the user ends it.
        async with web_chat_user(running_stack) as user:
            await hand_off(emulator, user)
            clock.advance(300)
            await user.next_text(await user.say("/end"))
            await emulator.wait_idle()
    clock.advance(120)  # past the last write: the timers and metrics have read every end

    async def everything_counted() -> str:
        text = await scrape(running_stack.rasa_url, METRICS_TOKEN)
        return text if value(text, "rasa_zendesk_handoffs_ended_total") == 3 else ""

    text = await wait_for(everything_counted, "three ended handoffs in the metrics", timeout=90)
    assert value(text, "rasa_zendesk_handoffs_requested_total", trigger="explicit_request") == 3
    assert value(text, "rasa_zendesk_handoffs_ended_total", reason=state.USER_ENDED) == 1
    solved = value(text, "rasa_zendesk_handoffs_ended_total") - 1
    assert solved == 2
    assert value(text, "rasa_zendesk_handoff_first_agent_reply_seconds_count") == 2
    waited = value(text, "rasa_zendesk_handoff_first_agent_reply_seconds_sum")
    assert sum(WAITS) <= waited <= sum(WAITS) + WINDOW
    assert value(text, "rasa_zendesk_handoff_duration_seconds_count") == 3
    assert value(text, "rasa_zendesk_handoffs_running") == 0
    message = {"type": "conversation:message", "outcome": "applied"}
    assert value(text, "rasa_zendesk_webhook_events_total", **message) == 3

    endpoints = str(running_stack.endpoints_path)
    done = run_cli(
        running_stack,
        clock,
        "report",
        "--project",
        str(running_stack.config.bot_dir),
        "--endpoints",
        endpoints,
        "--since",
        "1d",
        "--csv",
    )
    assert done.returncode == 0, done.stderr
    rows: Dict[str, Dict[str, str]] = {
        r["day"]: r for r in csv.DictReader(io.StringIO(done.stdout))
    }
    total = rows["all"]
    assert (total["handoffs"], total["agent_joined"]) == ("3", "2")
    median = sum(WAITS) / 2  # of the two waits
    assert median <= float(total["median_wait_s"]) <= median + WINDOW
    assert WAITS[1] <= float(total["p90_wait_s"]) <= WAITS[1] + WINDOW
    assert total["trigger:explicit_request"] == "3" and total["ended:user_ended"] == "1"
    # Messages: 3 to the agents and /end (a gesture, written during the handoff); 3 back.
    assert (total["messages_to_agent"], total["messages_from_agent"]) == ("4", "3")

    doctor = [
        "doctor",
        "--project",
        str(running_stack.config.bot_dir),
        "--json",
        "--public-url",
        running_stack.rasa_url,
        "--rasa-url",
        running_stack.rasa_url,
    ]
    done = run_cli(running_stack, clock, *doctor)
    found = json.loads(done.stdout)
    live = [c for c in found["checks"] if c["area"] in ("zendesk", "rasa")]
    assert {c["status"] for c in live} == {"PASS", "NOTE"}, done.stdout
    assert done.returncode == (0 if found["ok"] else 1)
    done = run_cli(running_stack, clock, *doctor, ZENDESK_WEBHOOK_SECRET="not-the-secret-at-all")
    assert done.returncode == 1
    fails = {c["name"] for c in json.loads(done.stdout)["checks"] if c["status"] == "FAIL"}
    assert {
        "connector default webhook secret",
        "webhook /webhooks/zendesk/webhook with the secret",
    } <= fails
    secret = running_stack.config.credentials.webhook_secret
    assert secret not in done.stdout and "not-the-secret-at-all" not in done.stdout
    assert METRICS_TOKEN not in done.stdout
