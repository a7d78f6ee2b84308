"""Zendesk's side, asked live with the connector's own keys: the credentials authenticate, a
webhook points at the Rasa server (v2, the triggers the README requires, our secret), and the
switchboard has Agent Workspace."""

from __future__ import annotations

import hmac
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

from rasa_zendesk.constants import AGENT_WORKSPACE_TYPE
from rasa_zendesk.ops.doctor.result import Findings
from rasa_zendesk.settings import DEFAULT_CONNECTOR, ZendeskSettings
from rasa_zendesk.sunco.client import SunCoClient
from rasa_zendesk.sunco.errors import SunCoError

AREA = "zendesk"
REQUIRED_TRIGGERS = (
    "conversation:message",
    "switchboard:releaseControl",
    "switchboard:passControl",
)
OPTIONAL_TRIGGERS = ("conversation:typing",)
SETUP_FIX = (
    "Admin Center > Apps and integrations > Conversations integrations > your integration > "
    "Webhook (README, Zendesk-side setup, step 3)"
)


class SetupReader(SunCoClient):
    """The SunCo listings a setup check reads, through the client's one request path."""

    async def integrations(self) -> List[Dict[str, Any]]:
        return (await self._request("GET", "/integrations")).get("integrations") or []

    async def webhooks(self, integration_id: str) -> List[Dict[str, Any]]:
        path = f"/integrations/{integration_id}/webhooks"
        return (await self._request("GET", path)).get("webhooks") or []

    async def switchboards(self) -> List[Dict[str, Any]]:
        return (await self._request("GET", "/switchboards")).get("switchboards") or []

    async def switchboard_integrations(self, switchboard_id: str) -> List[Dict[str, Any]]:
        path = f"/switchboards/{switchboard_id}/switchboardIntegrations"
        return (await self._request("GET", path)).get("switchboardIntegrations") or []


def webhook_path(connector: ZendeskSettings) -> str:
    """The route the connector's SunCo webhook must call on the Rasa server."""
    if connector.name == DEFAULT_CONNECTOR:
        return "/webhooks/zendesk/webhook"
    return f"/webhooks/zendesk/{connector.name}/webhook"


async def check_zendesk(
    connector: ZendeskSettings, findings: Findings, public_url: Optional[str]
) -> None:
    name = f"connector {connector.name}"
    async with SetupReader.from_settings(connector, timeout=10.0, deadline=15.0) as reader:
        try:
            integrations = await reader.integrations()
        except SunCoError as error:
            _not_authenticated(connector, findings, name, error)
            return
        findings.passed(AREA, f"{name} credentials", f"key {connector.key_id} authenticates")
        try:
            await _check_webhooks(reader, integrations, connector, findings, public_url)
            await _check_switchboard(reader, connector, findings)
        except SunCoError as error:
            findings.failed(AREA, name, f"Zendesk answered {error}", "try again; see the log")
    _say_what_is_unproven(connector, findings)


def _not_authenticated(
    connector: ZendeskSettings, findings: Findings, name: str, error: SunCoError
) -> None:
    if error.status in (401, 403):
        detail = (
            f"Zendesk refuses key {connector.key_id} for app {connector.app_id} "
            f"(HTTP {error.status})"
        )
        fix = "check app_id, key_id and key_secret (Conversations integration > API keys)"
    else:
        detail = f"cannot list the app's integrations at {connector.base_url}: {error}"
        fix = "check subdomain or api_url, and that this machine reaches Zendesk"
    findings.failed(AREA, f"{name} credentials", detail, fix)


async def _check_webhooks(
    reader: SetupReader,
    integrations: List[Dict[str, Any]],
    connector: ZendeskSettings,
    findings: Findings,
    public_url: Optional[str],
) -> None:
    what = f"connector {connector.name} webhook"
    path = webhook_path(connector)
    expected = public_url.rstrip("/") + path if public_url else None
    webhooks: List[Dict[str, Any]] = []
    for integration in integrations:
        if integration.get("type") == "custom":
            webhooks += await reader.webhooks(str(integration["id"]))
    targets = [str(w.get("target")) for w in webhooks]
    ours = [
        w
        for w in webhooks
        if (expected and w.get("target") == expected)
        or (not expected and urlsplit(str(w.get("target"))).path == path)
    ]
    if not ours:
        findings.failed(
            AREA,
            what,
            f"no webhook calls {expected or 'a ' + path + ' route'}; "
            f"the app's webhooks call: {', '.join(targets) or 'nothing'}",
            f"{SETUP_FIX}: endpoint {expected or 'https://<your-rasa-host>' + path}",
        )
        return
    webhook = ours[0]
    target = str(webhook.get("target"))
    findings.passed(
        AREA, what, f"calls {target}" + ("" if expected else " (pass --public-url to check it)")
    )
    _check_webhook(webhook, connector, findings, what)
    if urlsplit(target).scheme != "https" and urlsplit(target).hostname not in (
        "localhost",
        "127.0.0.1",
    ):
        findings.warned(AREA, what, f"{target} is not https", "serve the Rasa server over TLS")


def _check_webhook(
    webhook: Dict[str, Any], connector: ZendeskSettings, findings: Findings, what: str
) -> None:
    if webhook.get("version") != "v2":
        findings.failed(
            AREA,
            f"{what} version",
            f"{webhook.get('version')}, not v2",
            "create the webhook again with version v2",
        )
    triggers = set(webhook.get("triggers") or [])
    missing = [t for t in REQUIRED_TRIGGERS if t not in triggers]
    if missing:
        findings.failed(
            AREA,
            f"{what} triggers",
            f"missing {', '.join(missing)}",
            f"{SETUP_FIX}: tick Conversation message, Switchboard release control and "
            "Switchboard pass control",
        )
    else:
        findings.passed(AREA, f"{what} triggers", ", ".join(REQUIRED_TRIGGERS))
    for trigger in OPTIONAL_TRIGGERS:
        if trigger not in triggers:
            findings.warned(
                AREA,
                f"{what} triggers",
                f"no {trigger}: the user will not see the agent typing",
                f"{SETUP_FIX}: tick Conversation typing",
            )
    secret = webhook.get("secret")
    if secret is None:
        findings.noted(AREA, f"{what} secret", "Zendesk did not show the secret; not compared")
    elif hmac.compare_digest(str(secret).encode(), connector.webhook_secret.encode()):
        findings.passed(AREA, f"{what} secret", "the webhook_secret setting")
    else:
        findings.failed(
            AREA,
            f"{what} secret",
            "the webhook's shared secret is not the webhook_secret setting: "
            "the Rasa server will answer every webhook 401",
            "set webhook_secret (ZENDESK_WEBHOOK_SECRET) to the webhook's secret",
        )


async def _check_switchboard(
    reader: SetupReader, connector: ZendeskSettings, findings: Findings
) -> None:
    what = f"connector {connector.name} switchboard"
    boards = await reader.switchboards()
    if not boards:
        findings.failed(AREA, what, "the app has no switchboard", "turn on Agent Workspace")
        return
    board = boards[0]
    members = await reader.switchboard_integrations(str(board["id"]))
    if not board.get("enabled", False):
        findings.failed(AREA, what, "the switchboard is disabled", "enable the switchboard")
    workspace = next((m for m in members if m.get("integrationType") == AGENT_WORKSPACE_TYPE), None)
    if workspace is None:
        findings.failed(
            AREA,
            what,
            "Agent Workspace is not on the switchboard: a handoff has nobody to go to",
            "turn on Agent Workspace for messaging (Admin Center > Workspaces > Agent tools)",
        )
    else:
        findings.passed(AREA, what, f"Agent Workspace is {workspace.get('name')!r}")
    default = next(
        (m for m in members if m.get("id") == board.get("defaultSwitchboardIntegrationId")), None
    )
    responder = default.get("name") if default else "none"
    if default is not None and default.get("integrationType") == AGENT_WORKSPACE_TYPE:
        findings.warned(
            AREA,
            f"{what} default responder",
            "Agent Workspace: new conversations start with the agents, not the bot",
            "make the bot's integration the switchboard's default responder",
        )
    else:
        findings.passed(AREA, f"{what} default responder", f"{responder}")
    wanted = connector.agent_workspace
    if wanted and not any(
        wanted in (m.get("id"), m.get("name"), m.get("integrationType")) for m in members
    ):
        findings.failed(
            AREA,
            f"{what} agent_workspace",
            f"no switchboard integration {wanted!r} (the agent_workspace setting)",
            "set agent_workspace to a switchboard integration's id, name or type",
        )


def _say_what_is_unproven(connector: ZendeskSettings, findings: Findings) -> None:
    host = urlsplit(connector.base_url).hostname or ""
    if not host.endswith(".zendesk.com"):
        findings.noted(
            AREA,
            f"connector {connector.name}",
            f"asked {connector.base_url}, not Zendesk (the emulator?): that proves these "
            "settings agree with it, not that a Zendesk account is set up: messaging and Agent "
            "Workspace turned on for the account, Zendesk reaching --public-url from the "
            "internet over HTTPS, and the ticket-status webhook (Support API, not read here)",
        )
    elif connector.ticket_webhook_enabled:
        findings.noted(
            AREA,
            f"connector {connector.name} ticket webhook",
            "not checked (Zendesk Support's webhooks are not in the Conversations API)",
        )
