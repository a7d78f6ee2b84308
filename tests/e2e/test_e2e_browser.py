"""The demo in a real browser: Debian's Chromium, driven by Playwright, walks the story on the
customer page (rasa-webchat) and in the agent console, and saves a screenshot of every step to
artifacts/screenshots/.
"""

from __future__ import annotations

import re
from typing import List
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, expect

from demo.stack import DemoStack
from testkit.browser import browser, item_selector, send  # noqa: F401 (fixture)
from testkit.emulator_control import EmulatorControl, wait_for
from testkit.processes import ARTIFACTS
from testkit.stack_users import COMMENT, RATE, THANKS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SCREENSHOTS = ARTIFACTS / "screenshots"
STEP = 20_000  # ms to wait for each visible step (the widget delays bot messages up to 3 s)


class Shots:
    """Numbered screenshots, so the directory reads as the story."""

    def __init__(self) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()
        self.count = 0

    async def take(self, page: Page, name: str) -> None:
        self.count += 1
        await page.screenshot(path=str(SCREENSHOTS / f"{self.count:02d}-{name}.png"))


@pytest.mark.timeout(300)
async def test_customer_and_agent_walk_the_story_in_chromium(
    e2e_stack: DemoStack,
    browser: Browser,  # noqa: F811 (the imported fixture)
) -> None:
    expect.set_options(timeout=STEP)
    shots = Shots()
    emulator = EmulatorControl(e2e_stack.emulator_url)
    requested: List[str] = []
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.on("request", lambda request: requested.append(request.url))
    try:
        customer = await context.new_page()
        await customer.goto(e2e_stack.web_url)
        bot = customer.locator(".rw-response")

        # The web chat connects and greets (initPayload /greet).
        await expect(customer.locator(".rw-conversation-container")).to_be_visible()
        await expect(bot.filter(has_text="Acme support bot").first).to_be_visible()
        await shots.take(customer, "customer-greeted")

        # A question the bot answers by itself, then the request for a human.
        await send(customer, "where is my order?")
        await expect(bot.filter(has_text="order number").last).to_be_visible()
        await send(customer, "I want to talk to a human")
        await expect(bot.filter(has_text="connecting you with a human agent")).to_be_visible()
        await shots.take(customer, "customer-asked-for-a-human")

        # The agent opens the new ticket in the console: summary and transcript are there.
        session_id = await customer.evaluate(
            "() => JSON.parse(sessionStorage.getItem('chat_session') || '{}').session_id"
        )
        assert session_id, "the web chat keeps its session id in session storage"
        conversation = await wait_for(
            lambda: emulator.handed_off_conversation(session_id), "the ticket in Zendesk"
        )
        console = await context.new_page()
        await console.goto(e2e_stack.console_url)
        await console.get_by_test_id("queue").locator(item_selector(conversation)).click()
        panel = console.get_by_test_id("conversation")
        await expect(panel).to_have_attribute("data-conversation-id", conversation["id"])
        await expect(console.get_by_test_id("handoff-metadata")).to_contain_text("first_message_id")
        transcript = console.get_by_test_id("transcript")
        summary_text = conversation["messages"][0]["content"]["text"].splitlines()[0]
        first = transcript.get_by_test_id("message").first
        await expect(first).to_contain_text(summary_text)
        # The transcript follows the summary, each turn with its speaker.
        await expect(first).to_contain_text("User: where is my order?")
        await first.scroll_into_view_if_needed()
        await shots.take(console, "console-ticket-with-summary")

        # The customer writes to the agent; the bot keeps quiet.
        bot_before = await bot.count()
        await send(customer, "My order 87654321 has not arrived")
        await expect(
            transcript.locator('[data-role="user"]').filter(has_text="87654321 has not arrived")
        ).to_be_visible()

        # The agent answers with text, an image and a file.
        reply = console.get_by_test_id("reply-input")
        await reply.click()
        await reply.type("Hi, I'm Alex from Acme. Here is your receipt and invoice.")
        await console.get_by_test_id("send-button").click()
        await expect(bot.filter(has_text="Here is your receipt and invoice")).to_be_visible()
        await console.get_by_test_id("send-image").click()
        image = customer.locator("img.rw-image-frame")
        await expect(image).to_have_attribute(
            "src", re.compile(r"/_emulator/samples/receipt\.png$")
        )
        await console.get_by_test_id("send-file").click()
        link = customer.locator(".rw-response a", has_text="invoice.pdf")
        await expect(link).to_have_attribute(
            "href", re.compile(r"/_emulator/samples/invoice\.pdf$")
        )
        await expect(image).to_have_js_property("complete", True)
        assert await image.evaluate("img => img.naturalWidth") > 0, "the image did not load"
        # Only who joined and the agent's three messages arrived (three texts, one image): the
        # bot said nothing of its own.
        await expect(bot.filter(has_text="has joined the chat")).to_have_count(1)
        assert await bot.count() == bot_before + 3
        await expect(customer.locator(".rw-image-frame")).to_have_count(1)
        await expect(transcript.locator('[data-role="agent"]')).to_have_count(3)
        await shots.take(console, "console-agent-replied")
        await shots.take(customer, "customer-got-text-image-file")

        # The agent solves the ticket: Zendesk's ticket webhook tells the plugin at once,
        # although Agent Workspace keeps the conversation until the ticket closes.
        await console.get_by_test_id("solve-button").click()
        await expect(bot.filter(has_text="back with the bot")).to_be_visible()
        # The example bot's after_handoff_action asks at once for a rating (its CSAT form).
        await expect(bot.filter(has_text=RATE)).to_be_visible()
        await shots.take(console, "console-solved")
        await send(customer, "5")
        await expect(bot.filter(has_text=COMMENT)).to_be_visible()
        await send(customer, "no")
        await expect(bot.filter(has_text=THANKS)).to_be_visible()
        await send(customer, "hi")
        await expect(bot.filter(has_text="Acme support bot")).to_have_count(2)
        await shots.take(customer, "customer-back-with-the-bot")
        # Later the ticket closes and Agent Workspace gives the conversation back: the
        # customer, long back with the bot, hears nothing more of it.
        told = await bot.count()
        await console.get_by_test_id("close-button").click()
        closed = console.get_by_test_id("solved-list").locator(item_selector(conversation))
        await expect(closed).to_be_visible()
        await emulator.wait_idle()
        await expect(bot.filter(has_text="back with the bot")).to_have_count(1)
        assert await bot.count() == told
    finally:
        await context.close()
        await emulator.close()

    # Everything the pages loaded came from this machine.
    outside = [url for url in requested if not _local(url)]
    assert not outside, f"the pages fetched from the internet: {outside}"


def _local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or parts.hostname in ("127.0.0.1", "localhost")
