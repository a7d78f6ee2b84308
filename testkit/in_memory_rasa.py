"""The Rasa server's side of the channel without a server: its real processor, handlers and
write path on Rasa's in-memory tracker and lock stores, a user in a handoff, and stand-ins for
what needs the network (Zendesk's directory of conversations) or a trained model (the bot's
processor, which only runs the follow-up actions here)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Dict, List, Mapping, Optional

from rasa.core.agent import Agent
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.channel.conversations import RasaConversation
from rasa_zendesk.channel.processor import WebhookProcessor
from rasa_zendesk.channel.write_path import RasaContext
from rasa_zendesk.handoff import endings, state
from rasa_zendesk.sunco.models import Conversation
from testkit.policy_trackers import session_start

SENDER = "webchat-in-memory"
CONVERSATION = "0123456789abcdef0123abcd"
CREDENTIALS = {
    "subdomain": "acme",
    "app_id": "app_in_memory",
    "key_id": "key_in_memory",
    "key_secret": "secret_in_memory",
    "webhook_secret": "whsec_in_memory",
}


class FollowUps(MessageProcessor):
    """Rasa's own processor without a trained model, as far as the write path uses it: it
    runs actions as Rasa does (its `action_session_start`, the domain's responses) on the
    stored tracker, and names the actions it ran."""

    def __init__(self, domain: Domain, tracker_store: TrackerStore, fails: bool = False) -> None:
        # Not Rasa's __init__, which loads a model: only what running an action uses.
        self.domain, self.tracker_store, self.fails = domain, tracker_store, fails
        self.nlg = TemplatedNaturalLanguageGenerator(domain.responses)
        self.action_endpoint = None
        self.model_metadata = SimpleNamespace(model_id="in-memory", assistant_id="in-memory")
        self.ran: List[str] = []

    def _get_action(self, action_name: str) -> Any:
        self.ran.append(action_name)
        if self.fails:
            raise RuntimeError("the follow-up action failed")
        return super()._get_action(action_name)


class Directory:
    """Zendesk as the channel asks it: every conversation is `owner`'s (None: nobody's)."""

    def __init__(self, owner: Optional[RasaConversation]) -> None:
        self.owner = owner
        self.released: List[Dict[str, str]] = []

    def of(self, connector: Optional[str]) -> Directory:
        return self

    async def find(self, conversation: Conversation) -> Optional[RasaConversation]:
        return self.owner

    async def release(self, conversation_id: str, reason: str) -> None:
        self.released.append(endings.release_metadata(reason))


@dataclass
class InMemoryRasa:
    processor: WebhookProcessor
    rasa: RasaContext
    store: InMemoryTrackerStore
    directory: Directory
    follow_ups: FollowUps
    sender_id: str = SENDER
    conversation_id: str = CONVERSATION

    async def tracker(self) -> DialogueStateTracker:
        tracker = await self.store.retrieve_full_tracker(self.sender_id)
        assert tracker is not None
        return tracker

    async def said(self) -> List[BotUttered]:
        return [e for e in (await self.tracker()).events if isinstance(e, BotUttered)]

    async def record(self) -> Optional[state.Handoff]:
        return state.current((await self.tracker()).events)


async def in_memory_rasa(
    domain: Domain,
    environ: Optional[Mapping[str, str]] = None,
    handoff: Optional[state.Handoff] = None,
    since: float = 3 * 3600,
    owner: Optional[RasaConversation] = RasaConversation(SENDER, "socketio"),
    follow_up_fails: bool = False,
) -> InMemoryRasa:
    """The user `SENDER` in `handoff` (default: waiting for an agent since `since` seconds
    ago, in `CONVERSATION`), the channel configured from `environ` alone."""
    store = InMemoryTrackerStore(domain)
    agent = Agent(domain=domain, tracker_store=store, lock_store=InMemoryLockStore())
    follow_ups = FollowUps(domain, agent.tracker_store, follow_up_fails)
    agent.processor = follow_ups  # type: ignore[assignment]
    asked_at = time.time() - since
    record = handoff or state.opened(CONVERSATION, at=asked_at)
    events: List[Event] = [
        *session_start(),
        UserUttered("I want a human", input_channel="socketio", timestamp=asked_at),
        ActionExecuted(constants.ACTION_HANDOFF),
        SlotSet(constants.SLOT_HANDOFF, record.as_slot()),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]
    await store.save(DialogueStateTracker.from_events(SENDER, events, domain.slots))
    config = ChannelConfig.from_credentials(CREDENTIALS, environ=dict(environ or {}))
    directory = Directory(owner)
    processor = WebhookProcessor(config, directory)  # type: ignore[arg-type]
    rasa = processor.context(agent, [])
    return InMemoryRasa(processor, rasa, store, directory, follow_ups)
