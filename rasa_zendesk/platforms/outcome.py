"""What became of one send to a user's platform: delivered, failed for now, or refused for good.

- Delivered: the send returned.
- Failed for now: the send raised anything but `Refused` (the platform is down or slow, 5xx,
  429, a timeout, a wrong token the operator can fix): the write path raises `DeliveryError`,
  the webhook answers 5xx, and Zendesk retries.
- Refused for good: the platform said this user cannot get it, and saying it again will not
  change that (the user blocked the bot, the number is invalid or unsubscribed, the chat or
  channel is gone, the platform's window closed). The send raises `Refused`; the write path
  keeps the message in the tracker (handed out when the user writes again, where the platform
  allows it), tells the agent once per cause, notes it in the handoff record, and counts it.

Each platform module classifies its own platform's errors (`Platform.refusal`); the causes and
what the agent reads of them are here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict

#: The causes of a refusal, each with what the agent reads in the Zendesk conversation.
BLOCKED = "blocked"
UNREACHABLE = "unreachable"
UNSUBSCRIBED = "unsubscribed"
CHAT_GONE = "chat_gone"
WINDOW_24H = "window_24h"
WINDOW_7D = "window_7d"
REJECTED = "rejected"
CAUSES: Dict[str, str] = {
    BLOCKED: "the customer blocked the bot or cannot receive its messages",
    UNREACHABLE: "the customer's number or account cannot be reached",
    UNSUBSCRIBED: "the customer has unsubscribed (replied STOP)",
    CHAT_GONE: "the chat or channel the customer wrote from no longer exists for the bot",
    WINDOW_24H: "{platform}'s 24-hour window since the customer's last message has passed",
    WINDOW_7D: "{platform}'s 7-day window since the customer's last message has passed",
    REJECTED: "the customer's platform rejected the message",
}
#: What the agent reads, before the cause.
NOT_DELIVERED = "Not delivered to the customer: {cause}. They get it when they write again."
#: How the agent reads each platform's name.
PLATFORM_NAMES = {
    "facebook": "Messenger",
    "twilio": "Twilio",
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "slack": "Slack",
    "callback": "the callback URL",
}


@dataclass(frozen=True)
class Refusal:
    """A send refused for good: the platform (Rasa's channel name, or `whatsapp`), one of
    `CAUSES`, and the platform's own words (logged, never shown to the user)."""

    platform: str
    cause: str
    detail: str = ""

    def agent_text(self) -> str:
        """What the agent reads in the Zendesk conversation."""
        name = PLATFORM_NAMES.get(self.platform, self.platform)
        return NOT_DELIVERED.format(cause=CAUSES[self.cause].format(platform=name))


class Refused(Exception):
    """A send the platform refused for good (see the module docstring)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"{refusal.platform} refused it ({refusal.cause}): {refusal.detail}")
        self.refusal = refusal
