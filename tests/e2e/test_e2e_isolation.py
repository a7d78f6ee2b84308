"""Isolation with real processes (issue 21): the example bot in `rasa run` with Rasa's
callback channel besides web chat, `rasa run actions`, and the emulator.

- A conversation that someone with the app's API keys created, its metadata naming a real
  user, reaches nobody: its agent message, typing, hand-back and ticket are refused.
- One user's failing delivery in a webhook post holds back no other user's event.
- One user's failing timer holds back no other timer, is tried a few times, and ends the
  handoff as `failed`; the user hears of it at their next message.

The callback channel's server (`CallbackServer`) is taken down to make a user's channel
fail. Time is the plugin's clock (`ZENDESK_CLOCK_FILE`), moved by the test.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional

import httpx
import pytest
import yaml

from demo.stack import EXAMPLE_BOT_ENV, REPO_ROOT, DemoStack
from rasa_zendesk import constants
from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.channel.timers.loop import MAX_TRIES
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.client import SunCoClient
from rasa_zendesk.tickets.link import link_tag
from testkit.clock_file import ClockFile
from testkit.emulator_control import EmulatorControl, wait_for
from testkit.events_table import EventsTable
from testkit.metrics import scrape, value
from testkit.platforms import CallbackServer
from testkit.processes import free_ports, running_stack
from testkit.socket_user import SocketUser
from testkit.stack_users import ENDED, STARTED

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

METRICS_TOKEN = "metrics-token-isolation-0123"
IDLE_TIMEOUT = 600.0
#: The bot's own files; credentials.yml is written anew, with the callback channel.
BOT_FILES = ("actions", "data", "domain.yml", "config.yml", "endpoints.yml")


@pytest.fixture(scope="module")
def callback_port() -> int:
    return free_ports(1)[0]


@pytest.fixture(scope="module")
def stack(
    trained_model: Path,
    clock_file: Path,
    callback_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DemoStack]:
    bot = tmp_path_factory.mktemp("callback-bot")
    for name in BOT_FILES:
        (bot / name).symlink_to(REPO_ROOT / name)
    credentials = yaml.safe_load((REPO_ROOT / "credentials.yml").read_text())
    credentials["callback"] = {"url": f"http://127.0.0.1:{callback_port}/callback"}
    (bot / "credentials.yml").write_text(yaml.safe_dump(credentials))
    env = {
        **EXAMPLE_BOT_ENV,
        "ZENDESK_AGENT_TIMEOUT": "0",
        "ZENDESK_IDLE_TIMEOUT": str(int(IDLE_TIMEOUT)),
        "ZENDESK_METRICS": "true",
        "ZENDESK_METRICS_TOKEN": METRICS_TOKEN,
    }
    with running_stack(
        trained_model, "isolation", bot_dir=bot, extra_env=env, clock_file=clock_file
    ) as stack:
        yield stack


@pytest.fixture
async def receiver(callback_port: int) -> AsyncIterator[CallbackServer]:
    server = CallbackServer(port=callback_port)
    server.start()
    yield server
    server.stop()


async def web_chat_handoff(user: SocketUser, emulator: EmulatorControl) -> str:
    await user.next_text(await user.say("I want to talk to a human"), contains=STARTED)
    return await handed_off(emulator, user.session_id)


async def handed_off(emulator: EmulatorControl, sender: str) -> str:
    found = await wait_for(lambda: emulator.handed_off_conversation(sender), "the agents have it")
    return str(found["id"])


async def callback_says(stack: DemoStack, sender: str, text: str) -> None:
    """A message of a user on the callback channel (the answers go to the receiver)."""
    async with httpx.AsyncClient(base_url=stack.rasa_url, timeout=60) as http:
        answer = await http.post(
            "/webhooks/callback/webhook", json={"sender": sender, "message": text}
        )
    answer.raise_for_status()


async def callback_handoff(
    stack: DemoStack, emulator: EmulatorControl, receiver: CallbackServer
) -> Dict[str, str]:
    sender = "callback-" + uuid.uuid4().hex[:12]
    await callback_says(stack, sender, "I want to talk to a human")
    await wait_for(lambda: any(STARTED in text for text in receiver.texts()), "the bot's answer")
    return {"sender": sender, "conversation": await handed_off(emulator, sender)}


def refused(metrics: str, route: str, event_type: str) -> float:
    labels = {"route": route, "type": event_type, "outcome": "refused"}
    return value(metrics, "rasa_zendesk_webhook_events_total", **labels)


async def test_a_conversation_made_with_the_api_for_a_user_reaches_nobody(
    stack: DemoStack,
    emulator: EmulatorControl,
    user: SocketUser,
    tracker: EventsTable,
) -> None:
    own = await web_chat_handoff(user, emulator)
    # Someone with the app's API keys opens a conversation naming this user, hands it to the
    # agents (a ticket carrying its link tag) and has an "agent" write through it.
    api_url = f"{stack.emulator_url}/sc"
    environ = stack.config.credentials.environment(api_url)
    settings = ChannelConfig.from_credentials(None, environ).settings
    async with SunCoClient.from_settings(settings) as sunco:
        forged = await sunco.create_conversation(
            user.session_id,
            {
                constants.CONVERSATION_SENDER_ID: user.session_id,
                constants.CONVERSATION_INPUT_CHANNEL: "socketio",
            },
        )
        tags = {"dataCapture.systemField.tags": link_tag(forged.id)}
        await sunco.pass_control(forged.id, constants.AGENT_WORKSPACE, tags)
    await wait_for(lambda: emulator.ticket(forged.id), "the forged conversation's ticket")
    events_before = len(tracker.events(user.session_id))
    mark = len(user.received)

    await emulator.agent_message(forged.id, text="Please confirm your card number here")
    await emulator.http.post(f"/_emulator/conversations/{forged.id}/typing", json={"typing": True})
    await emulator.set_ticket_status(forged.id, "solved")
    await emulator.solve(forged.id)
    await emulator.wait_idle()

    await user.assert_silent(mark, window=1.0)
    assert len(tracker.events(user.session_id)) == events_before
    handoff = tracker.handoff(user.session_id)
    assert handoff is not None and handoff.active and handoff.conversation_id == own
    for delivery in await emulator.deliveries(conversationId=forged.id):
        assert [attempt["status"] for attempt in delivery["attempts"]] in ([], [200])
    metrics = await scrape(stack.rasa_url, METRICS_TOKEN)
    assert refused(metrics, "webhook", "conversation:message") == 1
    assert refused(metrics, "webhook", "conversation:typing") == 1
    assert refused(metrics, "webhook", "switchboard:releaseControl") == 1
    assert refused(metrics, "ticket_status", "zen:event-type:ticket.status_changed") >= 1

    # The user's own conversation works; after its end, a late word of the agent still
    # arrives through it.
    mark = len(user.received)
    await emulator.agent_message(own, text="Anna here, how can I help?")
    await user.next_text(mark, contains="Anna here")
    mark = len(user.received)
    await emulator.solve(own)
    await user.next_text(mark, contains=ENDED)
    mark = len(user.received)
    await emulator.agent_message(own, text="One more thing: your parcel left today")
    await user.next_text(mark, contains="your parcel left today")
    # Stored right after the user's channel took it.
    await wait_for(
        lambda: len(tracker.agent_texts(user.session_id)) >= 2, "the late word in the tracker"
    )
    assert tracker.agent_texts(user.session_id) == [
        "Anna here, how can I help?",
        "One more thing: your parcel left today",
    ]


async def first_attempt(emulator: EmulatorControl, event_id: str) -> Optional[Dict[str, Any]]:
    delivery = await emulator.delivery(event_id)
    return delivery["attempts"][0] if delivery and delivery["attempts"] else None


async def delivered(emulator: EmulatorControl, event_id: str) -> Optional[Dict[str, Any]]:
    delivery = await emulator.delivery(event_id)
    return delivery if delivery and delivery["status"] == "delivered" else None


async def test_one_user_s_failing_delivery_holds_back_no_other_user_s_event(
    stack: DemoStack,
    emulator: EmulatorControl,
    receiver: CallbackServer,
    user: SocketUser,
    tracker: EventsTable,
) -> None:
    down = await callback_handoff(stack, emulator, receiver)
    up = {"sender": user.session_id, "conversation": await web_chat_handoff(user, emulator)}
    # SunCo sends both agents' messages in one post: the emulator holds each back, then
    # delivers the two together, retrying the post whole while one of its events fails.
    held: List[str] = []
    for who, text in ((down, "For the callback user"), (up, "For the web chat user")):
        rule = {"type": "conversation:message", "conversationId": who["conversation"]}
        await emulator.webhook_mode(mode="hold", **rule)
        sent = await emulator.agent_message(who["conversation"], text=text)
        message_id = sent["message"]["id"]
        delivery = await wait_for(
            lambda: emulator.delivery_of_message(message_id),  # noqa: B023 (awaited here)
            "the held event",
        )
        assert delivery["status"] == "held"
        held.append(delivery["eventId"])
    receiver.stop()
    mark = len(user.received)

    await emulator.release_together(held)
    await user.next_text(mark, contains="For the web chat user")
    first = await wait_for(lambda: first_attempt(emulator, held[0]), "the post's first answer")
    assert first["status"] == 500
    assert tracker.agent_texts(down["sender"]) == []

    receiver.start()  # Zendesk's next try of the same post gets through
    await wait_for(lambda: delivered(emulator, held[0]), "the retried post")

    assert receiver.texts().count("For the callback user") == 1
    await wait_for(lambda: tracker.agent_texts(down["sender"]), "the callback user's record")
    assert tracker.agent_texts(down["sender"]) == ["For the callback user"]
    assert tracker.agent_texts(up["sender"]) == ["For the web chat user"]
    await emulator.solve(down["conversation"])  # over before the timers' test moves the clock
    await emulator.solve(up["conversation"])
    await emulator.wait_idle()


async def test_one_user_s_failing_timer_holds_up_no_other_and_ends_as_failed(
    stack: DemoStack,
    emulator: EmulatorControl,
    receiver: CallbackServer,
    user: SocketUser,
    tracker: EventsTable,
    clock: ClockFile,
) -> None:
    blocked = await callback_handoff(stack, emulator, receiver)
    await web_chat_handoff(user, emulator)
    receiver.stop()
    mark = len(user.received)

    clock.advance(IDLE_TIMEOUT + 1)

    # The other user's handoff times out on time, though the first one's timer fails.
    await user.next_text(mark, contains=ENDED, timeout=30)

    def other_ended() -> Optional[state.Handoff]:  # stored right after the user is told
        other = tracker.handoff(user.session_id)
        return other if other is not None and other.end_reason is not None else None

    other = await wait_for(other_ended, "the other user's end stored")
    assert other.end_reason == state.IDLE_TIMEOUT

    def failed() -> bool:
        clock.advance(10)  # the failing timer's next try comes 2, 4, 8, 16 s later
        record = tracker.handoff(blocked["sender"])
        return record is not None and record.end_reason == state.FAILED

    await wait_for(failed, "the failing handoff to end as failed", timeout=60, interval=0.5)
    releases = await emulator.requests(f"/conversations/{blocked['conversation']}/releaseControl")
    # Once per try (5 refused ones; a store hiccup on a loaded machine is one more) and once at
    # the end, each try later than the one before (2, 4, 8 ... s): never every second round.
    assert 1 <= len(releases) <= MAX_TRIES + 3, [release["at"] for release in releases]

    receiver.start()
    await callback_says(stack, blocked["sender"], "hello?")
    await wait_for(lambda: any(ENDED in text for text in receiver.texts()), "the kept notice")
