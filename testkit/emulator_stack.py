"""A real Rasa server with the channel, getting its webhooks from the in-process emulator."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Mapping, Optional, Sequence, Tuple

import httpx
from rasa.core.tracker_store import TrackerStore

from rasa_zendesk import constants
from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.emulator import EmulatorConfig, EmulatorServer, run_emulator
from rasa_zendesk.sunco.client import SunCoClient
from testkit.channel_harness import (
    CREDENTIALS,
    SECRET,
    WEBHOOK_PATH,
    RasaServer,
    WebChat,
    new_id,
    open_web_chat,
    start_handoff,
    start_rasa,
)
from testkit.emulator_control import CONTROL_HEADERS


@dataclass
class EmulatorStack:
    emulator: EmulatorServer
    rasa: RasaServer
    sunco: SunCoClient

    async def control(self, method: str, path: str, body: Any = None) -> Dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.emulator.base_url + "/_emulator") as http:
            answer = await http.request(method, path, json=body, headers=CONTROL_HEADERS)
        assert answer.status_code < 300, answer.text
        return answer.json()

    async def api_calls(self, method: str, path_part: str) -> List[Dict[str, Any]]:
        log = await self.control("GET", "/requests")
        return [r for r in log["requests"] if r["method"] == method and path_part in r["path"]]

    async def settled(self) -> List[Dict[str, Any]]:
        """Every webhook delivery, once none is pending (duplicates included)."""
        done = await self.control("POST", "/webhooks/wait", {"timeout": 20})
        assert done["idle"], done
        return done["deliveries"]

    async def agent_says(self, conversation_id: str, text: str) -> str:
        path = f"/conversations/{conversation_id}/agent-message"
        return (await self.control("POST", path, {"text": text}))["message"]["id"]

    async def new_handoff(self, metadata: bool = True) -> Tuple[str, str]:
        """A user and SunCo conversation as the escalation action makes them."""
        sender_id = "webchat-" + new_id()
        await self.sunco.get_or_create_user(sender_id)
        conversation = await self.sunco.create_conversation(
            sender_id,
            metadata={
                constants.CONVERSATION_SENDER_ID: sender_id,
                constants.CONVERSATION_INPUT_CHANNEL: "socketio",
            }
            if metadata
            else None,
        )
        await start_handoff(self.rasa.store, sender_id, conversation.id)
        return sender_id, conversation.id

    async def handoff(self) -> Tuple[str, str, WebChat]:
        """A user with Agent Workspace, their web chat open, the webhooks so far delivered."""
        sender_id, conversation_id = await self.new_handoff()
        await self.sunco.pass_control(conversation_id, constants.AGENT_WORKSPACE)
        chat = await open_web_chat(self.rasa.url, sender_id)
        await self.settled()
        return sender_id, conversation_id, chat


@contextlib.asynccontextmanager
async def emulator_stack(
    db_path: Path,
    retry_delays: Sequence[float] = (0.2, 0.2),
    credentials: Mapping[str, str] = {},  # noqa: B006 (read only)
    tracker_store: Optional[TrackerStore] = None,
) -> AsyncIterator[EmulatorStack]:
    """The emulator (short retry delays) and Rasa with the channel pointed at each other."""
    config = EmulatorConfig(
        port=0,
        app_id=CREDENTIALS["app_id"],
        key_id=CREDENTIALS["key_id"],
        key_secret=CREDENTIALS["key_secret"],
        webhook_secret=SECRET,
        webhook_retry_delays=tuple(retry_delays),
        webhook_timeout=5.0,
    )
    async with run_emulator(config) as emulator:
        settings = {**CREDENTIALS, "api_url": emulator.api_url, **credentials}
        zendesk = ZendeskInput.from_credentials(settings)
        rasa = await start_rasa(db_path, zendesk=zendesk, tracker_store=tracker_store)  # type: ignore[arg-type]
        sunco = SunCoClient.from_settings(ChannelConfig.from_credentials(settings).settings)
        stack = EmulatorStack(emulator, rasa, sunco)
        await stack.control("POST", "/webhook-config", {"url": rasa.url + WEBHOOK_PATH})
        try:
            yield stack
        finally:
            await sunco.aclose()
            await rasa.stop()
