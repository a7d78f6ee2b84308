"""The example bot's action server as a real process (`python -m rasa_sdk --actions actions`):
the three actions over HTTP, one after the other, on the server's shared SunCo client."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, Iterator

import httpx
import pytest
from rasa.shared.core.events import SlotSet

from rasa_zendesk import constants
from rasa_zendesk.emulator.testing import EmulatorProcess, free_port, stop_process
from rasa_zendesk.handoff import state
from testkit.action_calls import action_call, as_recorded, user
from testkit.action_emulator import REPO, Zendesk

pytestmark = pytest.mark.timeout(90)
SENDER = "webchat-server-1"


@pytest.fixture
def action_server(zendesk: Zendesk) -> Iterator[str]:
    process: EmulatorProcess = zendesk.process
    port = free_port()
    # The environment the zendesk fixture set up, as an operator would export it.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, "the action server exited at start"
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the action server did not start"
                time.sleep(0.2)
            yield url
        finally:
            stop_process(server)
            log.seek(0)
            output = log.read().decode("utf-8", "replace")
            assert process.config.key_secret not in output, "the key secret reached a log"


async def post(url: str, body: Dict[str, Any]) -> Dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(url + "/webhook", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_handoff_relay_and_end_through_the_action_server(
    zendesk: Zendesk, action_server: str
) -> None:
    turns = [*user("hello", "greet"), *user("talk to a human please", "human_handoff")]
    # The user is told first; the follow-up run (Rasa asks for it in the same turn) opens it.
    told = await post(action_server, action_call(constants.ACTION_HANDOFF, SENDER, turns))
    assert [r["response"] for r in told["responses"]] == [constants.UTTER_CONNECTING]
    turns += as_recorded(constants.ACTION_HANDOFF, told)
    started = await post(action_server, action_call(constants.ACTION_HANDOFF, SENDER, turns))
    assert [r["response"] for r in started["responses"]] == ["utter_zendesk_handoff_started"]
    turns += [SlotSet(e["name"], e["value"]) for e in started["events"]]
    handoff = state.active(turns)
    assert handoff is not None
    conversation_id = handoff.conversation_id

    turns += user("my parcel is lost", "inform")
    relayed = await post(action_server, action_call(constants.ACTION_RELAY, SENDER, turns))
    assert relayed["responses"] == []
    assert relayed["events"][0]["value"]["handled_through"] == turns[-1].message_id

    turns += user("/end", constants.INTENT_END_HANDOFF)
    ended = await post(action_server, action_call(constants.ACTION_END_HANDOFF, SENDER, turns))
    assert [r["response"] for r in ended["responses"]] == ["utter_zendesk_handoff_ended"]

    conversation = zendesk.conversation(conversation_id)
    assert conversation["messages"][-2]["content"]["text"] == "my parcel is lost"
    assert conversation["agentStatus"] != "open"
    assert zendesk.operations()[-1] == "POST /conversations/{id}/releaseControl"
