"""CSAT and the Support API's auth with real processes: the example bot in `rasa run`,
`rasa run actions`, the emulator (SunCo, the Support API, its OAuth client), a web chat user.

The agent solves the ticket, the bot's CSAT form asks a rating and a comment, and the rating
4 with the comment lands on the ticket (tag, internal note, custom field), written by the
action server with a token it fetched with the OAuth client's credentials; the metrics and
`rasa-zendesk report` show it; `rasa-zendesk doctor` FAILs an API token, WARNs an OAuth token
that expires within 14 days and PASSes the client-credentials setup.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from demo.stack import REPO_ROOT, DemoStack
from rasa_zendesk.emulator.config import (
    DEFAULT_SUPPORT_OAUTH_CLIENT_ID,
    DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET,
    DEFAULT_SUPPORT_OAUTH_TOKEN,
)
from rasa_zendesk.handoff import state
from testkit.emulator_control import EmulatorControl, wait_for
from testkit.events_table import EventsTable
from testkit.metrics import scrape, value
from testkit.processes import running, stack_config
from testkit.socket_user import SocketUser
from testkit.stack_users import COMMENT, ENDED, RATE, STARTED, THANKS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

FIELD = "360009999999"
METRICS_TOKEN = "metrics-token-csat-0123456789"
API_TOKEN = "apitoken-csat-e2e-0123456789abcdef"


@pytest.fixture(scope="module")
def stack(trained_model: Path) -> Iterator[DemoStack]:
    env = {
        "ZENDESK_SUPPORT_OAUTH_CLIENT_ID": DEFAULT_SUPPORT_OAUTH_CLIENT_ID,
        "ZENDESK_SUPPORT_OAUTH_CLIENT_SECRET": DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET,
        "ZENDESK_CSAT_FIELD_ID": FIELD,
        "ZENDESK_METRICS": "true",
        "ZENDESK_METRICS_TOKEN": METRICS_TOKEN,
    }
    config = stack_config(trained_model, "csat", extra_env=env)
    config.extra_env["ZENDESK_SUPPORT_API_URL"] = f"http://127.0.0.1:{config.ports.emulator}"
    with running(config) as stack:
        yield stack


def cli(stack: DemoStack, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`rasa-zendesk <args>` as an operator runs it, with the stack's environment."""
    return subprocess.run(
        [sys.executable, "-m", "rasa_zendesk.cli", *args],
        env={**stack.env, **env},
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO_ROOT,
    )


def doctor(stack: DemoStack, **env: str) -> List[Dict[str, Any]]:
    done = cli(stack, "doctor", "--project", str(REPO_ROOT), "--json", **env)
    for secret in (DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET, DEFAULT_SUPPORT_OAUTH_TOKEN, API_TOKEN):
        assert secret not in done.stdout + done.stderr
    return list(json.loads(done.stdout)["checks"])


def support_checks(checks: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [c for c in checks if "Support API" in c["name"]]


async def test_a_solved_handoff_is_rated_on_the_ticket_and_in_the_report(
    stack: DemoStack, emulator: EmulatorControl, user: SocketUser, tracker: EventsTable
) -> None:
    await user.next_text(await user.say("I want to talk to a human"), contains=STARTED)
    conversation = await wait_for(
        lambda: emulator.handed_off_conversation(user.session_id), "the handoff"
    )
    mark = len(user.received)
    await emulator.agent_message(conversation["id"], text="Hi, Alex here. Sorted!")
    await user.next_text(mark, contains="Sorted!")
    mark = len(user.received)
    await emulator.set_ticket_status(conversation["id"], "solved")
    await user.next_text(mark, contains=ENDED)
    await user.next_text(mark, contains=RATE)  # the example bot's after_handoff_action
    # Not a rating: said so and asked again (validate_zendesk_csat_form), nothing recorded.
    mark = await user.say("it was great")
    await user.next_text(mark, contains="a number from 1 to 5")
    await user.next_text(mark, contains=RATE)
    await user.next_text(await user.say("4"), contains=COMMENT)
    await user.next_text(await user.say("Quick and kind, thank you"), contains=THANKS)

    async def rated_ticket() -> Dict[str, Any]:
        ticket = await emulator.ticket(conversation["id"])
        return ticket if ticket and ticket["csat"] is not None else {}

    ticket = await wait_for(rated_ticket, "the rating on the ticket", timeout=30)
    assert ticket["status"] == "solved" and "rasa_csat_4" in ticket["tags"]
    assert ticket["notes"] == [
        "The user rated the conversation 4 out of 5.\nComment: Quick and kind, thank you"
    ]
    assert ticket["customFields"][FIELD] == 4
    tokens = await emulator.requests("/oauth/tokens")
    assert [r["status"] for r in tokens if r["method"] == "POST"] == [200]
    record = tracker.handoff(user.session_id)
    assert record is not None and record.end_reason == state.TICKET_SOLVED
    assert record.csat_rating == 4

    async def observed() -> str:
        text = await scrape(stack.rasa_url, METRICS_TOKEN)
        return text if value(text, "rasa_zendesk_handoff_csat_rating_count") else ""

    text = await wait_for(observed, "the rating in the metrics", timeout=90)
    assert value(text, "rasa_zendesk_handoff_csat_rating_sum", reason="ticket_solved") == 4

    report = cli(
        stack,
        "report",
        "--project",
        str(stack.config.bot_dir),
        "--endpoints",
        str(stack.endpoints_path),
        "--since",
        "1d",
        "--csv",
    )
    assert report.returncode == 0, report.stderr
    total = {r["day"]: r for r in csv.DictReader(io.StringIO(report.stdout))}["all"]
    assert (total["csat_ratings"], total["csat_mean"]) == ("1", "4")


async def test_the_doctor_on_an_api_token_an_expiring_token_and_client_credentials(
    stack: DemoStack, emulator: EmulatorControl
) -> None:
    # The stack's own setup: the OAuth client's credentials.
    (auth, scopes) = support_checks(doctor(stack))
    assert auth["status"] == "PASS" and "client_credentials" in auth["detail"]
    assert scopes["status"] == "PASS"

    # An API token: stopped in the settings, naming the date Zendesk ends them.
    checks = doctor(
        stack,
        ZENDESK_SUPPORT_API_TOKEN=API_TOKEN,
        ZENDESK_SUPPORT_OAUTH_CLIENT_ID="",
        ZENDESK_SUPPORT_OAUTH_CLIENT_SECRET="",
    )
    failed = [c for c in checks if c["status"] == "FAIL" and c["area"] == "settings"]
    assert failed and all("30 Apr 2027" in c["detail"] for c in failed)

    # A static OAuth token that Zendesk says expires in 5 days.
    soon = datetime.now(timezone.utc) + timedelta(days=5)
    await emulator.set_support(oauthTokenExpiresAt=soon.strftime("%Y-%m-%dT%H:%M:%SZ"))
    (expiry, _) = support_checks(
        doctor(
            stack,
            ZENDESK_SUPPORT_OAUTH_TOKEN=DEFAULT_SUPPORT_OAUTH_TOKEN,
            ZENDESK_SUPPORT_OAUTH_CLIENT_ID="",
            ZENDESK_SUPPORT_OAUTH_CLIENT_SECRET="",
        )
    )
    assert expiry["status"] == "WARN" and "expires in 5.0 days" in expiry["detail"]
