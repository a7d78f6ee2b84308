"""Rich messages and files in a real browser (Debian's Chromium, driven by Playwright) on the
demo stack: the agent's quick replies, sent from the console, show as buttons in rasa-webchat;
the customer's click reaches the console (as the user's text, marked as that button); an image
the customer attaches on the page reaches the console as an image, uploaded to Zendesk.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from demo.stack import DemoStack
from rasa_zendesk.emulator.samples import samples
from testkit.browser import browser, item_selector, send  # noqa: F401 (fixture)
from testkit.emulator_control import EmulatorControl, wait_for
from testkit.processes import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SCREENSHOTS = ARTIFACTS / "screenshots-rich"
STEP = 20_000  # ms for each visible step (the widget delays bot messages up to 3 s)


@pytest.mark.timeout(300)
async def test_quick_replies_a_click_and_an_image_in_chromium(
    e2e_stack: DemoStack,
    browser: Browser,  # noqa: F811 (the imported fixture)
) -> None:
    expect.set_options(timeout=STEP)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    emulator = EmulatorControl(e2e_stack.emulator_url)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        customer = await context.new_page()
        await customer.goto(e2e_stack.web_url)
        bot = customer.locator(".rw-response")
        await expect(bot.filter(has_text="Acme support bot").first).to_be_visible()
        await send(customer, "I want to talk to a human")
        await expect(bot.filter(has_text="connecting you with a human agent")).to_be_visible()
        session_id = await customer.evaluate(
            "() => JSON.parse(sessionStorage.getItem('chat_session') || '{}').session_id"
        )
        conversation = await wait_for(
            lambda: emulator.handed_off_conversation(session_id), "the ticket in Zendesk"
        )

        console = await context.new_page()
        await console.goto(e2e_stack.console_url)
        await console.get_by_test_id("queue").locator(item_selector(conversation)).click()
        await expect(console.get_by_test_id("conversation")).to_have_attribute(
            "data-conversation-id", conversation["id"]
        )
        transcript = console.get_by_test_id("transcript")

        # The agent offers quick replies; the customer sees them as buttons.
        await console.get_by_test_id("quick-text").fill("Which size do you need?")
        await console.get_by_test_id("quick-replies").fill("Small, Medium, Large")
        await console.get_by_test_id("send-quick-replies").click()
        offer = transcript.locator('[data-role="agent"]').filter(has_text="Which size")
        await expect(offer.get_by_test_id("message-action")).to_have_count(3)
        await expect(bot.filter(has_text="Which size do you need?")).to_be_visible()
        buttons = customer.locator(".rw-replies .rw-reply")
        await expect(buttons).to_have_count(3)
        await expect(buttons).to_have_text(["Small", "Medium", "Large"])
        await customer.screenshot(path=str(SCREENSHOTS / "01-customer-quick-replies.png"))

        # The click reaches the agent as the customer's answer to that offer.
        await buttons.filter(has_text="Medium").click()
        clicked = transcript.locator('[data-role="user"][data-clicked="Medium"]')
        await expect(clicked).to_be_visible()
        await expect(clicked.get_by_test_id("message-clicked")).to_contain_text("Medium")
        await console.screenshot(path=str(SCREENSHOTS / "02-console-click.png"))

        # The customer attaches an image on the page; the agent gets it as an image.
        _, png = samples()["receipt.png"]
        await customer.get_by_test_id("attach-file").set_input_files(
            files=[{"name": "my-receipt.png", "mimeType": "image/png", "buffer": png}]
        )
        await expect(customer.get_by_test_id("attach-status")).to_have_text("Sent my-receipt.png")
        image = transcript.locator('[data-role="user"][data-content-type="image"] img')
        await expect(image).to_have_attribute("src", re.compile(r"/sc/attachments/v2/"))
        await expect(image).to_have_js_property("complete", True)
        assert await image.evaluate("img => img.naturalWidth") > 0, "the image did not load"
        await console.screenshot(path=str(SCREENSHOTS / "03-console-image.png"))

        # Zendesk holds the very bytes the customer attached (an upload, not the page's URL).
        state = await emulator.conversation_of_id(conversation["id"])
        (media_url,) = (
            m["content"]["mediaUrl"]
            for m in state["messages"]
            if m["author"]["type"] == "user" and m["content"]["type"] == "image"
        )
        response = await emulator.http.get(media_url)
        assert response.content == png
        calls = await emulator.requests("/attachments")
        uploads = [call for call in calls if call["method"] == "POST"]
        assert uploads and all(call["query"]["access"] == "public" for call in uploads)
    finally:
        await context.close()
        await emulator.close()
