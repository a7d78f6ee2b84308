"""Two Zendesk connectors in one bot, with real processes: the example bot in `rasa run`,
`rasa run actions`, and one emulator serving two apps (the default `app_demo` and `app_eu`).

The bot sends web chat (socket.io) users to connector `eu` (`connector_by_channel`) and REST
users to the default one. Each conversation's messages stay in its own app; each app's
webhooks reach its own route with its own secrets; a webhook that reaches another
connector's route is refused.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional

import httpx
import pytest

from demo.stack import DemoStack
from rasa_zendesk.handoff import state
from testkit.emulator_control import EmulatorControl, user_texts, wait_for
from testkit.events_table import EventsTable
from testkit.processes import running, stack_config
from testkit.socket_user import SocketUser
from testkit.stack_users import ENDED, STARTED, emulator_of

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

EU = {
    "appId": "app_eu",
    "keyId": "key_eu",
    "keySecret": "secret_eu_6f1a",
    "webhookSecret": "whsec_eu_2c9d",
    "ticketWebhookSecret": "tkwh_eu_8b3e",
}


@pytest.fixture(scope="module")
def stack(trained_model: Path) -> Iterator[DemoStack]:
    env = {
        "ZENDESK_CONNECTORS": "eu",
        "ZENDESK_CONNECTOR_EU_SUBDOMAIN": "acme-eu",
        "ZENDESK_CONNECTOR_EU_APP_ID": EU["appId"],
        "ZENDESK_CONNECTOR_EU_KEY_ID": EU["keyId"],
        "ZENDESK_CONNECTOR_EU_KEY_SECRET": EU["keySecret"],
        "ZENDESK_CONNECTOR_EU_WEBHOOK_SECRET": EU["webhookSecret"],
        "ZENDESK_CONNECTOR_EU_TICKET_WEBHOOK_SECRET": EU["ticketWebhookSecret"],
        "ZENDESK_CONNECTOR_EU_TAGS": "brand_eu",
        "ZENDESK_CONNECTOR_BY_CHANNEL": "socketio=eu",
    }
    config = stack_config(trained_model, "connectors", extra_env=env)
    # The second app's API is the same emulator's, as the first one's.
    emulator_api = f"http://127.0.0.1:{config.ports.emulator}/sc"
    config.extra_env = {**env, "ZENDESK_CONNECTOR_EU_API_URL": emulator_api}
    with running(config) as stack:
        yield stack


@pytest.fixture
async def emulator(stack: DemoStack) -> AsyncIterator[EmulatorControl]:
    async with emulator_of(stack) as control:
        if not [app for app in await control.apps() if app["id"] == EU["appId"]]:
            base = f"{stack.rasa_url}/webhooks/zendesk/eu"
            await control.add_app(
                **EU, webhookUrls=[f"{base}/webhook"], ticketWebhookUrls=[f"{base}/ticket_status"]
            )
        yield control


async def rest_says(stack: DemoStack, sender: str, text: str) -> List[Dict[str, Any]]:
    async with httpx.AsyncClient(base_url=stack.rasa_url, timeout=60) as http:
        answer = await http.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    answer.raise_for_status()
    return answer.json()


async def handed_off(emulator: EmulatorControl, sender: str) -> Dict[str, Any]:
    return await wait_for(lambda: emulator.handed_off_conversation(sender), "the agents have it")


async def web_chat_handoff(user: SocketUser, emulator: EmulatorControl) -> Dict[str, Any]:
    await user.next_text(await user.say("I want to talk to a human"), contains=STARTED)
    return await handed_off(emulator, user.session_id)


async def test_each_conversation_goes_to_its_own_account(
    stack: DemoStack,
    emulator: EmulatorControl,
    user: SocketUser,
    tracker: EventsTable,
) -> None:
    # A web chat user goes to `eu`; a REST user to the default connector.
    eu_conversation = await web_chat_handoff(user, emulator)
    rest_sender = "rest-" + uuid.uuid4().hex[:12]
    answer = await rest_says(stack, rest_sender, "I want to talk to a human")
    assert any(STARTED in (m.get("text") or "") for m in answer)
    default_conversation = await handed_off(emulator, rest_sender)
    assert (eu_conversation["appId"], default_conversation["appId"]) == ("app_eu", "app_demo")
    assert "brand_eu" in eu_conversation["ticket"]["tags"]
    assert "brand_eu" not in default_conversation["ticket"]["tags"]

    # Messages each way stay on their own account.
    await user.say("my parcel is lost")
    await rest_says(stack, rest_sender, "my invoice is wrong")

    async def relayed(conversation_id: str, text: str) -> Optional[bool]:
        conversation = await emulator.conversation_of_id(conversation_id)
        return text in user_texts(conversation) or None

    await wait_for(lambda: relayed(eu_conversation["id"], "my parcel is lost"), "eu relay")
    await wait_for(lambda: relayed(default_conversation["id"], "my invoice is wrong"), "relay")
    eu_texts = user_texts(await emulator.conversation_of_id(eu_conversation["id"]))
    assert "my invoice is wrong" not in eu_texts

    mark = len(user.received)
    await emulator.agent_message(eu_conversation["id"], text="Anna from EU support here")
    await emulator.agent_message(default_conversation["id"], text="Ben from support here")
    await user.next_text(mark, contains="Anna from EU support")
    await wait_for(lambda: "Ben from support here" in tracker.agent_texts(rest_sender), "Ben")
    await wait_for(lambda: tracker.agent_texts(user.session_id), "Anna's record")
    assert tracker.agent_texts(user.session_id) == ["Anna from EU support here"]

    # The eu ticket is solved: eu's ticket webhook, eu's secret, eu's route.
    mark = len(user.received)
    await emulator.set_ticket_status(eu_conversation["id"], "solved")
    await user.next_text(mark, contains=ENDED)

    def ended() -> Optional[state.Handoff]:  # stored right after the user is told
        handoff = tracker.handoff(user.session_id)
        return handoff if handoff is not None and handoff.end_reason is not None else None

    handoff = await wait_for(ended, "the end stored")
    assert handoff.connector == "eu" and handoff.end_reason == state.TICKET_SOLVED
    rest_handoff = tracker.handoff(rest_sender)
    assert rest_handoff is not None and rest_handoff.active and rest_handoff.connector == "default"


async def test_a_webhook_on_another_connector_s_route_is_refused(
    stack: DemoStack,
    emulator: EmulatorControl,
    user: SocketUser,
    tracker: EventsTable,
) -> None:
    conversation = await web_chat_handoff(user, emulator)
    # An admin points app_eu's webhook at the default connector's URL, with its secret.
    default_route = f"{stack.rasa_url}/webhooks/zendesk/webhook"
    await emulator.configure_webhooks(
        app=EU["appId"],
        url=default_route,
        secret=stack.config.credentials.webhook_secret,
    )
    try:
        mark = len(user.received)
        sent = await emulator.agent_message(conversation["id"], text="this must not arrive")
        await emulator.wait_idle()
        delivery = await emulator.delivery_of_message(sent["message"]["id"])
        assert delivery is not None and delivery["status"] == "delivered"  # a 200: no retries
        assert len(delivery["attempts"]) == 1
        await user.assert_silent(mark, window=1.0)
        assert "this must not arrive" not in tracker.agent_texts(user.session_id)
        log = (stack.config.run_dir / "rasa.log").read_text()
        assert "belongs to connector eu: refused" in log
    finally:
        base = f"{stack.rasa_url}/webhooks/zendesk/eu"
        await emulator.configure_webhooks(
            app=EU["appId"], url=f"{base}/webhook", secret=EU["webhookSecret"]
        )
    # Through its own route again, the agent reaches the user.
    mark = len(user.received)
    await emulator.agent_message(conversation["id"], text="now it arrives")
    await user.next_text(mark, contains="now it arrives")
