"""Applying one SunCo webhook event to the bot's conversation with the user.

- `conversation:message` by the agent (`business`, not posted by the plugin itself, not a
  Zendesk system notice): sent through the output channel of the user's latest input channel,
  then recorded as a `BotUttered` (SunCo ids and agent name in its metadata). The first agent
  message of a waiting handoff moves it to `agent_joined`.
- `conversation:typing` by the agent: shown where the user's channel can show it.
- The end of the handoff (see `handoff_end`): the handoff ends with SunCo's reason and the
  user is told.
- Everything else is ignored. A webhook never becomes a user message in Rasa.
- What a channel that cannot push (REST) did not deliver is marked in the tracker, and handed
  out at the user's next message (`rasa_zendesk.handoff.pending`).

Writes happen under the lock store's lock for the sender id, after a dedupe against the
tracker store; the output channel is called before the tracker is saved, so an event is
acknowledged only once it has been both delivered and recorded. Any failure of the tracker
store, lock store, output channel or SunCo propagates: the caller answers 5xx and SunCo retries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Awaitable, Callable, List, Optional, Sequence, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered
from rasa.shared.core.events import Event as RasaEvent
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import clock, constants
from rasa_zendesk.channel.attachment_links import AttachmentLinks
from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.channel.conversations import Directories, RasaConversation
from rasa_zendesk.channel.handoff_end import end_reason, record_event
from rasa_zendesk.channel.notices import notice
from rasa_zendesk.channel.render import bot_uttered_for
from rasa_zendesk.channel.tracker_access import TrackerAccess
from rasa_zendesk.handoff import pending, state
from rasa_zendesk.handoff.deadlines import (
    OFFER_CHOICES,
    Deadline,
    last_message_at,
    next_deadline,
)
from rasa_zendesk.platforms.outputs import agent_output, pushes, reaches_someone, show_typing
from rasa_zendesk.sunco.models import Conversation
from rasa_zendesk.sunco.webhooks import ActivityEvent, Event, MessageEvent, SwitchboardEvent
from rasa_zendesk.tickets.events import StatusChanged
from rasa_zendesk.tickets.link import conversation_of_tags

logger = logging.getLogger(__name__)

TYPING_ACTIVITIES = {"typing:start": True, "typing:stop": False}
Decide = Callable[[DialogueStateTracker, OutputChannel], Awaitable[Optional["Delivery"]]]


@dataclass(frozen=True)
class Outcome:
    """What became of one event; `applied` is False for events deliberately left alone."""

    applied: bool
    note: str
    #: Not applied because it came through another connector's route than its conversation's.
    refused: bool = False


@dataclass(frozen=True)
class Delivery:
    """What an event puts in front of the user, the tracker events that record it, and the
    bot's action to run right after (the author's `after_handoff_action` at an end)."""

    messages: List[BotUttered]
    events: List[RasaEvent]
    then_run: Optional[str] = None


@dataclass
class RasaContext:
    """The running bot, as the Rasa server holds it (`app.ctx.agent`, `app.ctx.input_channels`),
    and the webhook's access to its conversations."""

    agent: Any
    input_channels: Sequence[InputChannel]
    trackers: TrackerAccess
    #: Private attachments as links the channel serves (`attachment_links`).
    links: Optional[AttachmentLinks] = None

    def output_for(self, tracker: DialogueStateTracker, target: RasaConversation) -> OutputChannel:
        """The user's output channel, pointed where they wrote from (`targets`), showing an
        agent's messages the platform's way (`shapes`)."""
        channel_name = tracker.get_latest_input_channel() or target.input_channel
        record = state.current(tracker.events)
        connector = target.connector or (record.connector if record else None)
        media = self.links.media_links(connector) if self.links else None
        return agent_output(self.input_channels, tracker, channel_name, media)


class WebhookProcessor:
    """Applies webhook events, one at a time, to the Rasa conversations they belong to."""

    def __init__(self, config: ChannelConfig, directories: Directories) -> None:
        self.config = config
        self.directories = directories
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
        return RasaContext(agent, input_channels, trackers, self.links)

    async def apply(
        self, event: Event, rasa: RasaContext, connector: Optional[str] = None
    ) -> Outcome:
        """Apply a SunCo event that came through `connector`'s route (None: the default's)."""
        connector = connector or self.config.connectors.default_name
        if isinstance(event, MessageEvent):
            return await self._message(event, rasa, connector)
        if isinstance(event, ActivityEvent):
            return await self._typing(event, rasa, connector)
        if isinstance(event, SwitchboardEvent):
            reason = end_reason(event)
            if reason is not None:
                return await self._end_handoff(event, reason, rasa, connector)
        logger.debug("Zendesk webhook event %s (%s) needs nothing done", event.id, event.type)
        return Outcome(False, "not acted on")

    async def _message(self, event: MessageEvent, rasa: RasaContext, connector: str) -> Outcome:
        message = event.payload.message
        conversation_id = event.payload.conversation.id
        if message.author.type != "business":
            return Outcome(False, "authored by the user")
        if (message.metadata or {}).get(constants.ORIGIN_KEY):
            return Outcome(False, "posted by the plugin (echo)")
        if "activity" in (message.author.subtypes or []):
            return Outcome(False, "Zendesk system activity")

        async def deliver(
            tracker: DialogueStateTracker, output: OutputChannel
        ) -> Optional[Delivery]:
            uttered = bot_uttered_for(message, event.id)
            _note_out_of_order(tracker, uttered)
            handoff = state.active_for(tracker.events, conversation_id)
            if handoff is None:
                # A person wrote to this user (e.g. after the ticket was closed): they still
                # get it, since dropping a human's message silently is worse than a late one.
                logger.info(
                    "Agent message %s arrives outside an active handoff of conversation %s "
                    "for sender %s; delivered anyway",
                    message.id,
                    conversation_id,
                    tracker.sender_id,
                )
                return Delivery([uttered], [uttered])
            if handoff.state != state.WAITING:
                return Delivery([uttered], [uttered])
            joined = state.agent_joined(handoff, message.author.display_name)
            if not self.config.handoff.agent_joined_notice:
                return Delivery([uttered], [record_event(joined, event.id), uttered])
            announced = await notice(
                rasa.agent,
                tracker,
                output.name(),
                constants.UTTER_AGENT_JOINED,
                event.id,
                agent_name=message.author.display_name or "An agent",
            )
            return Delivery(
                [announced, uttered], [record_event(joined, event.id), announced, uttered]
            )

        return await self._apply_sunco_event(
            event,
            rasa,
            connector,
            (constants.EVENT_ZENDESK_MESSAGE_ID, message.id),
            deliver,
            f"Agent message {message.id}",
        )

    async def _typing(self, event: ActivityEvent, rasa: RasaContext, connector: str) -> Outcome:
        activity = event.payload.activity
        typing = TYPING_ACTIVITIES.get(activity.type)
        if typing is None or activity.author.type != "business":
            return Outcome(False, "not agent typing")
        # Typing is momentary: a retry minutes later would be wrong, so failures are only
        # logged and the event is acknowledged.
        try:
            target = await self._target(event, connector)
            tracker = await rasa.trackers.read(target.sender_id) if target else None
            if target is None or tracker is None:
                return Outcome(False, "not a conversation of this bot")
            conversation_id = event.payload.conversation.id
            if self._other_connector(connector, target, tracker, conversation_id):
                return Outcome(False, "refused: another connector's conversation", refused=True)
            if state.active_for(tracker.events, conversation_id) is None:
                return Outcome(False, "no active handoff")
            shown = await show_typing(
                rasa.output_for(tracker, target),
                target.sender_id,
                typing,
                self.config.typing_event,
                activity.author.display_name,
            )
        except Exception as error:
            logger.warning("Agent typing in event %s not shown: %r", event.id, error)
            return Outcome(False, "typing failed")
        return Outcome(shown, "typing shown" if shown else "channel shows no typing")

    async def _end_handoff(
        self, event: SwitchboardEvent, reason: str, rasa: RasaContext, connector: str
    ) -> Outcome:
        conversation_id = event.payload.conversation.id

        async def close(tracker: DialogueStateTracker, output: OutputChannel) -> Optional[Delivery]:
            handoff = state.active_for(tracker.events, conversation_id)
            if handoff is None:
                logger.info(
                    "%s for conversation %s: the handoff of sender %s is already over",
                    event.type,
                    conversation_id,
                    tracker.sender_id,
                )
                return None
            return await self.ending(rasa, tracker, output, handoff, reason, event.id)

        return await self._apply_sunco_event(
            event,
            rasa,
            connector,
            (constants.EVENT_ZENDESK_EVENT_ID, event.id),
            close,
            f"End of handoff ({event.type})",
            skipped="handoff already over",
        )

    async def ticket_status(
        self, change: StatusChanged, rasa: RasaContext, connector: Optional[str] = None
    ) -> Outcome:
        """A ticket's new status, from Zendesk's ticket webhook: solved or closed ends the
        handoff at once (Agent Workspace would give it back only when the ticket closes, days
        later; that release then finds it over and tells nobody again). Other statuses are
        recorded in the handoff's record."""
        connector = connector or self.config.connectors.default_name
        conversation_id = conversation_of_tags(change.detail.tags)
        if conversation_id is None:
            return Outcome(False, "not a ticket of this bot's handoffs (no link tag)")
        target = await self._find(connector, Conversation(id=conversation_id), change.id)
        if target is None:
            return Outcome(False, "not a conversation of this bot")
        ticket_id, status = change.detail.id, change.event.current

        async def update(
            tracker: DialogueStateTracker, output: OutputChannel
        ) -> Optional[Delivery]:
            handoff = state.active_for(tracker.events, conversation_id)
            if handoff is None:
                logger.info(
                    "Ticket %s is %s: the handoff of sender %s is already over",
                    ticket_id,
                    status,
                    tracker.sender_id,
                )
                return None
            handoff = state.ticket_changed(handoff, ticket_id, status)
            if not change.ends_session:
                return Delivery([], [record_event(handoff, change.id)])
            return await self.ending(rasa, tracker, output, handoff, state.TICKET_SOLVED, change.id)

        return await self._apply_once(
            target,
            conversation_id,
            change.time,
            rasa,
            connector,
            (constants.EVENT_ZENDESK_EVENT_ID, change.id),
            update,
            f"Ticket {ticket_id} {status}",
            skipped="handoff already over",
        )

    async def fire_timers(self, rasa: RasaContext, sender_id: str) -> Optional[Deadline]:
        """Fire the conversation's timer if it is still due, as the state is now under the
        lock (another instance may have fired it, a message may have come). The next
        deadline after that; None once no timer applies (no running handoff)."""
        upcoming: Optional[Deadline] = None

        async def due(tracker: DialogueStateTracker, output: OutputChannel) -> Optional[Delivery]:
            nonlocal upcoming
            handoff = state.active(tracker.events)
            if handoff is None:
                return None
            settings = self.config.handoff
            last = last_message_at(tracker.events)
            deadline = next_deadline(handoff, settings, last)
            if deadline is None or deadline.at > clock.now():
                upcoming = deadline
                return None
            logger.info("Handoff timer %s fired for sender %s", deadline.what, sender_id)
            if deadline.what == OFFER_CHOICES:
                offered = state.agent_timed_out(handoff)
                upcoming = next_deadline(offered, settings, last)
                told = await notice(
                    rasa.agent, tracker, output.name(), constants.UTTER_AGENT_TIMEOUT
                )
                return Delivery([told], [record_event(offered), told, _listening(told)])
            await self.directories.of(handoff.connector).release(
                handoff.conversation_id, deadline.what
            )
            return await self.ending(rasa, tracker, output, handoff, deadline.what)

        await self.write(rasa, RasaConversation(sender_id), due, f"Timer of sender {sender_id}")
        return upcoming

    async def ending(
        self,
        rasa: RasaContext,
        tracker: DialogueStateTracker,
        output: OutputChannel,
        handoff: state.Handoff,
        reason: str,
        event_id: Optional[str] = None,
    ) -> Delivery:
        """The end of a running handoff: the record, the user's notice, then the bot listens
        (and runs the author's `after_handoff_action`, if set). Moved to email, the notice
        says where the conversation goes on."""
        if reason == state.TRANSFER_TO_EMAIL:
            slots = tracker.slots
            email = slots[constants.SLOT_EMAIL].value if constants.SLOT_EMAIL in slots else None
            response, text, values = (
                constants.UTTER_TRANSFERRED_TO_EMAIL,
                None,
                {"email": email or "the address we have for you"},
            )
        else:
            response, text, values = (
                constants.UTTER_HANDOFF_ENDED,
                self.config.handoff_ended_text,
                {},
            )
        told = await notice(rasa.agent, tracker, output.name(), response, event_id, text, **values)
        ended = state.ended(handoff, reason)
        return Delivery(
            [told],
            [record_event(ended, event_id), told, _listening(told)],
            then_run=self.config.handoff.after_handoff_action,
        )

    async def _apply_sunco_event(
        self,
        event: Event,
        rasa: RasaContext,
        connector: str,
        dedupe: Tuple[str, str],
        decide: Decide,
        what: str,
        skipped: str = "not applied",
    ) -> Outcome:
        """A SunCo webhook event through `_apply_once`, for the conversation it names."""
        target = await self._target(event, connector)
        if target is None:
            return Outcome(False, "not a conversation of this bot")
        conversation_id = event.conversation.id if event.conversation else None
        return await self._apply_once(
            target,
            conversation_id,
            event.created_at,
            rasa,
            connector,
            dedupe,
            decide,
            what,
            skipped,
        )

    async def _apply_once(
        self,
        target: RasaConversation,
        conversation_id: Optional[str],
        created_at: Optional[datetime],
        rasa: RasaContext,
        connector: str,
        dedupe: Tuple[str, str],
        decide: Decide,
        what: str,
        skipped: str = "not applied",
    ) -> Outcome:
        """A webhook event through the write path, once: what the tracker store already has
        (`dedupe` = metadata key and Zendesk id) is skipped, and an event that came through
        another connector's route than its conversation's is refused."""
        trackers = rasa.trackers
        duplicate = refused = False

        async def once(tracker: DialogueStateTracker, output: OutputChannel) -> Optional[Delivery]:
            nonlocal duplicate, refused
            if self._other_connector(connector, target, tracker, conversation_id):
                refused = True
                return None
            key, value = dedupe
            if await trackers.already_applied(tracker, key, value, created_at, conversation_id):
                logger.info("%s was already applied; skipped", what)
                duplicate = True
                return None
            return await decide(tracker, output)

        outcome = await self.write(rasa, target, once, what, skipped)
        if outcome is None:
            return _no_tracker(what, target)
        if refused:
            return Outcome(False, "refused: another connector's conversation", refused=True)
        return Outcome(False, "duplicate") if duplicate else outcome

    def _other_connector(
        self,
        connector: str,
        target: RasaConversation,
        tracker: Optional[DialogueStateTracker],
        conversation_id: Optional[str],
    ) -> bool:
        """Whether the conversation belongs to another connector than the route it came
        through (its metadata says so, or its handoff's record): logged, never applied."""
        default = self.config.connectors.default_name
        owner = target.connector
        if owner is None and tracker is not None:
            record = state.current(tracker.events)
            if record is not None and record.conversation_id == conversation_id:
                owner = record.connector
        if (owner or default) == connector:
            return False
        logger.warning(
            "Zendesk event for conversation %s came through connector %s's webhook, but the "
            "conversation belongs to connector %s: refused",
            conversation_id,
            connector,
            owner,
        )
        return True

    async def write(
        self,
        rasa: RasaContext,
        target: RasaConversation,
        decide: Decide,
        what: str,
        skipped: str = "not applied",
    ) -> Optional[Outcome]:
        """The one write path, for webhooks and timers: under the conversation's lock, send
        what `decide` returns to the user and record its events, saved only after the user's
        channel took it. None when the conversation is not in the tracker store."""
        trackers = rasa.trackers
        async with trackers.locked(target.sender_id) as tracker:
            if tracker is None:
                return None
            output = rasa.output_for(tracker, target)
            delivery = await decide(tracker, output)
            if delivery is None:
                return Outcome(False, skipped)
            if not pushes(output):
                # Handed out at the user's next message instead (`handoff.pending`).
                pending.mark(delivery.messages)
            for message in delivery.messages:
                await output.send_response(target.sender_id, message.message())
            await trackers.record(tracker, delivery.events)
            channel = tracker.get_latest_input_channel() or target.input_channel
            if delivery.then_run:
                await _run_bot_action(rasa, target.sender_id, delivery.then_run, output)
        if delivery.messages:
            _log_delivery(what, target, output, channel)
        else:
            logger.info("%s recorded for sender %s", what, target.sender_id)
        return Outcome(True, "applied")

    async def _target(self, event: Event, connector: str) -> Optional[RasaConversation]:
        conversation = event.conversation
        if conversation is None:
            return None
        return await self._find(connector, conversation, event.id)

    async def _find(
        self, connector: str, conversation: Conversation, event_id: str
    ) -> Optional[RasaConversation]:
        """The Rasa user of a SunCo conversation, asked of the connector's own Zendesk app."""
        target = await self.directories.of(connector).find(conversation)
        if target is None:
            logger.warning(
                "Zendesk webhook event %s is for conversation %s, which has no Rasa sender id "
                "in connector %s: not one of this bot's handoffs; ignored",
                event_id,
                conversation.id,
                connector,
            )
        return target


def _listening(told: BotUttered) -> RasaEvent:
    """The turn ends with the bot listening, as every bot turn does. A fallback that rewinds
    the user's next message undoes back to the latest `action_listen`; this one keeps that
    rewind from undoing what the channel wrote, in Rasa's replay of the tracker."""
    return ActionExecuted(ACTION_LISTEN_NAME, metadata=dict(told.metadata))


async def _run_bot_action(
    rasa: RasaContext, sender_id: str, action_name: str, output: OutputChannel
) -> None:
    """Run one of the bot's actions after the end, then listen, as a bot turn ends (the caller
    holds the lock). A failure is logged: the end it follows is recorded already."""
    processor = rasa.agent.processor
    try:
        prediction = PolicyPrediction.for_action_name(processor.domain, action_name)
        tracker = await processor.execute_action(
            sender_id, action_name, output, processor.nlg, prediction
        )
        if tracker is not None:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await processor.save_tracker(tracker)
    except Exception:
        logger.exception("after_handoff_action %s failed for sender %s", action_name, sender_id)


def _no_tracker(what: str, target: RasaConversation) -> Outcome:
    logger.warning(
        "%s is for sender %s, who has no conversation in the tracker store; ignored",
        what,
        target.sender_id,
    )
    return Outcome(False, "no such Rasa conversation")


def _log_delivery(
    what: str, target: RasaConversation, output: OutputChannel, channel: Optional[str]
) -> None:
    """Info when the user got it; a warning an operator can act on when nobody did."""
    if not pushes(output):
        logger.warning(
            "%s acknowledged for sender %s, but their channel (%s) cannot push: it is kept in "
            "the tracker and handed out with the answer to their next message",
            what,
            target.sender_id,
            channel or "unknown",
        )
    elif not reaches_someone(output, target.sender_id):
        logger.warning(
            "%s sent to sender %s via %s, but nobody is connected there now: it is kept in "
            "the tracker only",
            what,
            target.sender_id,
            output.name(),
        )
    else:
        logger.info("%s sent to sender %s via %s", what, target.sender_id, output.name())


def _note_out_of_order(tracker: DialogueStateTracker, uttered: BotUttered) -> None:
    """Log an agent message that SunCo received before one already delivered (SunCo keeps no
    order across retries). It is delivered all the same: late beats lost."""
    received = uttered.metadata.get(constants.EVENT_ZENDESK_RECEIVED)
    if received is None:
        return
    for event in reversed(tracker.events):
        latest = (event.metadata or {}).get(constants.EVENT_ZENDESK_RECEIVED)
        if isinstance(event, BotUttered) and latest is not None:
            if received < latest:
                logger.warning(
                    "Agent message %s for sender %s arrives out of the agent's order: received "
                    "by Zendesk %.1f s before the one delivered last; delivered now",
                    uttered.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID),
                    tracker.sender_id,
                    latest - received,
                )
            return
