"""The metadata of the passControl to Agent Workspace, which becomes the ticket's fields.

Agent Workspace reads `first_message_id` (where the ticket's transcript starts: without it the
ticket shows only the last 10 messages) and `dataCapture.systemField.*` (subject, tags as one
comma-separated string, requester name and email). SunCo accepts only flat metadata (string,
number or boolean values) of at most 4 KB, so everything here is a string, free text is cut to
a sensible length, and the whole is checked against the limit before it is sent.
"""

from __future__ import annotations

import json
import re
from typing import Dict, Iterable, Mapping, Optional

MAX_METADATA_BYTES = 4096
MAX_SUBJECT = 150
MAX_FIELD = 256

FIRST_MESSAGE_ID = "first_message_id"
SUBJECT = "dataCapture.systemField.subject"
TAGS = "dataCapture.systemField.tags"
REQUESTER_NAME = "dataCapture.systemField.requester.name"
REQUESTER_EMAIL = "dataCapture.systemField.requester.email"

# Dropped in this order if the metadata would still exceed the limit (never first_message_id).
_OPTIONAL_IN_DROP_ORDER = (REQUESTER_NAME, SUBJECT, TAGS, REQUESTER_EMAIL)


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
) -> Dict[str, str]:
    """Flat metadata under 4 KB: first_message_id always, the ticket fields when they fit."""
    unique_tags = list(dict.fromkeys(t for t in (tag(t) for t in tags) if t))
    metadata: Dict[str, str] = {FIRST_MESSAGE_ID: first_message_id}
    candidates = {
        SUBJECT: _cut(subject, MAX_SUBJECT),
        TAGS: _join_within(unique_tags, MAX_FIELD),
        REQUESTER_NAME: _cut(requester_name, MAX_FIELD),
        REQUESTER_EMAIL: _email(requester_email),
    }
    metadata.update({key: value for key, value in candidates.items() if value})
    for key in _OPTIONAL_IN_DROP_ORDER:
        if metadata_size(metadata) <= MAX_METADATA_BYTES:
            break
        metadata.pop(key, None)
    if metadata_size(metadata) > MAX_METADATA_BYTES:
        raise ValueError("first_message_id alone exceeds SunCo's 4 KB metadata limit")
    return metadata


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
