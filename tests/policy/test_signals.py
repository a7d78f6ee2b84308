"""The frustration signals as pure functions over user turns (no Rasa involved)."""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc
from typing import Callable, Dict, Iterator

import pytest

from rasa_zendesk import escalation
from rasa_zendesk.policy import signals
from rasa_zendesk.policy.signals import Thresholds, UserTurn, evaluate, sentiment


def turns(*texts: str, intent: str = "order_status", confidence: float = 0.97) -> list:
    return [UserTurn(text, intent, confidence) for text in texts]


def test_vader_scores_anger_low_and_thanks_high() -> None:
    assert sentiment("This is useless, I'm so angry") < -0.6
    assert sentiment("thanks, that was helpful") > 0.3
    assert sentiment("where is my order") == 0.0
    assert sentiment("") == 0.0


def test_the_analyzer_is_built_once() -> None:
    assert signals._analyzer() is signals._analyzer()


def test_explicit_request_only_on_the_latest_message() -> None:
    fired = signals.explicit_request([UserTurn("human please", "human_handoff", 0.91)])
    assert fired is not None
    assert fired.signal == signals.SIGNAL_EXPLICIT
    assert fired.reason.kind == escalation.EXPLICIT_REQUEST
    assert fired.reason.text.startswith("explicit request:")
    assert "confidence 0.91" in fired.reason.detail
    earlier = [UserTurn("human please", "human_handoff", 0.9), UserTurn("hi", "greet", 0.9)]
    assert signals.explicit_request(earlier) is None


def test_negative_sentiment_on_the_latest_message() -> None:
    fired = signals.negative_sentiment(turns("This is useless, I'm so angry"), -0.6)
    assert fired is not None and fired.score < -0.6
    assert fired.reason.kind == escalation.FRUSTRATION
    assert f"{fired.score:+.2f}" in fired.reason.detail
    assert signals.negative_sentiment(turns("this is useless"), -0.6) is None
    assert signals.negative_sentiment(turns("This is useless, I'm so angry"), None) is None


def test_negative_sentiment_window_needs_enough_messages() -> None:
    one = turns("that didn't help")
    two = turns("that didn't help", "not helpful")
    assert signals.negative_sentiment_window(one, 3, -0.3, min_messages=2) is None
    fired = signals.negative_sentiment_window(two, 3, -0.3, min_messages=2)
    assert fired is not None
    expected = (sentiment("that didn't help") + sentiment("not helpful")) / 2
    assert fired.score == pytest.approx(expected)
    assert fired.reason.kind == escalation.FRUSTRATION
    assert "over the last 2 messages" in fired.reason.detail


def test_negative_sentiment_window_uses_only_the_last_messages() -> None:
    history = turns("I hate this", "terrible", "what the hell", "thanks", "great", "ok")
    assert signals.negative_sentiment_window(history, 3, -0.35) is None
    assert signals.negative_sentiment_window(history[:3], 3, -0.35) is not None


def test_consecutive_fallbacks_count_nlu_fallback_and_low_confidence() -> None:
    fallback = UserTurn("blorp", "nlu_fallback", 0.6)
    unsure = UserTurn("hmm zzz", "greet", 0.12)
    understood = UserTurn("hi", "greet", 0.99)
    fired = signals.consecutive_fallbacks([fallback, unsure], 2, 0.3)
    assert fired is not None and fired.reason.kind == escalation.FALLBACKS
    assert signals.consecutive_fallbacks([fallback, understood], 2, 0.3) is None
    assert signals.consecutive_fallbacks([unsure, fallback, understood], 2, 0.3) is None
    assert signals.consecutive_fallbacks([fallback], 2, 0.3) is None
    assert signals.consecutive_fallbacks([fallback, fallback], 0, 0.3) is None


def test_shouting_needs_capitals_length_and_an_exclamation_or_anger() -> None:
    fired = signals.shouting(turns("WHERE IS MY ORDER!!!"), 10, 0.8)
    assert fired is not None and fired.reason.kind == escalation.FRUSTRATION
    assert signals.shouting(turns("THIS IS A TERRIBLE SERVICE"), 10, 0.8) is not None
    assert signals.shouting(turns("WHERE IS MY ORDER"), 10, 0.8) is None  # calm capitals
    assert signals.shouting(turns("HELP!"), 10, 0.8) is None  # too short
    assert signals.shouting(turns("Where is my order!!!"), 10, 0.8) is None
    assert signals.shouting(turns("WHERE IS MY ORDER!!!"), 10, None) is None


def test_repeated_message_ignores_case_and_punctuation() -> None:
    same = turns("Where is my order?", "where is my order", "WHERE is my order!!")
    fired = signals.repeated_message(same, 3, 4)
    assert fired is not None and fired.reason.kind == escalation.REPEATED_MESSAGE
    assert "3 times" in fired.reason.detail
    assert signals.repeated_message(same[:2], 3, 4) is None
    assert signals.repeated_message(turns("ok", "OK", "ok."), 3, 4) is None  # too short
    different = turns("where is my order", "where is my order", "where is my parcel")
    assert signals.repeated_message(different, 3, 4) is None


def test_evaluate_prefers_the_explicit_request() -> None:
    angry_request = [UserTurn("I hate this, get me a human NOW!!!", "human_handoff", 0.9)]
    fired = evaluate(angry_request, Thresholds())
    assert fired is not None and fired.signal == signals.SIGNAL_EXPLICIT


def test_evaluate_calm_conversation_fires_nothing() -> None:
    calm = [
        UserTurn("hi", "greet", 0.99),
        UserTurn("where is my order", "order_status", 0.98),
        UserTurn("12345678", "inform", 0.95),
        UserTurn("thanks!", "thank_you", 0.99),
    ]
    assert evaluate(calm, Thresholds()) is None
    assert evaluate([], Thresholds()) is None


def test_thresholds_from_config_ignore_other_keys_and_validate() -> None:
    thresholds = Thresholds.from_config({"fallback_count": 3, "priority": 7, "name": "x"})
    assert thresholds.fallback_count == 3
    assert thresholds.sentiment_threshold == Thresholds().sentiment_threshold
    assert Thresholds.from_config({"sentiment_threshold": None}).sentiment_threshold is None
    with pytest.raises(ValueError, match="sentiment_threshold"):
        Thresholds.from_config({"sentiment_threshold": -3})
    with pytest.raises(ValueError, match="fallback_count"):
        Thresholds.from_config({"fallback_count": "two"})
    with pytest.raises(ValueError, match="sentiment_window_min_messages"):
        Thresholds.from_config({"sentiment_window": 2, "sentiment_window_min_messages": 3})


def test_signals_do_not_import_rasa() -> None:
    code = "import sys, rasa_zendesk.policy.signals; print('rasa' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


class CountingAnalyzer:
    """Stands in for VADER: counts what it is asked to score."""

    def __init__(self) -> None:
        self.texts = 0

    def polarity_scores(self, text: str) -> Dict[str, float]:
        self.texts += 1
        return {"compound": -0.5 if "angry" in text else 0.25}


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingAnalyzer]:
    analyzer = CountingAnalyzer()
    monkeypatch.setattr(signals, "_analyzer", lambda: analyzer)
    signals.sentiment.cache_clear()  # type: ignore[attr-defined]
    yield analyzer
    signals.sentiment.cache_clear()  # type: ignore[attr-defined]


def test_a_text_is_scored_once_and_then_read_from_the_cache(counting: CountingAnalyzer) -> None:
    long_text = "I am so angry about this order. " * 10_000  # 320 kB
    assert sentiment(long_text) == -0.5
    assert sentiment(long_text) == -0.5
    assert sentiment("".join(long_text)) == -0.5  # equal text, another object
    assert sentiment("fine") == 0.25
    assert counting.texts == 2
    # The long text is kept as its 16-byte digest, never itself; a short one is its own key.
    digest, short = signals._SENTIMENTS.keys()
    assert isinstance(digest, bytes) and len(digest) == 16
    assert short == "fine"


@pytest.mark.parametrize(
    "text, most",
    [
        pytest.param(lambda n: f"message {n} " + "x" * 10_000, 600_000, id="10 kB texts"),
        pytest.param(lambda n: f"{n:08d}" + "\U0001f620" * 92, 2_500_000, id="100 emoji"),
    ],
)
def test_the_sentiment_cache_stays_small_whatever_users_send(
    counting: CountingAnalyzer, text: Callable[[int], str], most: int
) -> None:
    """More distinct messages than the cache holds (40 MB of 10 kB texts; 100-character texts
    of 4-byte characters, the longest kept as their own key): the cache keeps only the most
    recent scores, in about 0.5 MB and 2.3 MB."""
    size = signals.SENTIMENT_CACHE_SIZE
    gc.collect()
    tracemalloc.start()
    try:
        for number in range(size + 500):
            sentiment(text(number))
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()

    assert held < most, held
    assert len(signals._SENTIMENTS) == size
    assert counting.texts == size + 500
    sentiment(text(size + 499))  # recent: still cached
    assert counting.texts == size + 500
    sentiment(text(0))  # the oldest was dropped
    assert counting.texts == size + 501


def test_the_real_analyzer_scores_a_long_text_like_a_short_one() -> None:
    signals.sentiment.cache_clear()  # type: ignore[attr-defined]
    angry = "This is useless, I'm so angry. " * 200
    score = sentiment(angry)
    assert score < -0.6
    assert sentiment(angry) == score == signals._analyzer().polarity_scores(angry)["compound"]
