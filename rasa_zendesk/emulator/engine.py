"""What happens in the emulated account: each operation changes the store and emits its webhooks.

The SunCo routes (`api.py`) and the agent console's control routes (`control.py`) both act
through here, so an agent reply and an API post produce the same `conversation:message`.
A handoff also opens a Zendesk ticket (`tickets.py`), whose status changes go out as Zendesk
Support's own ticket webhooks, by a second sender.
"""

from collections import deque
from typing import Any, Deque, Dict, Iterable, List, Optional

from rasa_zendesk.constants import AGENT_WORKSPACE_TYPE, REASON_TICKET_CLOSED

from . import events, tickets
from .bodies import (
    ActivityBody,
    ConversationCreateBody,
    ConversationUpdateBody,
    MessagePostBody,
    UserCreateBody,
)
from .config import EmulatorConfig
from .errors import ApiError, bad_request
from .faults import FaultInjector
from .ids import new_id, now_iso
from .store import Conversation, Handback, Message, Store, User
from .support_state import SupportState
from .switchboard import Switchboard
from .tickets import AGENT_USER_ID, Ticket, TicketBook
from .webhook_formats import SUNCO, TICKET, SunCoFormat, ZendeskEventFormat
from .webhooks import WebhookSender

API_SOURCE = "api:conversations"
RECENTLY_CLOSED = 10
REQUESTS_KEPT = 5000


def user_display_name(user: User) -> Optional[str]:
    names = [user.profile.get("givenName"), user.profile.get("surname")]
    return " ".join(name for name in names if name) or None


class Emulator:
    """The emulated Zendesk Conversations app: data, switchboard, webhooks, faults."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store()
        self.tickets = TicketBook()
        self.switchboard = Switchboard(config.bot_integration_name)
        self.faults = FaultInjector()
        client = (config.support_oauth_client_id, config.support_oauth_client_secret)
        self.support = SupportState(config.support_oauth_token, client if client[0] else None)
        self.requests: Deque[Dict[str, Any]] = deque(maxlen=REQUESTS_KEPT)
        self.sender = WebhookSender(
            SunCoFormat(config.app_id, config.webhook_secret),
            urls=config.webhook_urls,
            retry_delays=config.webhook_retry_delays,
            timeout=config.webhook_timeout,
        )
        self.ticket_format = ZendeskEventFormat(
            config.account_id,
            config.ticket_webhook_secret,
            config.ticket_webhook_api_key,
            config.ticket_webhook_api_key_header,
        )
        self.ticket_sender = WebhookSender(
            self.ticket_format,
            urls=config.ticket_webhook_urls,
            retry_delays=config.webhook_retry_delays,
            timeout=config.ticket_webhook_timeout,
        )
        self.senders: Dict[str, WebhookSender] = {SUNCO: self.sender, TICKET: self.ticket_sender}

    @property
    def app_id(self) -> str:
        return self.config.app_id

    async def start(self) -> None:
        for sender in self.senders.values():
            await sender.start()

    async def close(self) -> None:
        for sender in self.senders.values():
            await sender.close()

    async def reset(self) -> None:
        """Forget all data, requests, deliveries, delivery modes and faults (the webhook targets
        stay, and ticket ids keep counting)."""
        for sender in self.senders.values():
            await sender.reset()
        self.store.reset()
        self.tickets.reset()
        self.faults.reset()
        self.support.reset()
        self.requests.clear()

    def _emit(
        self, conversation: Conversation, event: Dict[str, Any], handback: bool = False
    ) -> None:
        """Send a webhook; `handback` marks the switchboard event by which control leaves Agent
        Workspace (delivery modes can single it out)."""
        self.sender.send(event, conversation.id, handback=handback)

    # Users.
    def create_user(self, body: UserCreateBody) -> User:
        profile = body.profile.dict(exclude_none=True) if body.profile else {}
        return self.store.create_user(
            external_id=body.externalId,
            profile=profile,
            metadata=dict(body.metadata or {}),
            signed_up_at=body.signedUpAt,
            to_be_retained=bool(body.toBeRetained),
        )

    # Conversations.
    def create_conversation(self, body: ConversationCreateBody) -> Conversation:
        users = [
            self.store.require_user(p.userId, p.userExternalId) for p in body.participants or []
        ]
        now = now_iso()
        conversation = Conversation(
            id=new_id(),
            type=body.type,
            participants=[user.id for user in users],
            metadata=dict(body.metadata) if body.metadata is not None else None,
            display_name=body.displayName,
            description=body.description,
            icon_url=body.iconUrl,
            created_at=now,
            last_updated_at=now,
            active=self.switchboard.default,
        )
        self.store.add_conversation(conversation)
        user = users[0] if body.type == "personal" else None
        self._emit(conversation, events.conversation_create(conversation, user, API_SOURCE))
        return conversation

    def update_conversation(self, conversation: Conversation, body: ConversationUpdateBody) -> None:
        fields = body.dict(exclude_unset=True)
        if "displayName" in fields:
            conversation.display_name = body.displayName
        if "description" in fields:
            conversation.description = body.description
        if "iconUrl" in fields:
            conversation.icon_url = body.iconUrl
        if "metadata" in fields:
            conversation.metadata = dict(body.metadata) if body.metadata is not None else None
        conversation.last_updated_at = now_iso()

    def participant(
        self, conversation: Conversation, user_id: Optional[str], external_id: Optional[str]
    ) -> User:
        user = self.store.require_user(user_id, external_id)
        if user.id not in conversation.participants:
            raise bad_request("The user is not a participant of the conversation")
        return user

    # Messages.
    def post_message(
        self, conversation: Conversation, body: MessagePostBody, raw: Dict[str, Any]
    ) -> Message:
        """Post Message: stored as sent, with SunCo's id, time and source; echoed by webhook."""
        author: Dict[str, Any] = {
            k: v for k, v in raw["author"].items() if k != "userExternalId" and v is not None
        }
        user: Optional[User] = None
        if body.author.type == "user":
            user = self.participant(conversation, body.author.userId, body.author.userExternalId)
            author["userId"] = user.id
            name = user_display_name(user)
            if name and "displayName" not in author:
                author["displayName"] = name
            if conversation.active is None:
                # A released conversation goes back to the default integration on a user message.
                conversation.active = self.switchboard.default
        metadata = raw.get("metadata")
        message = Message(
            id=new_id(),
            received=now_iso(),
            author=author,
            content={k: v for k, v in raw["content"].items() if v is not None},
            source={"type": API_SOURCE},
            metadata=dict(metadata) if metadata is not None else None,
        )
        self._add(conversation, message, user)
        if user is not None and self._with_agent(conversation):
            self._requester_replied(conversation)
        return message

    def agent_message(
        self, conversation: Conversation, content: Dict[str, Any], agent_name: str, avatar_url: str
    ) -> Message:
        """A reply typed in Agent Workspace."""
        message = Message(
            id=new_id(),
            received=now_iso(),
            author={
                "type": "business",
                "subtypes": ["agent"],
                "displayName": agent_name,
                "avatarUrl": avatar_url,
            },
            content=content,
            source={"type": AGENT_WORKSPACE_TYPE},
        )
        conversation.agent_typing = False
        self._add(conversation, message, None)
        if self._with_agent(conversation) and conversation.first_agent_message_at is None:
            conversation.first_agent_message_at = message.received
        ticket = conversation.ticket
        if self._with_agent(conversation) and ticket is not None and ticket.status == "new":
            self._change_ticket(conversation, ticket, "open", AGENT_USER_ID)
        return message

    def _add(self, conversation: Conversation, message: Message, user: Optional[User]) -> None:
        self.store.add_message(conversation, message)
        self._emit(conversation, events.conversation_message(conversation, message, user))

    # Activities.
    def post_activity(self, conversation: Conversation, body: ActivityBody) -> None:
        if body.author.type == "user":
            user = self.participant(conversation, body.author.userId, body.author.userExternalId)
            author = {"type": "user", "userId": user.id, "user": user.to_webhook()}
            self._emit(
                conversation,
                events.activity("conversation:read", conversation, body.type, author, API_SOURCE),
            )
        elif body.type == "conversation:read":
            conversation.business_last_read = now_iso()
        # Business typing goes to the user's channel: nothing for the app's webhooks.

    def agent_typing(
        self, conversation: Conversation, typing: bool, agent_name: str, avatar_url: str
    ) -> None:
        conversation.agent_typing = typing
        author = {"type": "business", "displayName": agent_name, "avatarUrl": avatar_url}
        kind = "typing:start" if typing else "typing:stop"
        self._emit(
            conversation,
            events.activity(
                "conversation:typing", conversation, kind, author, AGENT_WORKSPACE_TYPE
            ),
        )

    # Switchboard.
    @staticmethod
    def _with_agent(conversation: Conversation) -> bool:
        return conversation.active is not None and conversation.active.is_agent_workspace

    def _start_handoff(
        self, conversation: Conversation, metadata: Optional[Dict[str, Any]]
    ) -> None:
        """Agent Workspace takes a conversation it did not have: a new ticket opens."""
        conversation.handed_off_at = now_iso()
        conversation.closed_at = conversation.closed_reason = None
        conversation.first_agent_message_at = None
        conversation.handback = None
        conversation.handoff_metadata = dict(metadata) if metadata else None
        first = conversation.participants[0] if conversation.participants else None
        user = self.store.users.get(first) if first else None
        conversation.ticket = self.tickets.open(
            conversation.id,
            metadata,
            user_id=user.id if user else None,
            user_name=user_display_name(user) if user else None,
            user_email=user.profile.get("email") if user else None,
            user_external_id=user.external_id if user else None,
        )

    def _hand_back(self, conversation: Conversation, status: str, event: Dict[str, Any]) -> None:
        """Control left Agent Workspace by `event`: record how, then send it (a hand-back)."""
        conversation.closed_at = now_iso()
        conversation.closed_reason = status
        conversation.agent_typing = False
        conversation.handback = Handback(
            type=str(event["type"]), reason=event["payload"].get("reason"), event_id=event["id"]
        )
        self._emit(conversation, event, handback=True)

    def pass_control(
        self,
        conversation: Conversation,
        target: str,
        metadata: Optional[Dict[str, Any]],
        reason: Optional[str] = None,
    ) -> None:
        integration = self.switchboard.resolve(target, conversation.active)
        was_agent = self._with_agent(conversation)
        conversation.active, conversation.pending = integration, None
        if integration.is_agent_workspace:
            if not was_agent:
                self._start_handoff(conversation, metadata)
            conversation.handoff_metadata = dict(metadata) if metadata else None
        event = events.switchboard("switchboard:passControl", conversation, metadata, reason)
        if was_agent and not integration.is_agent_workspace:
            self._hand_back(conversation, "solved" if reason else "passed", event)
        else:
            self._emit(conversation, event)

    def offer_control(
        self, conversation: Conversation, target: str, metadata: Optional[Dict[str, Any]]
    ) -> None:
        integration = self.switchboard.resolve(target, conversation.active)
        if integration is conversation.active:
            raise bad_request("Cannot offer control to the active switchboard integration")
        conversation.pending = integration
        self._emit(
            conversation, events.switchboard("switchboard:offerControl", conversation, metadata)
        )

    def accept_control(
        self, conversation: Conversation, metadata: Optional[Dict[str, Any]]
    ) -> None:
        if conversation.pending is None:
            raise bad_request("No switchboard integration has been offered control")
        was_agent = self._with_agent(conversation)
        conversation.active, conversation.pending = conversation.pending, None
        if conversation.active.is_agent_workspace and not was_agent:
            self._start_handoff(conversation, metadata)
        event = events.switchboard("switchboard:acceptControl", conversation, metadata)
        if was_agent and not conversation.active.is_agent_workspace:
            self._hand_back(conversation, "passed", event)
        else:
            self._emit(conversation, event)

    def release_control(
        self,
        conversation: Conversation,
        metadata: Optional[Dict[str, Any]],
        reason: Optional[str] = None,
    ) -> None:
        was_agent = self._with_agent(conversation)
        conversation.active = conversation.pending = None
        event = events.switchboard("switchboard:releaseControl", conversation, metadata, reason)
        if was_agent:
            self._hand_back(conversation, "solved" if reason else "released", event)
        else:
            self._emit(conversation, event)

    def solve(
        self,
        conversation: Conversation,
        handback: str = "releaseControl",
        reason: str = REASON_TICKET_CLOSED,
    ) -> None:
        """The ticket is closed (or the agent moves the conversation to email, `reason`
        `transferToEmail`, and the ticket stays as it is): Agent Workspace hands the
        conversation back."""
        if not self._with_agent(conversation):
            raise ApiError(409, "conflict", "The conversation is not with Agent Workspace")
        ticket = conversation.ticket
        if reason == REASON_TICKET_CLOSED and ticket is not None and ticket.status != "closed":
            self._change_ticket(conversation, ticket, "closed", AGENT_USER_ID)
        self._give_back(conversation, handback, reason)

    def _give_back(self, conversation: Conversation, handback: str, reason: str) -> None:
        if handback == "passControl":
            self.pass_control(conversation, "next", None, reason=reason)
        else:
            self.release_control(conversation, None, reason=reason)

    # Tickets.
    def set_ticket_status(
        self, conversation: Conversation, status: str, handback: str = "releaseControl"
    ) -> Ticket:
        """The agent sets the ticket's status. Solved keeps the messaging session with the
        agent (the requester may still reopen it); closed gives the conversation back, with
        reason ticketClosed, if Agent Workspace still has it."""
        ticket = conversation.ticket
        if ticket is None:
            raise ApiError(409, "conflict", "The conversation has no ticket (never handed off)")
        ticket.ensure_changeable()
        if ticket.status != status:
            self._change_ticket(conversation, ticket, status, AGENT_USER_ID)
        if status == "closed" and self._with_agent(conversation):
            self._give_back(conversation, handback, REASON_TICKET_CLOSED)
        return ticket

    def _requester_replied(self, conversation: Conversation) -> None:
        """The user wrote to the agent: a pending or solved ticket is open again."""
        ticket = conversation.ticket
        if ticket is not None and ticket.status in tickets.REOPENED_BY_REQUESTER:
            self._change_ticket(conversation, ticket, "open", ticket.requester.id)

    def _change_ticket(
        self, conversation: Conversation, ticket: Ticket, status: str, actor_id: int
    ) -> None:
        """Change the status and send Zendesk's `ticket.status_changed` webhook."""
        if actor_id == AGENT_USER_ID and ticket.assignee_id is None:
            ticket.assignee_id = AGENT_USER_ID  # Zendesk assigns the agent who acts on it
        previous = ticket.set_status(status)
        event = tickets.status_changed_event(self.config.account_id, ticket, previous, actor_id)
        self.ticket_sender.send(event, conversation.id)

    # Views for the control API.
    def agent_queue(self) -> List[Conversation]:
        """Open Agent Workspace conversations (oldest first), then the recently closed."""
        return agent_queue(self.store.conversations.values())


def agent_queue(conversations: Iterable[Conversation]) -> List[Conversation]:
    """Open Agent Workspace conversations (oldest first), then the recently closed; of one
    app or of several."""
    handed = [c for c in conversations if c.handed_off_at]
    open_ = [c for c in handed if c.active is not None and c.active.is_agent_workspace]
    closed = [c for c in handed if c not in open_ and c.closed_at]
    open_.sort(key=lambda c: c.handed_off_at or "")
    closed.sort(key=lambda c: c.closed_at or "", reverse=True)
    return open_ + closed[:RECENTLY_CLOSED]
