"""SunCo's limit on a message's text, and how longer texts are cut to fit it.

SunCo refuses a text message longer than 4096 characters. `chunk_text` cuts one text on line,
then word, boundaries; `pack_blocks` puts many short texts (a transcript's turns) into as few
messages as fit, keeping each block whole where it fits, so the number of SunCo calls grows
with the size of what is posted, not with how many pieces it has.
"""

from __future__ import annotations

import re
from typing import Iterable, List

from rasa_zendesk import text_parts

#: Largest text SunCo accepts in one message.
MAX_TEXT_LENGTH = 4096
#: Between two blocks packed into one message.
BLOCK_SEPARATOR = "\n\n"
#: Where `chunk_text` cuts, in turn: between lines, then between words.
_BOUNDARIES = (re.compile(r"\n+"), re.compile(r" +"))


def pack_blocks(blocks: Iterable[str], limit: int = MAX_TEXT_LENGTH) -> List[str]:
    """Texts of at most `limit` characters holding `blocks` in order: never more than
    ceil(size / limit) of them, where size is that of the blocks joined by blank lines.

    Blocks are kept whole when that keeps to the number (a block goes into the current text
    when it fits there, else it starts the next one). Otherwise each text is filled up to the
    limit and cut at its last line break or space, as long as the room left unused over all
    texts stays within what the number allows, else where the limit falls. Only whitespace
    is lost at a cut. Blank blocks are dropped.
    """
    kept = [block for block in blocks if block.strip()]
    joined = BLOCK_SEPARATOR.join(kept)
    most = -(-len(joined) // limit)
    whole = _whole_blocks(kept, limit)
    return whole if len(whole) <= most else _filled(joined, limit, most * limit - len(joined))


def _filled(text: str, limit: int, spare: int) -> List[str]:
    """Texts filled up to `limit`; `spare` is the unused room all the cuts may leave."""
    texts: List[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = limit
        for boundary in ("\n", " "):
            at = window.rfind(boundary)
            if at > 0 and limit - at <= spare:
                cut = at
                break
        spare -= limit - cut
        texts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest.strip():
        texts.append(rest)
    return texts


def _whole_blocks(blocks: Iterable[str], limit: int) -> List[str]:
    texts: List[str] = []
    current = ""
    for block in blocks:
        for piece in chunk_text(block, limit):
            candidate = f"{current}{BLOCK_SEPARATOR}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                texts.append(current)
                current = piece
    if current:
        texts.append(current)
    return texts


def chunk_text(text: str, limit: int = MAX_TEXT_LENGTH) -> List[str]:
    """`text` cut into parts of at most `limit` characters, on line, then word, boundaries.

    A word longer than `limit` is cut where it must be. Parts that would be blank are dropped,
    so an empty text gives no part at all (SunCo refuses an empty message). Unlike an agent's
    text to a platform, the user's is not stripped: what fits goes as it was written.
    """
    parts = text_parts.split(text, limit, _BOUNDARIES)
    return [part for part in parts if part.strip()]
