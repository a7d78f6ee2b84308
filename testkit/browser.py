"""How the browser tests start Chromium (Debian's: Playwright cannot download one here;
headless, with nothing that reaches out to the internet) and what they do on the pages."""

from pathlib import Path
from typing import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: run scripts/test-deps"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def send(customer: Page, text: str) -> None:
    """Type into the web chat and press Enter, as a person does."""
    box = customer.locator(".rw-new-message")
    await box.click()
    await box.type(text)
    await box.press("Enter")
    await expect(customer.locator(".rw-client").filter(has_text=text).last).to_be_visible()


def item_selector(conversation: dict) -> str:
    return f'[data-testid="queue-item"][data-conversation-id="{conversation["id"]}"]'
