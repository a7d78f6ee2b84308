"""Reading an event in either shape the plugin meets: a Rasa `Event` object (Rasa server) or
an event dict (rasa-sdk trackers in the action server, rows of the tracker store)."""

from __future__ import annotations

import functools
from dataclasses import asdict
from typing import Any, Callable, Dict, Mapping, Optional, Type, TypeVar

from rasa_zendesk.handoff.event_folds import Fold

R = TypeVar("R", bound="SlotRecord")

#: Dict key -> attribute of the Rasa event object holding the same thing.
_ATTRIBUTES = {"event": "type_name", "name": "key", "value": "value", "message_id": "message_id"}


def field(event: Any, key: str) -> Any:
    """`event[key]` of a dict, or the matching attribute of a Rasa event (`name` is a slot's
    key, or an action's name for an `action` event). Every webhook scans the conversation's
    events with it, several times: the common shapes are tried first, without an ABC check."""
    if type(event) is dict:
        return event.get(key)
    type_name = getattr(event, "type_name", None)
    if type_name is None:  # another mapping (a row), or no event at all
        return event.get(key) if isinstance(event, Mapping) else None
    if key == "event":
        return type_name
    if key == "name" and type_name == "action":
        return getattr(event, "action_name", None)
    return getattr(event, _ATTRIBUTES.get(key, key), None)


class SlotRecord:
    """A frozen dataclass a slot keeps as a JSON object, read back by its fields' names."""

    def as_slot(self) -> Dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def read_slot(cls: Type[R], value: Any) -> Optional[R]:
        """The record in a slot value; None for a value that is no mapping or lacks a field
        the record needs (the caller still checks what the fields say)."""
        if not isinstance(value, Mapping):
            return None
        try:
            return cls(**{name: value.get(name) for name in cls.__dataclass_fields__})  # type: ignore[attr-defined]
        except TypeError:
            return None


def kind(event: Any) -> Optional[str]:
    """`user`, `bot`, `action`, `slot`, `restart`, `session_started`, ..."""
    return field(event, "event")


@functools.lru_cache(maxsize=None)
def newest_slot_record(slot: str, read: Callable[[Any], Optional[R]]) -> Fold[Optional[R]]:
    """The record (`read` from the value) the slot was set to last, in the events as stored
    (whatever a rewind undid later); None when it was not set since the latest restart or
    session start (a new session starts from the values it carried over, set right after
    `session_started`). One fold per slot and reader: pass the same `read` each time."""

    def step(record: Optional[R], event: Any) -> Optional[R]:
        # A Rasa event names its kind in a class attribute: read at once.
        what = getattr(event, "type_name", None) or kind(event)
        if what == "slot" and field(event, "name") == slot:
            return read(field(event, "value"))
        if what in ("restart", "session_started"):
            return None
        return record

    return Fold(lambda: None, step)
