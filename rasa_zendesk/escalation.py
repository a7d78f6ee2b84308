"""Why the bot escalated: the reason as data, one vocabulary of kinds for every side.

HandoffPolicy (Rasa server) sets the slot `zendesk_handoff_reason` to `EscalationReason.as_slot()`;
the escalation action (action server) reads it back with `EscalationReason.from_slot` for the
agent's summary, the ticket's subject and tags, and the handoff's record (`trigger`). Like
`constants`, this module is a contract between the processes, so both import it and neither
imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

#: The user asked for a human (intent `human_handoff`).
EXPLICIT_REQUEST = "explicit_request"
#: Negative sentiment, in one message or over a few, or shouting.
FRUSTRATION = "frustration"
#: The bot did not understand several messages in a row.
FALLBACKS = "fallbacks"
#: The user sent the same message several times in a row.
REPEATED_MESSAGE = "repeated_message"
#: No reason recorded, or one this version does not know (an old text value, say).
UNKNOWN = "unknown"


@dataclass(frozen=True)
class _Wording:
    label: str  # opens the agent's "Why:" line: "<label>: <detail>"
    title: str  # the ticket's subject


_WORDING: Dict[str, _Wording] = {
    EXPLICIT_REQUEST: _Wording("explicit request", "the user asked for a human"),
    FRUSTRATION: _Wording("frustration", "the user seems frustrated"),
    FALLBACKS: _Wording("repeated fallbacks", "the bot did not understand"),
    REPEATED_MESSAGE: _Wording("repeated message", "the user repeated themself"),
    UNKNOWN: _Wording("", "handoff requested"),
}
#: Every kind, as settings name them (`group_by_trigger`).
KINDS = tuple(_WORDING)


@dataclass(frozen=True)
class EscalationReason:
    """Why the bot escalated: a `kind` (one of `KINDS`, for tags and metrics) and a `detail`
    written for the agent (what fired, with its numbers)."""

    kind: str
    detail: str

    def __post_init__(self) -> None:
        if self.kind not in _WORDING:
            raise ValueError(f"unknown escalation reason kind {self.kind!r}")

    @property
    def title(self) -> str:
        """The ticket's subject: what happened, in a few words."""
        return _WORDING[self.kind].title

    @property
    def text(self) -> str:
        """The reason in full, as the agent reads it: `frustration: negative sentiment ...`."""
        label = _WORDING[self.kind].label
        return f"{label}: {self.detail}" if label else self.detail

    def as_slot(self) -> Dict[str, str]:
        return {"kind": self.kind, "detail": self.detail}

    @classmethod
    def from_slot(cls, value: Any) -> Optional[EscalationReason]:
        """The reason in a slot value; None for an empty one. Text (as versions before this
        one stored it) or a kind this version does not know is kept as the unknown kind's
        detail."""
        if isinstance(value, Mapping):
            kind, detail = value.get("kind"), str(value.get("detail") or "").strip()
            if kind in _WORDING:
                return cls(kind, detail)
            value = detail or kind
        text = str(value).strip() if value else ""
        return cls(UNKNOWN, text) if text else None
