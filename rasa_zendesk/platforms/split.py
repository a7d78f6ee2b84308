"""An agent's text cut to what one message of a platform holds (each platform's limit is its
module's `Platform.max_text`).

A platform refuses a text over its limit (Telegram, Messenger, Twilio) or cuts it off
(Slack); an agent writes as long as they like. `split_text` cuts on the largest boundary that
makes the parts fit: between paragraphs (a blank line), then lines, then sentences, then
words; inside a word only when the word alone is longer than the limit. Parts are filled up
to the limit in order, and only whitespace is lost at a cut (`rasa_zendesk.text_parts` cuts;
a user's text to SunCo is cut there too, on other boundaries and not stripped).
"""

from __future__ import annotations

import re
from typing import List

from rasa_zendesk import text_parts

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
    parts = text_parts.split(text.strip(), limit, _BOUNDARIES)
    return [part.strip() for part in parts if part.strip()]
