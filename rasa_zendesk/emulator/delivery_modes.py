"""Unkind webhook deliveries that real SunCo makes, armed by tests (`/_emulator/webhook-mode`).

By default every event is delivered once, in order per conversation. A rule changes that for
the next `count` events that match it (event type and/or conversation, when given; with
`handback`, only a switchboard event by which control leaves Agent Workspace, so "the next
hand-back" does not catch the bot's own passControl to the agents):
- `duplicate`: delivered twice, same event id and body, as when SunCo does not see the 2xx of
  the first POST and retries it;
- `reorder`: held until the conversation's next event, which is delivered first (the two are
  swapped); delivered alone if no other event comes within `maxWait` seconds;
- `hold`: not delivered until `POST /_emulator/webhooks/{eventId}/release` (a late webhook);
  later events of the conversation do not wait for it;
- `drop`: never delivered (a lost webhook); `redeliver` can still send it.
Held events can also go out together, in one post (`POST /_emulator/webhooks/release-together`),
as SunCo batches events of several conversations in one envelope.
Rules are matched when an event is created, in the order they were added; an event takes at
most one rule of each mode, and `drop` wins over the others.
"""

from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Literal, Optional

from pydantic import BaseModel, Extra, StrictBool, confloat, conint, constr

from .ids import camel_view, new_id

DEFAULT_MAX_WAIT = 5.0


class DeliveryModeRequest(BaseModel):
    """Body of `POST /_emulator/webhook-mode`."""

    class Config:
        extra = Extra.forbid

    mode: Literal["duplicate", "reorder", "hold", "drop"]
    type: Optional[constr(strict=True, min_length=1, max_length=100)] = None
    conversationId: Optional[constr(strict=True, min_length=1, max_length=100)] = None
    handback: StrictBool = False
    count: conint(strict=True, ge=1, le=100000) = 1
    maxWait: confloat(gt=0, le=300) = DEFAULT_MAX_WAIT


@dataclass
class DeliveryRule:
    id: str
    mode: str
    event_type: Optional[str]
    conversation_id: Optional[str]
    remaining: int
    max_wait: float
    handback: bool = False
    hits: int = 0

    def matches(self, event_type: str, conversation_id: Optional[str], handback: bool) -> bool:
        return (
            self.remaining > 0
            and self.event_type in (None, event_type)
            and self.conversation_id in (None, conversation_id)
            and (handback or not self.handback)
        )

    def to_json(self) -> Dict[str, Any]:
        return camel_view(self, event_type="type")


class DeliveryModes:
    """The armed rules; the webhook sender asks them about each new event."""

    def __init__(self) -> None:
        self.rules: List[DeliveryRule] = []

    def add(self, request: DeliveryModeRequest) -> DeliveryRule:
        rule = DeliveryRule(
            id=new_id(),
            mode=request.mode,
            event_type=request.type,
            conversation_id=request.conversationId,
            remaining=request.count,
            max_wait=request.maxWait,
            handback=request.handback,
        )
        self.rules.append(rule)
        return rule

    def take(
        self,
        event_type: str,
        conversation_id: Optional[str],
        exclude: FrozenSet[str] = frozenset(),
        handback: bool = False,
    ) -> Dict[str, DeliveryRule]:
        """The rules for a new event (`handback`: control leaves Agent Workspace by it), each
        used up by one: the first matching rule of each mode not in `exclude`; `drop` alone if
        it matches, else `hold` without `reorder`."""
        found: Dict[str, DeliveryRule] = {}
        for rule in self.rules:
            if rule.mode not in found and rule.mode not in exclude:
                if rule.matches(event_type, conversation_id, handback):
                    found[rule.mode] = rule
        if "drop" in found:
            found = {"drop": found["drop"]}
        elif "hold" in found:
            found.pop("reorder", None)
        for rule in found.values():
            rule.remaining -= 1
            rule.hits += 1
        return found

    def reset(self) -> None:
        self.rules.clear()
