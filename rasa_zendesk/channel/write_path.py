"""The one write path of the Rasa server, for webhook events and timers alike.

Under the lock store's lock for the sender id, a handler (`rasa_zendesk.channel.handlers`)
decides what an event puts in front of the user (`Delivery`); the write path sends it through
the output channel of the user's latest input channel, records its events, saves the tracker
only after the user's channel took it, and then runs the bot's follow-up actions (at an end: a
fresh session, Rasa's `action_session_start`, then the author's `after_handoff_action`). A
webhook event is applied once: what the tracker store already has (its Zendesk id) is
skipped, and an event is refused unless one of the user's handoff records names its
conversation on the connector whose route it came through (the conversation's metadata only
says whose records to read). Any failure of the tracker store, lock store, output channel or
SunCo propagates: the caller answers 5xx and SunCo retries.

What a channel that cannot push (REST) did not deliver, the follow-up actions' words included,
is marked in the tracker, and handed out at the user's next message
(`rasa_zendesk.handoff.pending`). So is what the user's platform refused for good
(`rasa_zendesk.platforms.outcome`): the webhook is acknowledged (retrying cannot help), the
agent is told in the Zendesk conversation once per cause and handoff, the handoff record notes
the cause, and `RasaContext.on_refused` counts it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, AgentUttered, BotUttered, SlotSet, UserUttered
from rasa.shared.core.events import Event as RasaEvent
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_zendesk import constants
from rasa_zendesk.channel.attachment_links import AttachmentLinks
from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.channel.conversations import Directories, RasaConversation
from rasa_zendesk.channel.tracker_access import TrackerAccess
from rasa_zendesk.handoff import pending, state
from rasa_zendesk.handoff.event_folds import Fold, folded
from rasa_zendesk.platforms.outcome import Refusal, Refused
from rasa_zendesk.platforms.outputs import PartlySent, agent_output, pushes, reaches_someone
from rasa_zendesk.sunco.models import Conversation
from rasa_zendesk.sunco.webhooks import Event

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventResult:
    """What became of one event; `applied` is False for events deliberately left alone."""

    applied: bool
    note: str
    #: Not applied because no handoff of the user it names had that conversation on the
    #: connector whose route it came through (`RasaContext.refused`).
    refused: bool = False


class DeliveryError(Exception):
    """The user's channel did not take a message (the platform refused it, or its server is
    down); the cause is chained. The timers count these to give up on a conversation."""


APPLIED = EventResult(True, "applied")
NOT_OURS = EventResult(False, "not a conversation of this bot")
REFUSED = EventResult(False, "refused: not a conversation of this user's handoffs", refused=True)


@dataclass(frozen=True)
class Delivery:
    """What an event puts in front of the user, the tracker events that record it, and the
    bot's actions to run right after, in order (the follow-up of an end, `handoff.endings`)."""

    messages: List[BotUttered]
    events: List[RasaEvent]
    then_run: Tuple[str, ...] = ()
    #: What is recorded when the user's channel took the first n messages but then failed, so
    #: that the retry does not say them again (the agent-joined notice, with the transition it
    #: announces): n, and the events that record those n.
    lead: Optional[Tuple[int, List[RasaEvent]]] = None


T = TypeVar("T")
#: A handler's decision under the lock: what to deliver and record (None: nothing), and what
#: its caller learns (a webhook event's result, a timer's next deadline).
Decided = Tuple[Optional[Delivery], T]
Decide = Callable[[DialogueStateTracker, OutputChannel], Awaitable[Decided[T]]]


def delivered(delivery: Delivery) -> Decided[EventResult]:
    return delivery, APPLIED


def skipped(note: str) -> Decided[EventResult]:
    return None, EventResult(False, note)


@dataclass
class RasaContext:
    """What a handler works with: the running bot, as the Rasa server holds it
    (`app.ctx.agent`, `app.ctx.input_channels`), its conversations' access, and the channel's
    settings and Zendesk directories."""

    agent: Any
    input_channels: Sequence[InputChannel]
    trackers: TrackerAccess
    config: ChannelConfig
    directories: Directories
    #: Private attachments as links the channel serves (`attachment_links`).
    links: Optional[AttachmentLinks] = None
    #: Told of each send the user's platform refused for good, its platform and cause (the
    #: channel's metrics).
    on_refused: Optional[Callable[[str, str], None]] = None

    def output_for(self, tracker: DialogueStateTracker, target: RasaConversation) -> OutputChannel:
        """The user's output channel, pointed where they wrote from (`targets`), showing an
        agent's messages the platform's way (`shapes`)."""
        channel_name = latest_input_channel(tracker) or target.input_channel
        record = state.current(tracker.events)
        connector = target.connector or (record.connector if record else None)
        media = self.links.media_links(connector) if self.links else None
        return agent_output(self.input_channels, tracker, channel_name, self.config.sending, media)

    async def find(
        self, connector: str, conversation: Optional[Conversation], event_id: str
    ) -> Optional[RasaConversation]:
        """The Rasa user of a SunCo conversation, asked of the connector's own Zendesk app."""
        if conversation is None:
            return None
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

    async def refused(
        self, connector: str, tracker: DialogueStateTracker, conversation_id: Optional[str]
    ) -> bool:
        """Whether the event must leave this user alone: none of their handoff records,
        current or past, names the conversation on the connector whose route it came
        through. The conversation's metadata only said whose records to read; anyone who can
        create a conversation can write it. Logged; the caller answers 200 (refused)."""
        default = self.config.connectors.default_name
        record = state.current(tracker.events)
        if (
            record is not None
            and conversation_id
            and record.conversation_id == conversation_id
            and (record.connector or default) == connector
        ):
            return False  # the latest record names it: no need to read every record
        named = (
            await self.trackers.connectors_of(tracker, conversation_id)
            if conversation_id
            else set()
        )
        owners = {owner or default for owner in named}
        if connector in owners:
            return False
        if owners:
            logger.warning(
                "Zendesk event for conversation %s came through connector %s's webhook, but the "
                "conversation belongs to connector %s: refused",
                conversation_id,
                connector,
                ", ".join(sorted(owners)),
            )
        else:
            logger.warning(
                "Zendesk event for conversation %s (connector %s) names sender %s, none of "
                "whose handoffs had that conversation: refused",
                conversation_id,
                connector,
                tracker.sender_id,
            )
        return True


@dataclass(frozen=True)
class WebhookWrite:
    """A webhook event's way through `apply_once`: whose conversation, which SunCo event it
    is (`dedupe`: metadata key and Zendesk id) and how it is named in the log."""

    target: RasaConversation
    conversation_id: Optional[str]
    created_at: Optional[datetime]
    connector: str
    dedupe: Tuple[str, str]
    what: str


async def apply_sunco_event(
    rasa: RasaContext,
    event: Event,
    connector: str,
    dedupe: Tuple[str, str],
    what: str,
    decide: Decide[EventResult],
) -> EventResult:
    """A SunCo webhook event through `apply_once`, for the conversation it names."""
    target = await rasa.find(connector, event.conversation, event.id)
    if target is None:
        return NOT_OURS
    conversation_id = event.conversation.id if event.conversation else None
    write_of = WebhookWrite(target, conversation_id, event.created_at, connector, dedupe, what)
    return await apply_once(rasa, write_of, decide)


async def apply_once(
    rasa: RasaContext, write_of: WebhookWrite, decide: Decide[EventResult]
) -> EventResult:
    """A webhook event through the write path, once: skipped when the tracker store already
    has it, refused when the user's handoffs never had its conversation on its connector."""

    async def once(tracker: DialogueStateTracker, output: OutputChannel) -> Decided[EventResult]:
        if await rasa.refused(write_of.connector, tracker, write_of.conversation_id):
            return None, REFUSED
        key, value = write_of.dedupe
        if await rasa.trackers.already_applied(
            tracker, key, value, write_of.created_at, write_of.conversation_id
        ):
            logger.info("%s was already applied; skipped", write_of.what)
            return skipped("duplicate")
        return await decide(tracker, output)

    result = await write(rasa, write_of.target, once, write_of.what)
    return _no_tracker(write_of.what, write_of.target) if result is None else result


async def write(
    rasa: RasaContext,
    target: RasaConversation,
    decide: Decide[T],
    what: str,
    push: bool = True,
) -> Optional[T]:
    """Under the conversation's lock, send what `decide` returns to the user and record its
    events, saved only after the user's channel took it; then the follow-up action. What
    `decide` tells its caller; None when the conversation is not in the tracker store.
    `push` False: nothing is sent, what `decide` says waits for the user's next message (as on
    a channel that cannot push): the user's channel has been failing.
    Raises `DeliveryError` when the user's channel does not take a message."""
    trackers = rasa.trackers
    async with trackers.locked(target.sender_id) as tracker:
        if tracker is None:
            return None
        output = rasa.output_for(tracker, target)
        delivery, told = await decide(tracker, output)
        if delivery is None:
            return told
        hand_out_later = not push or not pushes(output)
        if hand_out_later:
            # Handed out at the user's next message instead (`handoff.pending`).
            pending.mark(delivery.messages)
        refusal = None
        if push:
            refusal = await _send(trackers, tracker, output, delivery)
        events = list(delivery.events)
        if refusal is not None:
            events += await _refused(rasa, tracker, events, refusal)
        await trackers.record(tracker, events)
        channel = latest_input_channel(tracker) or target.input_channel  # for the warnings
        if delivery.then_run:
            await _run_bot_actions(
                rasa, target.sender_id, delivery.then_run, output, hand_out_later
            )
    if not push:
        logger.warning(
            "%s recorded for sender %s; their channel (%s) is failing, so it is handed out "
            "with the answer to their next message",
            what,
            target.sender_id,
            channel or "unknown",
        )
    elif refusal is not None:
        logger.warning(
            "%s not delivered to sender %s via %s: refused for good (%s: %s); kept in the "
            "tracker, handed out when they write again",
            what,
            target.sender_id,
            output.name(),
            refusal.cause,
            refusal.detail,
        )
    elif delivery.messages:
        _log_delivery(what, target, output, channel)
    else:
        logger.debug("%s recorded for sender %s", what, target.sender_id)
    return told


async def _send(
    trackers: TrackerAccess,
    tracker: DialogueStateTracker,
    output: OutputChannel,
    delivery: Delivery,
) -> Optional[Refusal]:
    """Send each message in turn. An agent's message that went out in part before (a retried
    webhook) sends only the parts not yet sent, and one that goes out in part now records how
    far it got before the failure is raised; so does the delivery's `lead` once its messages
    went out. Returns the refusal for good that stopped it (that message and the rest are
    marked to be handed out when the user writes again), else None."""
    messages = delivery.messages
    lead_count, lead_events = delivery.lead or (0, [])
    for index, message in enumerate(messages):
        done = list(lead_events) if lead_count and index >= lead_count else []
        sent = message.message()
        message_id = message.metadata.get(constants.EVENT_ZENDESK_MESSAGE_ID)
        before = parts_sent(tracker.events, message_id) if message_id else 0
        if before:
            sent[constants.EVENT_ZENDESK_PARTS_SENT] = before
        try:
            await output.send_response(tracker.sender_id, sent)
        except Refused as refused:
            pending.mark(messages[index:])
            return refused.refusal
        except PartlySent as partly:
            progress = {
                constants.EVENT_ZENDESK_PARTS_OF: message_id,
                constants.EVENT_ZENDESK_PARTS_SENT: partly.sent,
            }
            await trackers.record(tracker, [*done, AgentUttered(metadata=progress)])
            error = partly.__cause__
            raise DeliveryError(
                f"{output.name()} took {partly.sent} parts of the message, then not the next "
                f"one: {error!r}"
            ) from error
        except Exception as error:
            if done:
                await trackers.record(tracker, done)
            raise DeliveryError(f"{output.name()} did not take the message: {error!r}") from error
    return None


async def _refused(
    rasa: RasaContext, tracker: DialogueStateTracker, events: List[RasaEvent], refusal: Refusal
) -> List[RasaEvent]:
    """The agent told (once per cause and handoff) and the handoff record's note of it.
    A failure to tell propagates: nothing is recorded, the webhook is retried."""
    record = state.current([*tracker.events, *events])
    noted: List[RasaEvent] = []
    if record is not None and refusal.cause not in (record.undelivered or []):
        directory = rasa.directories.of(record.connector)
        await directory.tell_agent(record.conversation_id, refusal.agent_text())
        noted.append(record_event(state.refused(record, refusal.cause)))
    if rasa.on_refused is not None:
        rasa.on_refused(refusal.platform, refusal.cause)
    return noted


def parts_sent(events: Sequence[RasaEvent], message_id: str) -> int:
    """How many parts of the agent's message `message_id` reached the user before a part
    failed (0: none, or it was never sent in part)."""
    return folded(events, _PARTS_SENT).get(message_id, 0)


def _parts(sent: Dict[str, int], event: RasaEvent) -> Dict[str, int]:
    metadata = event.metadata
    message_id = metadata.get(constants.EVENT_ZENDESK_PARTS_OF) if metadata else None
    if message_id is not None and isinstance(event, AgentUttered):
        parts = int(metadata.get(constants.EVENT_ZENDESK_PARTS_SENT) or 0)
        sent[message_id] = max(sent.get(message_id, 0), parts)
    return sent


#: Per agent message sent in part, how many of its parts went out (the most recorded).
_PARTS_SENT: Fold[Dict[str, int]] = Fold(dict, _parts)


def latest_input_channel(tracker: DialogueStateTracker) -> Optional[str]:
    """Rasa's `tracker.get_latest_input_channel()`, kept as the tracker grows: during a
    handoff the user's latest message lies behind every agent message since."""
    return folded(tracker.events, _LATEST_INPUT_CHANNEL)


def _input_channel(channel: Optional[str], event: RasaEvent) -> Optional[str]:
    return event.input_channel if isinstance(event, UserUttered) else channel


_LATEST_INPUT_CHANNEL: Fold[Optional[str]] = Fold(lambda: None, _input_channel)


def record_event(handoff: state.Handoff, event_id: Optional[str] = None) -> RasaEvent:
    """A transition of the handoff as a tracker event, marked with the SunCo event that
    caused it."""
    metadata = {constants.EVENT_ZENDESK_EVENT_ID: event_id} if event_id else {}
    return SlotSet(constants.SLOT_HANDOFF, handoff.as_slot(), metadata=metadata)


def listening(told: BotUttered) -> RasaEvent:
    """The turn ends with the bot listening, as every bot turn does. A fallback that rewinds
    the user's next message undoes back to the latest `action_listen`; this one keeps that
    rewind from undoing what the channel wrote, in Rasa's replay of the tracker."""
    return ActionExecuted(ACTION_LISTEN_NAME, metadata=dict(told.metadata))


async def _run_bot_actions(
    rasa: RasaContext,
    sender_id: str,
    action_names: Sequence[str],
    output: OutputChannel,
    hand_out_later: bool,
) -> None:
    """Run the bot's actions after the end, in order, then listen, as a bot turn ends (the
    caller holds the lock). Each runs as Rasa's processor runs a predicted action (the bot's
    own `action_session_start` when its domain has one). A session start keeps the handoff's
    record and its outcome, even when the bot's own `action_session_start` did not carry them
    over (no rewind can revive the handoff), and what is still to be handed out
    (`pending.carried_over`). What they say to a user whose channel cannot push (or is
    failing) is marked, to be handed out at the next message. A failure is logged: the end
    it follows is recorded already."""
    processor = rasa.agent.processor
    to_user = CollectingOutputChannel() if hand_out_later else output
    try:
        # Rasa 3.6 has no public way to run an action in a turn and log it as its loop does.
        tracker = await processor.get_tracker(sender_id)
        first = len(tracker.events)
        record, before = state.current(tracker.events), list(tracker.events)
        outcome = tracker.get_slot(constants.SLOT_HANDOFF_OUTCOME)
        for name in action_names:
            prediction = PolicyPrediction.for_action_name(processor.domain, name)
            action = processor._get_action(name)
            await processor._run_action(action, tracker, to_user, processor.nlg, prediction)
            if name != ACTION_SESSION_START_NAME:
                continue
            if record is not None and state.current(tracker.events) != record:
                tracker.update(record_event(record))
            if outcome is not None and tracker.get_slot(constants.SLOT_HANDOFF_OUTCOME) != outcome:
                tracker.update(SlotSet(constants.SLOT_HANDOFF_OUTCOME, outcome))
            for message in pending.carried_over(before):  # made now: stamped in the session
                tracker.update(message)
        if tracker.latest_action_name != ACTION_LISTEN_NAME:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        if hand_out_later:
            pending.mark(e for e in list(tracker.events)[first:] if isinstance(e, BotUttered))
        await processor.save_tracker(tracker)
    except Exception:
        logger.exception("the follow-up %s failed for sender %s", action_names, sender_id)


def _no_tracker(what: str, target: RasaConversation) -> EventResult:
    logger.warning(
        "%s is for sender %s, who has no conversation in the tracker store; ignored",
        what,
        target.sender_id,
    )
    return EventResult(False, "no such Rasa conversation")


def _log_delivery(
    what: str, target: RasaConversation, output: OutputChannel, channel: Optional[str]
) -> None:
    """A warning an operator can act on when nobody got it. A message that reached the user
    is a debug line, as Rasa logs its own turns: one line per message at info would be the
    busiest deployments' largest log and a measurable share of a webhook's CPU (the metrics
    count them)."""
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
        logger.debug("%s sent to sender %s via %s", what, target.sender_id, output.name())
