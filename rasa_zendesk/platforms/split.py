"""An agent's text cut to what one message of a platform holds (each platform's limit is its
module's `Platform.max_text`).

A platform refuses a text over its limit (Telegram, Messenger, Twilio) or cuts it off
(Slack); an agent writes as long as they like. `split_text` cuts on the largest boundary that
makes the parts fit: between paragraphs (a blank line), then lines, then sentences, then
words; inside a word only when the word alone is longer than the limit. Parts are filled up
to the limit in order, and only whitespace is lost at a cut.
"""

from __future__ import annotations

import re
from typing import List, Tuple

#: The boundaries tried in turn: paragraphs, lines, sentences (after `.`, `!`, `?`, `…`, or
#: those followed by a closing quote or bracket), words.
_BOUNDARIES = (
    re.compile(r"\n[ \t]*\n\s*"),
    re.compile(r"[ \t]*\n\s*"),
    re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+"),
    re.compile(r"\s+"),
)


def split_text(text: str, limit: int) -> List[str]:
    """`text` (stripped) as parts of at most `limit` characters, in order; no part for a
    blank text."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    text = text.strip()
    if not text:
        return []
    return [part.strip() for part in _split(text, limit, 0) if part.strip()]


def _split(text: str, limit: int, level: int) -> List[str]:
    if len(text) <= limit:
        return [text]
    if level == len(_BOUNDARIES):  # one word longer than the limit
        return [text[start : start + limit] for start in range(0, len(text), limit)]
    parts: List[str] = []
    current, between = "", ""
    for piece, after in _pieces(text, _BOUNDARIES[level]):
        if len(piece) > limit:
            if current:
                parts.append(current)
            *whole, current = _split(piece, limit, level + 1)
            parts += whole
        elif not current:
            current = piece
        elif len(current) + len(between) + len(piece) <= limit:
            current = f"{current}{between}{piece}"
        else:
            parts.append(current)
            current = piece
        between = after
    if current:
        parts.append(current)
    return parts


def _pieces(text: str, boundary: re.Pattern[str]) -> List[Tuple[str, str]]:
    """The pieces of `text` between boundaries, each with the boundary after it (what joins
    it to the next when both go in one part)."""
    pieces: List[Tuple[str, str]] = []
    start = 0
    for match in boundary.finditer(text):
        pieces.append((text[start : match.start()], match.group()))
        start = match.end()
    pieces.append((text[start:], ""))
    return pieces
