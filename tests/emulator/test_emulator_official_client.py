"""Zendesk's own generated client drives the emulator: it speaks real SunCo, not our dialect."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from testkit import spec
from testkit.emulator_support import SunCoApi, WebhookReceiver

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(spec.__file__).with_name("sunco_client_driver.py")


async def run(*command: str, env: dict) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, f"{command[0]} failed:\n{stderr.decode()}"
    return stdout.decode()


@pytest.mark.timeout(600)  # the first run builds the client's venv from PyPI
async def test_the_official_client_drives_a_handoff(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    env = dict(os.environ)
    python = (await run(str(REPO / "scripts" / "sunco-client-venv"), env=env)).strip()
    assert Path(python).exists(), python

    config = api.server.config
    env["SUNCO_KEY_SECRET"] = config.key_secret
    output = await run(
        python,
        str(DRIVER),
        "--host",
        api.server.api_url,
        "--app-id",
        config.app_id,
        "--key-id",
        config.key_id,
        env=env,
    )
    seen = json.loads(output.strip().splitlines()[-1])

    assert seen["duplicate_status"] == 409
    assert seen["fetched_external_id"] == "official-client-user"
    assert seen["created_active"] == "rasa"
    assert seen["active_after_pass"] == "zd-agentWorkspace"
    assert seen["active_after_release"] is None
    assert seen["message_author_user_id"] == seen["user_id"]
    assert seen["listed_texts"] == ["Hello from the official client"]
    assert seen["missing_status"] == 404
    assert seen["missing_body"]["errors"][0]["code"] == "conversation_not_found"

    # The emulator's own view agrees.
    state = await api.control("GET", "/state")
    (conversation,) = state["conversations"]
    assert conversation["id"] == seen["conversation_id"]
    assert conversation["metadata"] == {"rasa_sender_id": "official-client-user"}
    assert "activeSwitchboardIntegration" not in conversation
    assert conversation["agentStatus"] == "released"
    assert [m["metadata"] for m in conversation["messages"]] == [{"rasa_zendesk_origin": "rasa"}]
    user = state["users"][0]
    assert user["profile"] == {
        "givenName": "Grace",
        "surname": "Hopper",
        "email": "grace@example.com",
    }

    # What the client sent is the spec's shape, and it produced the webhooks of a handoff.
    requests = (await api.control("GET", "/requests"))["requests"]
    for request in requests:
        spec.validate_request(request["method"], request["path"], request["body"])
    pass_control = next(r for r in requests if r["path"].endswith("/passControl"))
    assert pass_control["body"] == {
        "switchboardIntegration": "zd-agentWorkspace",
        "metadata": {"first_message_id": seen["message_id"]},
    }
    await receiver.wait_for(lambda r: r.events("switchboard:releaseControl"))
    kinds = [event["type"] for event in receiver.events()]
    assert kinds == [
        "conversation:create",
        "conversation:message",
        "switchboard:passControl",
        "switchboard:releaseControl",
    ]
    released = receiver.events("switchboard:releaseControl")[0]["payload"]
    assert released["metadata"] == {"released_by": "client"}
