"""A text cut into parts of at most a number of characters, on the largest boundary that
makes them fit: the one way both an agent's text to a platform (`platforms/split.py`) and a
user's text to SunCo (`sunco/text.py`) are cut; each caller names its boundaries.

Parts are filled up to the limit in order. Between two pieces that go in one part, the text
is kept as it is; only the boundary where a part ends is lost (so, with boundaries that are
whitespace, only whitespace). A piece longer than the limit is cut on the next boundary, and
where none is left, every `limit` characters.
"""

from __future__ import annotations

import re
from typing import List, Sequence, Tuple


def split(text: str, limit: int, boundaries: Sequence[re.Pattern[str]]) -> List[str]:
    """`text` in parts of at most `limit` characters, in order; the caller drops or strips
    what it does not send (a part may be blank)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return _split(text, limit, boundaries)


def _split(text: str, limit: int, boundaries: Sequence[re.Pattern[str]]) -> List[str]:
    if len(text) <= limit:
        return [text]
    if not boundaries:  # one word longer than the limit
        return [text[start : start + limit] for start in range(0, len(text), limit)]
    parts: List[str] = []
    current, between = "", ""
    for piece, after in _pieces(text, boundaries[0]):
        if len(piece) > limit:
            if current:
                parts.append(current)
            *whole, current = _split(piece, limit, boundaries[1:])
            parts += whole
        elif not current:
            current = piece
        elif len(current) + len(between) + len(piece) <= limit:
            current = f"{current}{between}{piece}"
        else:
            parts.append(current)
            current = piece
        between = after
    if current or not parts:  # a piece all boundary (blank) is one blank part
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
