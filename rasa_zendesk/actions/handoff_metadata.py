"""The metadata of the passControl to Agent Workspace, which becomes the ticket's fields.

Agent Workspace reads `first_message_id` (where the ticket's transcript starts: without it the
ticket shows only the last 10 messages), `dataCapture.systemField.*` (subject, tags as one
comma-separated string, requester name and email, and the routing: group, brand,
organization, assignee, priority) and `dataCapture.ticketField.<field id>` (custom fields).
The routing comes from the conversation as the connector's `Routing` says (`routed_fields`).
SunCo accepts only flat metadata (string, number or boolean values) of at most 4 KB, so
everything here is a string, free text is cut to a sensible length, and the whole is checked
against the limit before it is sent: what does not fit is left out, least useful first, and
logged by name.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from rasa_zendesk.settings import ID_SYSTEM_FIELDS, PRIORITIES, Routing

logger = logging.getLogger(__name__)

MAX_METADATA_BYTES = 4096
MAX_SUBJECT = 150
MAX_FIELD = 256

FIRST_MESSAGE_ID = "first_message_id"
SUBJECT = "dataCapture.systemField.subject"
TAGS = "dataCapture.systemField.tags"
REQUESTER_NAME = "dataCapture.systemField.requester.name"
REQUESTER_EMAIL = "dataCapture.systemField.requester.email"
SYSTEM_FIELD = "dataCapture.systemField."
TICKET_FIELD = "dataCapture.ticketField."


def metadata_size(metadata: Mapping[str, object]) -> int:
    """Bytes of the metadata as JSON on the wire (compact UTF-8, as the client sends it)."""
    return len(json.dumps(metadata, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def tag(text: str) -> str:
    """A Zendesk tag: lowercase letters, digits and underscores only (no spaces or commas)."""
    return re.sub(r"[^a-z0-9_]+", "_", text.strip().lower()).strip("_")


def pass_control_metadata(
    first_message_id: str,
    subject: str,
    tags: Iterable[str],
    requester_name: Optional[str] = None,
    requester_email: Optional[str] = None,
    routed: Optional[Mapping[str, str]] = None,
) -> Dict[str, str]:
    """Flat metadata under 4 KB: first_message_id always, the ticket's fields when they fit
    (`routed`: the routing's, from `routed_fields`). What is left out is logged by name."""
    unique_tags = list(dict.fromkeys(t for t in (tag(t) for t in tags) if t))
    metadata: Dict[str, str] = {FIRST_MESSAGE_ID: first_message_id}
    candidates = {
        SUBJECT: _cut(subject, MAX_SUBJECT),
        TAGS: _join_within(unique_tags, MAX_FIELD),
        REQUESTER_NAME: _cut(requester_name, MAX_FIELD),
        REQUESTER_EMAIL: _email(requester_email),
        **(routed or {}),
    }
    metadata.update({key: value for key, value in candidates.items() if value})
    left_out: List[str] = []
    for key in _drop_order(metadata):
        if metadata_size(metadata) <= MAX_METADATA_BYTES:
            break
        del metadata[key]
        left_out.append(key)
    if metadata_size(metadata) > MAX_METADATA_BYTES:
        raise ValueError("first_message_id alone exceeds SunCo's 4 KB metadata limit")
    if left_out:
        logger.warning(
            "passControl metadata over SunCo's %d bytes: left out %s",
            MAX_METADATA_BYTES,
            ", ".join(left_out),
        )
    return metadata


def _drop_order(metadata: Mapping[str, str]) -> List[str]:
    """What goes first when the metadata is too big: the requester's name and the subject
    (the transcript has both), custom fields (the last configured first), tags, the email,
    and last the routing's system fields (where the ticket lands); never first_message_id."""
    custom = [key for key in metadata if key.startswith(TICKET_FIELD)]
    fixed = (SUBJECT, TAGS, REQUESTER_NAME, REQUESTER_EMAIL, FIRST_MESSAGE_ID)
    system = [key for key in metadata if key.startswith(SYSTEM_FIELD) and key not in fixed]
    order = [REQUESTER_NAME, SUBJECT, *reversed(custom), TAGS, REQUESTER_EMAIL, *system]
    return [key for key in order if key in metadata]


def routed_fields(
    routing: Routing,
    slots: Mapping[str, Any],
    intents: Sequence[str],
    trigger: Optional[str],
) -> Dict[str, str]:
    """The ticket's fields as the connector's routing says, from the conversation: custom
    fields and system fields from slots, the group by the latest intent the routing names
    (`intents`: the user's, oldest first), else by the escalation's trigger, else the default
    group; the brand. A slot value a field cannot take is left out and logged (by name)."""
    fields: Dict[str, str] = {}
    for slot, field_id in routing.ticket_fields:
        value = _slot_text(slots.get(slot))
        if value:
            fields[f"{TICKET_FIELD}{field_id}"] = _cut(value, MAX_FIELD)
    rules = dict(routing.group_by_intent)
    chosen = next((rules[intent] for intent in reversed(intents) if intent in rules), None)
    group = chosen or dict(routing.group_by_trigger).get(trigger or "") or routing.default_group
    defaults = {"group_id": group, "brand_id": routing.brand_id}
    fields.update({f"{SYSTEM_FIELD}{name}": value for name, value in defaults.items() if value})
    for slot, name in routing.system_fields:
        value = _system_value(name, _slot_text(slots.get(slot)))
        if value:
            fields[f"{SYSTEM_FIELD}{name}"] = value
        elif slots.get(slot) is not None:
            logger.warning("Slot %s does not hold a Zendesk %s: not sent", slot, name)
    return fields


def _slot_text(value: Any) -> str:
    """A slot's value as a field's text: text and numbers; nothing for lists and records."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    return ""


def _system_value(name: str, value: str) -> str:
    """The value if the system field takes it: ids are whole numbers, priorities Zendesk's."""
    if name in ID_SYSTEM_FIELDS:
        return value if value.isdigit() else ""
    return value.lower() if value.lower() in PRIORITIES else ""


def _join_within(tags: Iterable[str], limit: int) -> str:
    """Comma-joined whole tags, as many as fit in `limit` characters."""
    joined = ""
    for item in tags:
        candidate = f"{joined},{item}" if joined else item
        if len(candidate) > limit:
            break
        joined = candidate
    return joined


def _email(text: Optional[str]) -> str:
    """The address if it looks like one (a cut address would be a wrong one)."""
    text = (text or "").strip()
    return text if 3 <= len(text) <= 254 and "@" in text and " " not in text else ""


def _cut(text: Optional[str], limit: int) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
