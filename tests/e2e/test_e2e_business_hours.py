"""Business hours and agents online, with real processes: the example bot in `rasa run`,
`rasa run actions`, the emulator (SunCo and the Support API), a web chat user on socket.io.

The schedule is `Europe/Berlin; mon-fri 09:00-17:00`; the plugin's clock (both servers read
`ZENDESK_CLOCK_FILE`) is set to the moment each test needs, so no test waits for an hour.
Agent availability is asked of the emulator's Support API (`check_agent_availability`).
"""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
from zoneinfo import ZoneInfo

from demo.stack import DemoStack
from rasa_zendesk.handoff import state
from testkit.clock_file import ClockFile
from testkit.emulator_control import EmulatorControl, wait_for
from testkit.events_table import EventsTable
from testkit.processes import running, stack_config
from testkit.socket_user import SocketUser
from testkit.stack_users import GREETING, STARTED, emulator_of

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

BERLIN = ZoneInfo("Europe/Berlin")
TOKEN = "zdoauth_e2e_hours_71c2"


@pytest.fixture
def clock(clock_file: Path) -> ClockFile:
    return ClockFile(clock_file, BERLIN)


@pytest.fixture(scope="module")
def stack(trained_model: Path, clock_file: Path) -> Iterator[DemoStack]:
    env = {
        "ZENDESK_BUSINESS_HOURS": "Europe/Berlin; mon-fri 09:00-17:00",
        "ZENDESK_CHECK_AGENT_AVAILABILITY": "true",
        "ZENDESK_SUPPORT_OAUTH_TOKEN": TOKEN,
    }
    oauth = ["--support-oauth-token", TOKEN]
    config = stack_config(
        trained_model, "hours", extra_env=env, emulator_args=oauth, clock_file=clock_file
    )
    # The Support API is the emulator's, at its base address.
    config.extra_env["ZENDESK_SUPPORT_API_URL"] = f"http://127.0.0.1:{config.ports.emulator}"
    with running(config) as stack:
        yield stack


@pytest.fixture
async def emulator(stack: DemoStack) -> AsyncIterator[EmulatorControl]:
    async with emulator_of(stack) as control:
        await control.set_support(agentsOnline=True)
        yield control


async def test_out_of_hours_the_user_leaves_a_message_and_the_bot_is_back(
    clock: ClockFile, emulator: EmulatorControl, user: SocketUser, tracker: EventsTable
) -> None:
    clock.set("2026-12-06 03:00")  # a Sunday night
    mark = await user.say("I want to talk to a human")
    told = await user.next_text(mark, contains="back tomorrow at 9:00")
    assert STARTED not in told
    assert await emulator.conversation_of(user.session_id) is None  # nothing opened

    await user.next_text(await user.say("/leave_message"), contains="What email address")
    mark = await user.say("jane at example dot org")
    await user.next_text(mark, contains="doesn't look like an email")
    await user.next_text(mark, contains="What email address")
    mark = await user.say("jane.doe@example.org")
    await user.next_text(mark, contains="will reply to jane.doe@example.org")

    conversation = await wait_for(
        lambda: emulator.handed_off_conversation(user.session_id), "the ticket for the agents"
    )
    ticket = conversation["ticket"]
    assert {"rasa_left_message", "outside_hours"} <= set(ticket["tags"])
    assert ticket["requester"]["email"] == "jane.doe@example.org"
    handoff = tracker.handoff(user.session_id)
    assert handoff is not None and handoff.end_reason == state.LEFT_MESSAGE

    await user.next_text(await user.say("hi"), contains=GREETING)  # the bot answers again
    # Monday morning, an agent answers the ticket; the user's chat still gets it.
    clock.set("2026-12-07 09:30")
    mark = len(user.received)
    await emulator.agent_message(conversation["id"], text="Good morning Jane, about your order")
    await user.next_text(mark, contains="Good morning Jane")


async def test_no_agent_online_the_user_can_go_on_with_the_bot(
    clock: ClockFile, emulator: EmulatorControl, user: SocketUser
) -> None:
    clock.set("2026-12-08 10:00")  # a Tuesday morning, open
    await emulator.set_support(agentsOnline=False)
    mark = await user.say("I want to talk to a human")
    await user.next_text(mark, contains="No agent is available right now")
    await user.next_text(await user.say("/bot"), contains="I'm here")
    assert await emulator.conversation_of(user.session_id) is None
    await user.next_text(await user.say("hi"), contains=GREETING)


async def test_no_agent_online_a_message_left_with_the_address_given(
    clock: ClockFile, emulator: EmulatorControl, user: SocketUser
) -> None:
    clock.set("2026-12-09 11:00")  # Wednesday, open, nobody online
    await emulator.set_support(agentsOnline=False)
    await user.next_text(await user.say("I want to talk to a human"), contains="No agent")
    await user.next_text(await user.say("Leave a message"), contains="What email address")
    await user.next_text(await user.say("max@example.com"), contains="will reply to max@")
    conversation = await wait_for(
        lambda: emulator.handed_off_conversation(user.session_id), "the ticket"
    )
    assert {"rasa_left_message", "agents_offline"} <= set(conversation["ticket"]["tags"])


async def test_inside_hours_with_agents_online_the_handoff_is_as_always(
    clock: ClockFile, emulator: EmulatorControl, user: SocketUser, tracker: EventsTable
) -> None:
    clock.set("2026-12-10 14:00")  # Thursday afternoon
    await user.next_text(await user.say("I want to talk to a human"), contains=STARTED)
    handoff = await wait_for(lambda: tracker.handoff(user.session_id), "the handoff stored")
    assert handoff.state == state.WAITING
    availability = await emulator.requests("/api/v2/agent_availabilities")
    assert availability, "the action server asked whether agents are online"
