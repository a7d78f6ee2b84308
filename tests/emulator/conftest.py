"""Fixtures for the emulator tests: a real emulator, a real webhook receiver, a checking client.

A test fails if any API response or webhook does not match the spec (see emulator_support).
"""

from __future__ import annotations

from typing import AsyncIterator

import aiohttp
import pytest

from rasa_zendesk.emulator import EmulatorConfig, EmulatorServer, run_emulator
from testkit.emulator_support import FAST_RETRIES, SunCoApi, WebhookReceiver, start_receiver


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    receiver, runner = await start_receiver()
    yield receiver
    await runner.cleanup()
    assert receiver.invalid == [], "webhooks that do not match the spec"


@pytest.fixture
def emulator_config(receiver: WebhookReceiver) -> EmulatorConfig:
    return EmulatorConfig(
        port=0,
        webhook_urls=[receiver.url],
        webhook_retry_delays=FAST_RETRIES,
        webhook_timeout=2.0,
        hang_seconds=10.0,
    )


@pytest.fixture
async def emulator(emulator_config: EmulatorConfig) -> AsyncIterator[EmulatorServer]:
    async with run_emulator(emulator_config) as server:
        yield server


@pytest.fixture
async def api(emulator: EmulatorServer) -> AsyncIterator[SunCoApi]:
    async with aiohttp.ClientSession() as session:
        yield SunCoApi(session, emulator)
        # Whatever the test sent, the emulator never answered 500 (unless a fault said so).
        log = await SunCoApi(session, emulator).control("GET", "/requests")
        assert [r for r in log["requests"] if r["status"] == 500 and not r["fault"]] == []
