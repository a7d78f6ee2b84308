"""Which Rasa conversation a SunCo conversation belongs to.

The escalation action creates the SunCo conversation with `rasa_sender_id` (and
`rasa_input_channel`) in its metadata. Webhooks usually carry that metadata; when one does not,
the answer is remembered from earlier webhooks (a bounded in-memory cache, only a shortcut: it
may be cold after a restart or on another instance) or, last, asked of SunCo. A conversation
without the metadata was not created by the plugin: it is not ours, and that answer is cached
too, since metadata set at creation does not appear later.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from rasa_zendesk import constants
from rasa_zendesk.constants import END_REASON_KEY
from rasa_zendesk.settings import Connectors, ZendeskSettings
from rasa_zendesk.sunco.client import CallObserver, SunCoClient
from rasa_zendesk.sunco.errors import SunCoError
from rasa_zendesk.sunco.models import Author, Conversation

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 10_000
#: SunCo gives up on a webhook after 20 s; a conversation lookup must leave time for the rest.
LOOKUP_TIMEOUT_SECONDS = 5.0
LOOKUP_DEADLINE_SECONDS = 10.0


@dataclass(frozen=True)
class RasaConversation:
    """The Rasa side of a SunCo conversation."""

    sender_id: str
    #: The input channel at escalation; used when the tracker does not name one.
    input_channel: Optional[str] = None
    #: The connector it was opened through, as its metadata says (None: the default one).
    connector: Optional[str] = None


class ConversationDirectory:
    """Maps SunCo conversation ids to Rasa conversations (payload, then cache, then SunCo).

    It owns the channel's SunCo client, opened on first use: only a lookup needs one.
    """

    def __init__(
        self,
        settings: ZendeskSettings,
        max_entries: int = DEFAULT_CACHE_SIZE,
        sunco: Optional[SunCoClient] = None,
        observer: Optional[CallObserver] = None,
    ) -> None:
        self._settings = settings
        self._sunco = sunco
        self._observer = observer
        self._max_entries = max_entries
        self._known: OrderedDict[str, Optional[RasaConversation]] = OrderedDict()

    async def aclose(self) -> None:
        """Close the SunCo client's connections (server shutdown)."""
        if self._sunco is not None:
            await self._sunco.aclose()
            self._sunco = None

    async def release(self, conversation_id: str, reason: str) -> None:
        """Give a conversation back to the bot in SunCo, saying why (a timer ended the
        handoff). Best effort: the handoff ends for the user either way; a failure is
        logged, and the agent's later messages still reach the user."""
        try:
            await self._client().release_control(conversation_id, {END_REASON_KEY: reason})
        except SunCoError as error:
            logger.warning("Release of conversation %s failed: %s", conversation_id, error)

    async def tell_agent(self, conversation_id: str, text: str) -> None:
        """Post `text` in the conversation for the agent to read, as the plugin (its echo is
        not relayed). SunCo has no internal note: a business message is what it offers.
        Raises `SunCoError` (the caller answers 5xx and the webhook is retried)."""
        await self._client().post_message(
            conversation_id, Author.business(), text, metadata=constants.ORIGIN_METADATA
        )

    async def _fetch(self, conversation_id: str) -> Conversation:
        return await self._client().get_conversation(conversation_id)

    def _client(self) -> SunCoClient:
        if self._sunco is None:
            self._sunco = SunCoClient.from_settings(
                self._settings,
                timeout=LOOKUP_TIMEOUT_SECONDS,
                deadline=LOOKUP_DEADLINE_SECONDS,
                observer=self._observer,
            )
        return self._sunco

    async def find(self, conversation: Conversation) -> Optional[RasaConversation]:
        """The Rasa conversation, or None when the SunCo conversation is not the plugin's.

        Raises `SunCoError` when SunCo must be asked and cannot answer: the caller cannot
        tell whether the conversation is ours, so it should let SunCo retry the webhook.
        """
        found = from_metadata(conversation.metadata)
        if found is not None:
            self._remember(conversation.id, found)
            return found
        if conversation.id in self._known:
            self._known.move_to_end(conversation.id)
            return self._known[conversation.id]
        try:
            fetched = await self._fetch(conversation.id)
        except SunCoError as error:
            if error.status == 404:
                logger.info("SunCo conversation %s does not exist (any more)", conversation.id)
                self._remember(conversation.id, None)
                return None
            raise
        found = from_metadata(fetched.metadata)
        self._remember(conversation.id, found)
        return found

    def _remember(self, conversation_id: str, found: Optional[RasaConversation]) -> None:
        self._known[conversation_id] = found
        self._known.move_to_end(conversation_id)
        while len(self._known) > self._max_entries:
            self._known.popitem(last=False)


def from_metadata(metadata: Optional[Mapping[str, Any]]) -> Optional[RasaConversation]:
    """The Rasa conversation recorded in SunCo conversation metadata, if any."""
    if not metadata:
        return None
    sender_id = metadata.get(constants.CONVERSATION_SENDER_ID)
    if not isinstance(sender_id, str) or not sender_id:
        return None
    channel = metadata.get(constants.CONVERSATION_INPUT_CHANNEL)
    connector = metadata.get(constants.CONVERSATION_CONNECTOR)
    return RasaConversation(
        sender_id,
        channel if isinstance(channel, str) and channel else None,
        connector if isinstance(connector, str) and connector else None,
    )


class Directories:
    """One `ConversationDirectory` per connector: each asks its own Zendesk app, so a lookup
    never finds another account's conversation."""

    def __init__(
        self,
        connectors: Connectors,
        sunco: Optional[SunCoClient] = None,
        observer_for: Optional[Callable[[str], CallObserver]] = None,
    ) -> None:
        """`observer_for`: the observer of a connector's SunCo calls (the channel's metrics)."""
        self._by_name = {
            name: ConversationDirectory(
                settings,
                sunco=sunco if name == connectors.default_name else None,
                observer=observer_for(name) if observer_for else None,
            )
            for name, settings in connectors.by_name.items()
        }
        self._default = connectors.default_name

    def of(self, connector: Optional[str]) -> ConversationDirectory:
        """The directory of a connector (None: the default); a name not configured any more
        (a handoff recorded before a connector was removed) gets the default's."""
        return self._by_name.get(connector or self._default, self._by_name[self._default])

    async def aclose(self) -> None:
        for directory in self._by_name.values():
            await directory.aclose()
