"""Ids, timestamps and keys shaped like Zendesk's: SunCo's (24 hex digits, ISO 8601 with
milliseconds, camelCase keys) and Zendesk Support's event webhooks (UUID event ids, ULID webhook
ids, whole seconds)."""

import dataclasses
import itertools
import os
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Dict

_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))
_process = os.urandom(5).hex()
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A 24-hex-digit id like SunCo's ObjectIds; later ids sort after earlier ones."""
    return f"{int(time.time()):08x}{_process}{next(_counter) & 0xFFFFFF:06x}"


def new_uuid() -> str:
    """An event id as Zendesk's event webhooks carry it."""
    return str(uuid.uuid4())


def new_ulid() -> str:
    """A 26-character ULID, the shape of Zendesk webhook ids (01GSVM...)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def now_iso() -> str:
    """Current UTC time as SunCo writes it: 2020-09-30T15:14:29.834Z."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def now_iso_seconds() -> str:
    """Current UTC time as Zendesk Support writes it: 2021-03-25T05:09:27Z."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def camel_view(record: Any, *names: str, **keys: str) -> Dict[str, Any]:
    """A dataclass's fields (all, or only `names`) under camelCase keys, as SunCo and the
    control API show objects; `keys` names a field's key otherwise (`event_type="type"`)."""
    chosen = names or tuple(field.name for field in dataclasses.fields(record))
    return {keys.get(name) or _camel(name): getattr(record, name) for name in chosen}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)
