"""Applying one SunCo webhook event, ticket status or timer to the bot's conversation with the
user: each kind goes to its handler (`rasa_zendesk.channel.handlers`), which writes through the
one write path (`rasa_zendesk.channel.write_path`). Everything else is ignored."""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional, Sequence

from rasa.core.channels.channel import InputChannel

from rasa_zendesk.channel.attachment_links import AttachmentLinks
from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.channel.conversations import Directories
from rasa_zendesk.channel.handlers import (
    agent_message,
    agent_typing,
    switchboard,
    ticket_status,
    timer,
)
from rasa_zendesk.channel.tracker_access import TrackerAccess
from rasa_zendesk.channel.write_path import EventResult, RasaContext
from rasa_zendesk.handoff.deadlines import Deadline
from rasa_zendesk.sunco.webhooks import ActivityEvent, Event, MessageEvent, SwitchboardEvent
from rasa_zendesk.tickets.events import StatusChanged

logger = logging.getLogger(__name__)


class WebhookProcessor:
    """Applies webhook events, one at a time, to the Rasa conversations they belong to."""

    def __init__(
        self,
        config: ChannelConfig,
        directories: Directories,
        on_refused: Optional[Callable[[str, str], None]] = None,
    ) -> None:
        self.config = config
        self.directories = directories
        self.on_refused = on_refused
        self._trackers: Optional[TrackerAccess] = None
        self.links = AttachmentLinks(config.attachments, config.connectors)

    def context(self, agent: Any, input_channels: Sequence[InputChannel]) -> RasaContext:
        """The bot as it is now; its tracker access (and cache) lives as long as its stores."""
        trackers = self._trackers
        if trackers is None or not trackers.serves(agent.tracker_store, agent.lock_store):
            trackers = TrackerAccess(
                agent.tracker_store,
                agent.lock_store,
                self.config.tracker_cache_size,
                self.config.tracker_cache_max_bytes,
            )
            self._trackers = trackers
        return RasaContext(
            agent,
            input_channels,
            trackers,
            self.config,
            self.directories,
            self.links,
            self.on_refused,
        )

    async def apply(
        self, event: Event, rasa: RasaContext, connector: Optional[str] = None
    ) -> EventResult:
        """Apply a SunCo event that came through `connector`'s route (None: the default's)."""
        connector = connector or self.config.connectors.default_name
        if isinstance(event, MessageEvent):
            return await agent_message.handle(event, rasa, connector)
        if isinstance(event, ActivityEvent):
            return await agent_typing.handle(event, rasa, connector)
        if isinstance(event, SwitchboardEvent):
            reason = switchboard.reason_of_hand_back(event)
            if reason is not None:
                return await switchboard.handle(event, reason, rasa, connector)
        logger.debug("Zendesk webhook event %s (%s) needs nothing done", event.id, event.type)
        return EventResult(False, "not acted on")

    async def ticket_status(
        self, change: StatusChanged, rasa: RasaContext, connector: Optional[str] = None
    ) -> EventResult:
        """A ticket's new status, from Zendesk's ticket webhook (`handlers.ticket_status`)."""
        return await ticket_status.handle(
            change, rasa, connector or self.config.connectors.default_name
        )

    async def fire_timers(self, rasa: RasaContext, sender_id: str) -> Optional[Deadline]:
        """Fire the conversation's timer if it is still due (`handlers.timer`); the next
        deadline after that, None once no timer applies."""
        return await timer.fire(rasa, sender_id)

    async def give_up_timers(self, rasa: RasaContext, sender_id: str) -> None:
        """End the conversation's handoff as `failed` (`handlers.timer.give_up`)."""
        await timer.give_up(rasa, sender_id)
