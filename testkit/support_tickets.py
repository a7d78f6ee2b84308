"""The Support API side of a handoff for tests: an in-process emulator whose account has a
ticket to rate, and a connector's settings that reach it by a static OAuth token or by the
emulator's OAuth client (`client_credentials`)."""

from __future__ import annotations

from typing import Any, AsyncIterator, Dict, Optional, Tuple

import aiohttp

from rasa_zendesk.emulator import EmulatorConfig, EmulatorServer, run_emulator
from rasa_zendesk.emulator.config import (
    DEFAULT_SUPPORT_OAUTH_CLIENT_ID,
    DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET,
    DEFAULT_SUPPORT_OAUTH_TOKEN,
)
from rasa_zendesk.settings import Connectors, Sources, ZendeskSettings
from rasa_zendesk.tickets import support_api
from testkit.emulator_support import SunCoApi

#: passControl metadata that routes the ticket: group, brand, two custom fields.
ROUTED = {
    "dataCapture.systemField.subject": "Billing question",
    "dataCapture.systemField.group_id": "360000111",
    "dataCapture.systemField.brand_id": "360000222",
    "dataCapture.ticketField.360001234567": "12345678",
    "dataCapture.ticketField.360007654321": "billing",
}


def connector(
    server: EmulatorServer, client_credentials: bool = False, **values: str
) -> ZendeskSettings:
    """The default connector's settings against `server`'s Support API: its static token, or
    its OAuth client; `values` add or override settings (`csat_field_id="..."`)."""
    auth = (
        {
            "ZENDESK_SUPPORT_OAUTH_CLIENT_ID": DEFAULT_SUPPORT_OAUTH_CLIENT_ID,
            "ZENDESK_SUPPORT_OAUTH_CLIENT_SECRET": DEFAULT_SUPPORT_OAUTH_CLIENT_SECRET,
        }
        if client_credentials
        else {"ZENDESK_SUPPORT_OAUTH_TOKEN": DEFAULT_SUPPORT_OAUTH_TOKEN}
    )
    env: Dict[str, str] = {
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_APP_ID": server.config.app_id,
        "ZENDESK_KEY_ID": server.config.key_id,
        "ZENDESK_KEY_SECRET": server.config.key_secret,
        "ZENDESK_WEBHOOK_SECRET": "whsec",
        "ZENDESK_API_URL": server.api_url,
        "ZENDESK_SUPPORT_API_URL": server.base_url,
        **auth,
        **{f"ZENDESK_{key.upper()}": value for key, value in values.items()},
    }
    return Connectors.read(Sources(None, env)).default


async def emulated_account(**config: Any) -> AsyncIterator[Tuple[EmulatorServer, SunCoApi]]:
    """An emulator (port 0, `config` on top) and a checking client; fetched tokens of an
    earlier test are forgotten."""
    support_api._tokens.clear()
    async with run_emulator(EmulatorConfig(port=0, **config)) as server:
        async with aiohttp.ClientSession() as session:
            yield server, SunCoApi(session, server)


async def ticket_of_handoff(
    api: SunCoApi, sender: str = "rasa-1", metadata: Optional[Dict[str, Any]] = None
) -> Tuple[str, str]:
    """A handoff to Agent Workspace (its ticket opens): (conversation id, ticket id)."""
    await api.create_user(sender, givenName="Jane", surname="Doe")
    conversation = await api.create_conversation(sender, {"rasa_sender_id": sender})
    await api.pass_control(conversation["id"], "zd-agentWorkspace", metadata or ROUTED)
    shown = await api.control("GET", f"/conversations/{conversation['id']}/ticket")
    return str(conversation["id"]), str(shown["ticket"]["id"])
