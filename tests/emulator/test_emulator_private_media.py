"""The emulator's "private attachments": uploaded media answer anyone until an app turns the
setting on; then only that app's key, as Zendesk's setting makes it."""

from __future__ import annotations

from typing import AsyncIterator, Tuple

import httpx
import pytest

from rasa_zendesk.emulator import EmulatorConfig, EmulatorServer, run_emulator
from rasa_zendesk.emulator.samples import samples
from testkit.emulator_control import CONTROL_HEADERS

pytestmark = pytest.mark.timeout(30)

OTHER_APP = {
    "appId": "app_other",
    "keyId": "key_other",
    "keySecret": "secret_other",
    "webhookUrls": [],
}


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorServer]:
    async with run_emulator(EmulatorConfig(port=0)) as server:
        yield server


async def upload(server: EmulatorServer, app: str, key: Tuple[str, str]) -> str:
    media_type, data = samples()["receipt.png"]
    async with httpx.AsyncClient(auth=key) as http:
        answer = await http.post(
            f"{server.api_url}/v2/apps/{app}/attachments",
            params={"access": "public"},
            files={"source": ("receipt.png", data, media_type)},
        )
    assert answer.status_code == 201, answer.text
    return answer.json()["attachment"]["mediaUrl"]


async def control(server: EmulatorServer, method: str, path: str, body: object = None) -> dict:
    async with httpx.AsyncClient(base_url=server.base_url + "/_emulator") as http:
        answer = await http.request(method, path, json=body, headers=CONTROL_HEADERS)
    assert answer.status_code < 300, answer.text
    return answer.json()


async def test_media_are_public_until_the_app_makes_them_private(emulator: EmulatorServer) -> None:
    config = emulator.emulator.config
    key = (config.key_id, config.key_secret)
    url = await upload(emulator, config.app_id, key)
    await control(emulator, "POST", "/apps", OTHER_APP)
    other_url = await upload(emulator, "app_other", ("key_other", "secret_other"))
    assert await control(emulator, "GET", "/private-attachments") == {
        "appId": config.app_id,
        "enabled": False,
    }

    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).content == samples()["receipt.png"][1]

        await control(emulator, "POST", "/private-attachments", {"enabled": True})
        await control(emulator, "POST", "/reset?app=app_other")  # settings outlive a reset

        refused = await http.get(url)
        wrong = await http.get(url, auth=("key_other", "secret_other"))
        right = await http.get(url, auth=key)
        other = await http.get(other_url)  # the other app's media stay public

    assert refused.status_code == 401
    assert refused.json() == {
        "errors": [{"code": "unauthorized", "title": "Authorization is required"}]
    }
    assert wrong.status_code == 401
    assert right.status_code == 200 and right.content == samples()["receipt.png"][1]
    assert other.status_code == 404  # the reset removed it: the route answers, it is gone
    assert await control(emulator, "GET", "/private-attachments") == {
        "appId": config.app_id,
        "enabled": True,
    }
    log = await control(emulator, "GET", "/requests?pathContains=/sc/attachments/v2/")
    assert [entry["status"] for entry in log["requests"]][-4:] == [401, 401, 200, 404]


async def test_the_setting_takes_a_boolean(emulator: EmulatorServer) -> None:
    async with httpx.AsyncClient(base_url=emulator.base_url + "/_emulator") as http:
        answer = await http.post("/private-attachments", json={"enabled": "yes"})
    assert answer.status_code == 400
