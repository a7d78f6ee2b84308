"""Rasa's Slack input channel, with the user's replies in a handoff's thread passed on.

Rasa 3.6's `SlackInput` passes on a DM, a mention of the bot (`app_mention`) and any message
in its configured `slack_channel`; every other channel message is dropped. A handoff begun in
a channel goes on in the thread of the user's message (`rasa_zendesk.platforms.slack`), where
people answer without mentioning the bot: `SlackHandoffInput` (same name, routes and output)
also passes on a message of the user's in that very thread while their handoff runs, and
nothing else Rasa would drop. A message that mentions the bot is left to its `app_mention`
(Slack sends both), so it reaches Rasa once. In credentials.yml, instead of `slack`:

    rasa_zendesk.channel.slack_input.SlackHandoffInput:
      slack_token: ...
      slack_signing_secret: ...

The Slack app needs the events of the messages it is to read: `message.channels` (public
channels, scope `channels:history`), `message.groups` (private channels, `groups:history`),
`message.im` (DMs, `im:history`) and `app_mention`.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.slack import SlackInput
from sanic import Blueprint
from sanic.request import Request

from rasa_zendesk.handoff import state
from rasa_zendesk.platforms.slack import is_direct_message

logger = logging.getLogger(__name__)

#: In the metadata of a thread reply passed on for a running handoff.
HANDOFF_THREAD_KEY = "zendesk_handoff_thread"


class SlackHandoffInput(SlackInput):
    """Slack, with the user's replies in their handoff's thread passed on without a mention."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack_webhook = super().blueprint(on_new_message)

        @slack_webhook.middleware("request")
        async def handoff_thread(request: Request) -> None:
            """Mark a reply in the thread of the sender's running handoff (read from the
            bot's tracker store) for `_is_supported_channel`."""
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return
            if request.headers.get("content-type") != "application/json":
                return
            body = request.json
            event = body.get("event") if isinstance(body, dict) else None
            if not isinstance(event, dict) or not self._thread_reply(event, body):
                return
            if not self.is_request_from_slack_authentic(request):
                return  # Rasa's handler refuses it
            request.ctx.zendesk_handoff_thread = await self._in_handoff_thread(request, event)

        return slack_webhook

    def _thread_reply(self, event: Dict[str, Any], body: Dict[str, Any]) -> bool:
        """A user's message in a channel's thread, without a mention of the bot (which comes
        as an `app_mention` too): what Rasa's handler would drop."""
        channel, thread, text = event.get("channel"), event.get("thread_ts"), event.get("text")
        if event.get("type") != "message" or event.get("subtype") or event.get("bot_id"):
            return False
        if not all(isinstance(value, str) and value for value in (channel, thread, text)):
            return False
        if is_direct_message(channel) or channel == self.slack_channel:
            return False  # Rasa passes these on itself
        return not any(f"<@{user}>" in text for user in _bot_users(body))

    async def _in_handoff_thread(self, request: Request, event: Dict[str, Any]) -> bool:
        """Whether the sender's running handoff is pinned to this channel and thread."""
        store = getattr(getattr(request.app.ctx, "agent", None), "tracker_store", None)
        if store is None:
            return False
        channel, thread = event["channel"], event["thread_ts"]
        sender = self._get_conversation_id(event.get("user") or "", channel, thread)
        if not sender:
            return False
        try:
            tracker = await store.retrieve(sender)
        except Exception:  # the tracker store is down: Rasa's own rule, the message is dropped
            logger.exception("Slack thread reply of %s not checked for a handoff", sender)
            return False
        handoff = state.active(tracker.events) if tracker is not None else None
        return (
            handoff is not None
            and handoff.pinned_channel == channel
            and handoff.pinned_thread == thread
        )

    def get_metadata(self, request: Request) -> Dict[str, Any]:
        metadata = super().get_metadata(request)
        if getattr(request.ctx, "zendesk_handoff_thread", False):
            metadata[HANDOFF_THREAD_KEY] = True
        return metadata

    def _is_supported_channel(self, slack_event: Dict, metadata: Optional[Dict]) -> bool:
        if metadata and metadata.get(HANDOFF_THREAD_KEY):
            return True
        return super()._is_supported_channel(slack_event, metadata or {})


def _bot_users(body: Dict[str, Any]) -> List[str]:
    """The bot's user ids in a Slack event, as Rasa's `get_metadata` reads them."""
    if isinstance(body.get("authed_users"), list):
        return [str(user) for user in body["authed_users"]]
    authorizations = body.get("authorizations")
    if isinstance(authorizations, list) and authorizations:
        first = authorizations[0]
        return [str(first.get("user_id"))] if isinstance(first, dict) else []
    return []
