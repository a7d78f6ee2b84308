"""Cheap signals that a user wants (or needs) a human agent.

Pure functions over the user's recent turns, oldest first, so they can be unit-tested and reused
outside Rasa. Each returns a `Trigger` (which signal fired, its score, the reason as data: see
`rasa_zendesk.escalation`) or None. `evaluate` runs them in a fixed order with `Thresholds`.

Nothing here imports Rasa; the VADER analyzer is built once, on first use, and the sentiment of a
text is cached, because the policy asks for the same recent messages at every prediction. The
cache keeps a fixed number of scores, and a long text is keyed on a 16-byte digest, never the
text itself, so its memory stays bounded (about 2 MB) whatever users send.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from rasa_zendesk import escalation
from rasa_zendesk.constants import INTENT_HUMAN_HANDOFF, INTENT_NLU_FALLBACK
from rasa_zendesk.escalation import EscalationReason

SIGNAL_EXPLICIT = "explicit_request"
SIGNAL_SENTIMENT = "negative_sentiment"
SIGNAL_SENTIMENT_WINDOW = "negative_sentiment_window"
SIGNAL_FALLBACKS = "consecutive_fallbacks"
SIGNAL_SHOUTING = "shouting"
SIGNAL_REPEATED = "repeated_message"


@dataclass(frozen=True)
class UserTurn:
    """What the user said in one turn, as NLU understood it."""

    text: str
    intent: Optional[str] = None
    confidence: float = 1.0


@dataclass(frozen=True)
class Trigger:
    """A signal that fired: its `reason` goes into the slot `zendesk_handoff_reason`."""

    signal: str
    score: float
    reason: EscalationReason


@dataclass(frozen=True)
class Thresholds:
    """Every knob of the signals; the policy reads them from its `config.yml` entry.

    A threshold set to None (`null` in YAML) or a count set to 0 turns its signal off.
    """

    # Latest message: VADER compound score (-1 .. 1) at or below this escalates.
    sentiment_threshold: Optional[float] = -0.6
    # Mean VADER score of the last `sentiment_window` messages (at least
    # `sentiment_window_min_messages` of them) at or below this escalates.
    sentiment_window: int = 3
    sentiment_window_min_messages: int = 2
    sentiment_window_threshold: Optional[float] = -0.35
    # This many user messages in a row not understood (intent `nlu_fallback`, or an intent
    # confidence below `fallback_confidence_threshold`) escalate.
    fallback_count: int = 2
    fallback_confidence_threshold: float = 0.3
    # Shouting: at least `shouting_min_letters` letters, at least `shouting_upper_ratio` of them
    # upper case, and an exclamation mark or a negative sentiment.
    shouting_min_letters: int = 10
    shouting_upper_ratio: Optional[float] = 0.8
    # The same message (ignoring case, spaces and punctuation, at least `repeat_min_length`
    # characters) sent this many times in a row escalates.
    repeat_count: int = 3
    repeat_min_length: int = 4

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Thresholds:
        """The thresholds named in `config` (other keys are ignored), validated."""
        known = {f.name for f in fields(cls)}
        values = {name: config[name] for name in known if name in config}
        thresholds = cls(**values)
        thresholds.validate()
        return thresholds

    def as_config(self) -> Dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def validate(self) -> None:
        """Raise ValueError naming the first parameter that makes no sense."""
        for name in ("sentiment_threshold", "sentiment_window_threshold"):
            _check_range(name, getattr(self, name), -1.0, 1.0, optional=True)
        _check_range("fallback_confidence_threshold", self.fallback_confidence_threshold, 0, 1)
        _check_range("shouting_upper_ratio", self.shouting_upper_ratio, 0, 1, optional=True)
        for name in (
            "sentiment_window",
            "sentiment_window_min_messages",
            "fallback_count",
            "shouting_min_letters",
            "repeat_count",
            "repeat_min_length",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        if 0 < self.sentiment_window < self.sentiment_window_min_messages:
            raise ValueError("sentiment_window_min_messages must not exceed sentiment_window")

    @property
    def turns_needed(self) -> int:
        """How many recent user turns the signals look at, at most."""
        return max(1, self.sentiment_window, self.fallback_count, self.repeat_count)


def _check_range(name: str, value: Any, low: float, high: float, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number between {low} and {high}, got {value!r}")


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


#: Texts whose sentiment is kept. The policy reads a few recent messages per conversation.
SENTIMENT_CACHE_SIZE = 4096
#: A text up to this long is its own key; a longer one is keyed on a 16-byte BLAKE2b digest.
#: So a key is at most about 0.5 kB (100 four-byte characters), and the whole cache about 2 MB.
SENTIMENT_KEY_MAX_CHARS = 100


class _SentimentCache:
    """The last `size` scores, least recently used dropped first, keyed on the text when it is
    short and on a digest of it when it is long (hashing short texts would cost more time
    than it saves memory)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._scores: OrderedDict[Union[str, bytes], float] = OrderedDict()
        self._lock = threading.Lock()  # the policy may predict on several threads

    def __len__(self) -> int:
        return len(self._scores)

    def keys(self) -> List[Union[str, bytes]]:
        with self._lock:
            return list(self._scores)

    def score(self, text: str) -> float:
        key: Union[str, bytes] = text
        if len(text) > SENTIMENT_KEY_MAX_CHARS:
            key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            score = self._scores.get(key)
            if score is not None:
                self._scores.move_to_end(key)
                return score
        score = float(_analyzer().polarity_scores(text)["compound"])
        with self._lock:
            self._scores[key] = score
            while len(self._scores) > self.size:
                self._scores.popitem(last=False)
        return score

    def clear(self) -> None:
        with self._lock:
            self._scores.clear()


_SENTIMENTS = _SentimentCache(SENTIMENT_CACHE_SIZE)


def sentiment(text: str) -> float:
    """VADER's compound score of `text`: -1 (most negative) .. 1 (most positive)."""
    if not text or not text.strip():
        return 0.0
    return _SENTIMENTS.score(text)


# As when `sentiment` was an `lru_cache` (the policy benchmark empties it for cold runs).
sentiment.cache_clear = _SENTIMENTS.clear  # type: ignore[attr-defined]


def explicit_request(
    turns: Sequence[UserTurn], intent: str = INTENT_HUMAN_HANDOFF
) -> Optional[Trigger]:
    """The latest message asks for a human (its intent is `human_handoff`)."""
    if not turns or turns[-1].intent != intent:
        return None
    confidence = turns[-1].confidence
    return Trigger(
        SIGNAL_EXPLICIT,
        confidence,
        EscalationReason(
            escalation.EXPLICIT_REQUEST,
            f"the user asked for a human agent (intent {intent}, confidence {confidence:.2f})",
        ),
    )


def negative_sentiment(turns: Sequence[UserTurn], threshold: Optional[float]) -> Optional[Trigger]:
    """The latest message is very negative."""
    if threshold is None or not turns:
        return None
    score = sentiment(turns[-1].text)
    if score > threshold:
        return None
    return Trigger(
        SIGNAL_SENTIMENT,
        score,
        EscalationReason(
            escalation.FRUSTRATION,
            f"negative sentiment {score:+.2f} in the last message (threshold {threshold:+.2f})",
        ),
    )


def negative_sentiment_window(
    turns: Sequence[UserTurn],
    window: int,
    threshold: Optional[float],
    min_messages: int = 2,
) -> Optional[Trigger]:
    """The last few messages are negative on average (the user keeps complaining)."""
    if threshold is None or window <= 0:
        return None
    recent = list(turns[-window:])
    if not recent or len(recent) < max(1, min_messages):
        return None
    mean = sum(sentiment(turn.text) for turn in recent) / len(recent)
    if mean > threshold:
        return None
    return Trigger(
        SIGNAL_SENTIMENT_WINDOW,
        mean,
        EscalationReason(
            escalation.FRUSTRATION,
            f"mean sentiment {mean:+.2f} over the last {len(recent)} messages "
            f"(threshold {threshold:+.2f})",
        ),
    )


def is_fallback(turn: UserTurn, confidence_threshold: float) -> bool:
    """NLU did not understand this turn."""
    return turn.intent in (None, INTENT_NLU_FALLBACK) or turn.confidence < confidence_threshold


def consecutive_fallbacks(
    turns: Sequence[UserTurn], count: int, confidence_threshold: float
) -> Optional[Trigger]:
    """The last `count` messages were all not understood."""
    if count <= 0 or len(turns) < count:
        return None
    if not all(is_fallback(turn, confidence_threshold) for turn in turns[-count:]):
        return None
    return Trigger(
        SIGNAL_FALLBACKS,
        float(count),
        EscalationReason(
            escalation.FALLBACKS, f"the bot did not understand the last {count} messages"
        ),
    )


def shouting(
    turns: Sequence[UserTurn], min_letters: int, upper_ratio: Optional[float]
) -> Optional[Trigger]:
    """The latest message is mostly upper case, long enough, and exclaimed or negative."""
    if upper_ratio is None or not turns:
        return None
    text = turns[-1].text or ""
    letters = [char for char in text if char.isalpha()]
    if not letters or len(letters) < min_letters:
        return None
    ratio = sum(1 for char in letters if char.isupper()) / len(letters)
    if ratio < upper_ratio:
        return None
    if "!" not in text and sentiment(text) >= 0:
        return None
    return Trigger(
        SIGNAL_SHOUTING,
        ratio,
        EscalationReason(
            escalation.FRUSTRATION,
            f"the user is shouting ({ratio:.0%} of the last message in upper case)",
        ),
    )


_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """The text without case, punctuation or extra spaces: how a repeat is recognised."""
    return _NOT_WORD.sub(" ", (text or "").casefold()).strip()


def repeated_message(
    turns: Sequence[UserTurn], count: int, min_length: int = 0
) -> Optional[Trigger]:
    """The user sent the same message `count` times in a row."""
    if count <= 1 or len(turns) < count:
        return None
    recent = [normalize(turn.text) for turn in turns[-count:]]
    if len(recent[0]) < max(1, min_length) or any(text != recent[0] for text in recent):
        return None
    return Trigger(
        SIGNAL_REPEATED,
        float(count),
        EscalationReason(
            escalation.REPEATED_MESSAGE,
            f"the user sent the same message {count} times in a row",
        ),
    )


def evaluate(turns: Sequence[UserTurn], thresholds: Thresholds) -> Optional[Trigger]:
    """The first signal that fires on these turns (oldest first), or None.

    The explicit request comes first so that the agent sees the plainest reason.
    """
    if not turns:
        return None
    t = thresholds
    return (
        explicit_request(turns)
        or consecutive_fallbacks(turns, t.fallback_count, t.fallback_confidence_threshold)
        or negative_sentiment(turns, t.sentiment_threshold)
        or negative_sentiment_window(
            turns, t.sentiment_window, t.sentiment_window_threshold, t.sentiment_window_min_messages
        )
        or shouting(turns, t.shouting_min_letters, t.shouting_upper_ratio)
        or repeated_message(turns, t.repeat_count, t.repeat_min_length)
    )
