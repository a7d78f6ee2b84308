"""The app's switchboard: the bot's own integration and Agent Workspace, and target resolution."""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from rasa_zendesk.constants import AGENT_WORKSPACE, AGENT_WORKSPACE_TYPE

from .errors import bad_request
from .ids import camel_view, new_id


@dataclass(frozen=True)
class SwitchboardIntegration:
    id: str
    name: str
    integration_id: str
    integration_type: str
    deliver_standby_events: bool
    next_id: Optional[str] = None
    message_history_count: Optional[int] = None

    @property
    def is_agent_workspace(self) -> bool:
        return self.integration_type == AGENT_WORKSPACE_TYPE

    def to_api(self) -> Dict[str, Any]:
        """As List Switchboard Integrations returns it."""
        body = camel_view(self, next_id="nextSwitchboardIntegrationId")
        if self.message_history_count is None:
            del body["messageHistoryCount"]
        return body

    def to_ref(self) -> Dict[str, Any]:
        """As a conversation's `activeSwitchboardIntegration` (API and webhooks)."""
        return camel_view(self, "id", "name", "integration_id", "integration_type")


class Switchboard:
    """Two integrations, as a Zendesk account with a bot: the bot (default) and Agent Workspace."""

    def __init__(self, bot_name: str) -> None:
        self.id = new_id()
        bot_id, agent_id = new_id(), new_id()
        self.bot = SwitchboardIntegration(
            id=bot_id,
            name=bot_name,
            integration_id=new_id(),
            integration_type="custom",
            deliver_standby_events=True,
            next_id=agent_id,
        )
        self.agent_workspace = SwitchboardIntegration(
            id=agent_id,
            name=AGENT_WORKSPACE,
            integration_id=new_id(),
            integration_type=AGENT_WORKSPACE_TYPE,
            deliver_standby_events=False,
            next_id=bot_id,
            message_history_count=10,
        )
        self.integrations: List[SwitchboardIntegration] = [self.bot, self.agent_workspace]
        self.default = self.bot

    def to_api(self) -> Dict[str, Any]:
        return {"id": self.id, "enabled": True, "defaultSwitchboardIntegrationId": self.default.id}

    def by_id(self, integration_id: Optional[str]) -> Optional[SwitchboardIntegration]:
        return next((i for i in self.integrations if i.id == integration_id), None)

    def resolve(
        self, target: str, active: Optional[SwitchboardIntegration]
    ) -> SwitchboardIntegration:
        """Find a target as SunCo does: `next`, else by id, then name, then integrationType."""
        if target == "next":
            if active is None:
                return self.default
            found = self.by_id(active.next_id)
            if found is None:
                raise bad_request("No next switchboard integration is configured")
            return found
        for attribute in ("id", "name", "integration_type"):
            matches = [i for i in self.integrations if getattr(i, attribute) == target]
            if len(matches) > 1:
                raise bad_request(f"Ambiguous switchboard integration: {target}")
            if matches:
                return matches[0]
        raise bad_request(f"Switchboard integration not found: {target}")
