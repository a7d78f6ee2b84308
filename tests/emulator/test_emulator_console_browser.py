"""The agent console in Chromium (Playwright): the handoff state of a conversation, and the
"Zendesk's unkind parts" panel that holds a hand-back webhook, releases it, and arms an
applied-then-500 fault, all through the emulator's control API; the ticket's Solve and Close.

Saves a screenshot to artifacts/screenshots/emulator/ (a folder of its own, so the e2e browser
test, which empties artifacts/screenshots/, leaves it alone).
"""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, List

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from testkit.browser import CHROMIUM, CHROMIUM_ARGS
from testkit.emulator_support import SunCoApi, WebhookReceiver

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "emulator"
STEP = 10_000  # ms for each visible step (the console polls every second)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is missing: run scripts/test-deps")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def console(browser: Browser, api: SunCoApi) -> AsyncIterator[Page]:
    expect.set_options(timeout=STEP)
    context = await browser.new_context(viewport={"width": 1400, "height": 860})
    page = await context.new_page()
    errors: List[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(api.server.base_url + "/console")
    await expect(page.get_by_test_id("connection")).to_have_text("connected")
    yield page
    await context.close()
    assert errors == [], "the console's script failed"


async def test_hold_the_hand_back_release_it_and_arm_an_applied_then_500(
    api: SunCoApi, receiver: WebhookReceiver, console: Page
) -> None:
    conversation = await api.handed_off()
    cid = conversation["id"]
    state = console.get_by_test_id("handoff-state")
    item = console.get_by_test_id("queue").locator(f'[data-conversation-id="{cid}"]')

    # Waiting, then with the agent once the agent has written.
    await expect(console.get_by_test_id("conversation")).to_have_attribute(
        "data-conversation-id", cid
    )
    await expect(state).to_have_attribute("data-state", "waiting")
    await expect(state).to_contain_text("waiting for an agent (no agent message yet)")
    await expect(item.get_by_test_id("queue-item-state")).to_have_attribute("data-state", "waiting")
    await console.get_by_test_id("reply-input").fill("Hi, I'm Alex. Let me look.")
    await console.get_by_test_id("send-button").click()
    await expect(state).to_have_attribute("data-state", "agent")
    await expect(state).to_contain_text("with the agent")

    # The ticket of the handoff: opened by the agent's first message; Solve keeps the
    # conversation with the agent (until Close), as Zendesk does.
    ticket = console.get_by_test_id("ticket")
    await expect(ticket).to_have_attribute("data-ticket-status", "open")
    await expect(console.get_by_test_id("ticket-id")).to_have_text("Ticket #1001")
    await expect(item.get_by_test_id("queue-item-app")).to_have_text("app_demo")
    await console.get_by_test_id("solve-button").click()
    await expect(ticket).to_have_attribute("data-ticket-status", "solved")
    await expect(item.get_by_test_id("queue-item-ticket")).to_have_text("#1001 solved")
    await expect(console.get_by_test_id("solve-button")).to_be_disabled()
    await expect(state).to_have_attribute("data-state", "agent")

    # Arm: hold the next hand-back webhook. Drop is armed and cleared again on the way.
    panel = console.get_by_test_id("unkind-panel")
    await expect(panel).to_contain_text("Zendesk's unkind parts")
    await console.get_by_test_id("drop-handback").click()
    rules = console.get_by_test_id("delivery-rule")
    await expect(rules).to_have_count(1)
    await expect(rules.first).to_have_attribute("data-mode", "drop")
    await console.get_by_test_id("clear-delivery-rules").click()
    await expect(rules).to_have_count(0)
    assert (await api.control("GET", "/webhook-mode"))["rules"] == []
    await console.get_by_test_id("hold-handback").click()
    await expect(rules).to_have_count(1)
    await expect(rules.first).to_have_attribute("data-mode", "hold")
    await expect(rules.first).to_have_attribute("data-handback", "true")
    await expect(rules.first).to_have_attribute("data-remaining", "1")

    # Arm: the next POST to .../messages is applied, then answered 500.
    await console.get_by_test_id("fault-path").fill("/messages")
    await console.get_by_test_id("arm-fault").click()
    fault_item = console.get_by_test_id("fault-item")
    await expect(fault_item).to_have_count(1)
    await expect(fault_item).to_have_attribute("data-after", "true")
    await expect(fault_item).to_have_attribute("data-status", "500")
    (fault,) = (await api.control("GET", "/faults"))["faults"]
    assert {k: fault[k] for k in ("method", "pathContains", "status", "hang", "after")} == {
        "method": "POST",
        "pathContains": "/messages",
        "status": 500,
        "hang": False,
        "after": True,
    }
    assert (fault["remaining"], fault["hits"]) == (1, 0)

    # Close: the hand-back is held, listed, and the conversation says so.
    await console.get_by_test_id("close-button").click()
    held = console.get_by_test_id("held-event")
    await expect(held).to_have_count(1)
    await expect(held).to_have_attribute("data-event-type", "switchboard:releaseControl")
    await expect(held).to_have_attribute("data-conversation-id", cid)
    await expect(console.get_by_test_id("held-empty")).to_be_hidden()
    await expect(state).to_have_attribute("data-state", "released")
    await expect(state).to_have_attribute("data-reason", "ticketClosed")
    await expect(state).to_have_attribute("data-webhook", "held")
    await expect(state).to_contain_text("released to the bot — reason ticketClosed")
    await expect(state).to_contain_text("hand-back webhook held")
    solved_item = console.get_by_test_id("solved-list").locator(f'[data-conversation-id="{cid}"]')
    await expect(solved_item.get_by_test_id("queue-item-state")).to_have_attribute(
        "data-webhook", "held"
    )
    event_id = await held.get_attribute("data-event-id")
    (delivery,) = (await api.control("GET", "/webhooks?type=switchboard:releaseControl"))[
        "deliveries"
    ]
    assert (delivery["eventId"], delivery["status"], delivery["attempts"]) == (event_id, "held", [])
    assert receiver.events("switchboard:releaseControl") == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await console.screenshot(path=str(SCREENSHOTS / "console-unkind-parts-held.png"))

    # Release: the delivery goes out, the list empties, the conversation says delivered.
    await held.get_by_test_id("release-button").click()
    await expect(held).to_have_count(0)
    await expect(console.get_by_test_id("held-empty")).to_be_visible()
    await expect(state).to_have_attribute("data-webhook", "delivered")
    (delivery,) = (await api.control("GET", "/webhooks?type=switchboard:releaseControl"))[
        "deliveries"
    ]
    assert delivery["status"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [200]
    assert [e["id"] for e in receiver.events("switchboard:releaseControl")] == [event_id]
    await expect(rules.first).to_have_attribute("data-remaining", "0")

    # The armed fault bites once: the message is stored and sent, and the answer is a 500.
    status, _ = await api.call(
        "POST",
        f"/conversations/{cid}/messages",
        json_body={"author": {"type": "business"}, "content": {"type": "text", "text": "hi"}},
    )
    assert status == 500
    messages = (await api.ok("GET", f"/conversations/{cid}/messages"))["messages"]
    assert messages[-1]["content"]["text"] == "hi"
    await expect(fault_item).to_have_attribute("data-hits", "1")
    await expect(fault_item).to_have_attribute("data-remaining", "0")
    await console.screenshot(path=str(SCREENSHOTS / "console-unkind-parts-released.png"))
    await expect(console.get_by_test_id("unkind-error")).to_have_text("")


async def test_the_ticket_shows_its_routing_and_its_rating(api: SunCoApi, console: Page) -> None:
    await api.create_user("rasa-routed", givenName="Jane", surname="Doe")
    conversation = await api.create_conversation("rasa-routed", {"rasa_sender_id": "rasa-routed"})
    routed = {
        "dataCapture.systemField.group_id": "360000111",
        "dataCapture.systemField.brand_id": "360000222",
        "dataCapture.ticketField.360001234567": "12345678",
    }
    await api.pass_control(conversation["id"], "zd-agentWorkspace", routed)
    fields = console.get_by_test_id("ticket-fields")

    def field(name: str) -> Locator:
        return fields.locator(f'[data-field="{name}"]')

    await expect(field("group")).to_contain_text("360000111")
    await expect(field("brand")).to_contain_text("360000222")
    await expect(field("external-id")).to_contain_text("rasa-routed")
    await expect(field("field-360001234567")).to_contain_text("12345678")
    await expect(field("csat")).to_have_count(0)
    shown = await api.control("GET", f"/conversations/{conversation['id']}/ticket")
    token = {"Authorization": "Bearer zdoauth_demo"}
    update = {
        "ticket": {
            "additional_tags": ["rasa_csat_4"],
            "comment": {"body": "Rated 4. Comment: Quick and kind", "public": False},
        }
    }
    url = f"{api.server.base_url}/api/v2/tickets/{shown['ticket']['id']}.json"
    async with api.session.put(url, json=update, headers=token) as answer:
        assert answer.status == 200
    await expect(field("csat")).to_contain_text("4 / 5")
    await expect(field("note")).to_contain_text("Quick and kind")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await console.screenshot(path=str(SCREENSHOTS / "ticket-fields.png"))
