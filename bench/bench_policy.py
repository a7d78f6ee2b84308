#!/usr/bin/env python3
"""How much HandoffPolicy costs: training, and one prediction, next to Rasa's own policies.

    .venv/bin/python bench/bench_policy.py [--repeat 7] [--number 200]

Every figure is the median over `--repeat` rounds of the time per call, each round averaging
`--number` calls (timeit), on the example bot's domain and training data, so runs compare.
Predictions run on the same realistic tracker (about 20 turns) for every policy:
- "calm": the bot is in charge and nothing fires, so HandoffPolicy evaluates every signal;
  "warm" reuses the cached sentiment of already-seen messages (Rasa predicts several times per
  user message), "cold" clears that cache before every call (a new message);
- "handoff active": the relay decision.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Any, Callable, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasa.core.policies.memoization import MemoizationPolicy  # noqa: E402
from rasa.core.policies.rule_policy import RulePolicy  # noqa: E402
from rasa.shared.core.events import Event  # noqa: E402
from rasa.utils.log_utils import configure_structlog  # noqa: E402

from rasa_zendesk.policy import signals  # noqa: E402
from rasa_zendesk.policy.handoff_policy import HandoffPolicy  # noqa: E402
from testkit.policy_trackers import (  # noqa: E402
    bot_turn,
    create_policy,
    example_domain,
    example_training_trackers,
    handoff_started,
    session_start,
    tracker_from,
    user,
)

Row = Tuple[str, float]


def calm_conversation() -> List[Event]:
    events = [*session_start()]
    for _ in range(4):
        events += [user("hi there", "greet"), *bot_turn("utter_greet")]
        events += [user("where is my order?", "order_status"), *bot_turn("utter_ask_order_number")]
        events += [user("it's 12345678", "inform"), *bot_turn("utter_order_status")]
        events += [user("thanks a lot", "thank_you"), *bot_turn("utter_you_are_welcome")]
    events.append(user("where is order 24681357 now", "order_status"))
    return events


def seconds_per_call(function: Callable[[], Any], repeat: int, number: int) -> float:
    function()  # warm-up: imports, lazy properties, the VADER lexicon
    rounds = timeit.repeat(function, repeat=repeat, number=number)
    return statistics.median(rounds) / number


def bench_training(workdir: Path, repeat: int, number: int) -> List[Row]:
    trackers, domain = example_training_trackers(), example_domain()
    rows: List[Row] = [("nothing (an empty call)", seconds_per_call(lambda: None, repeat, number))]
    handoff = create_policy(HandoffPolicy, workdir / "handoff")
    rows.append(
        (
            "HandoffPolicy.train",
            seconds_per_call(lambda: handoff.train(trackers, domain), repeat, number),
        )
    )
    for policy_class in (MemoizationPolicy, RulePolicy):
        policy = create_policy(policy_class, workdir / policy_class.__name__)
        time = seconds_per_call(
            lambda p=policy: p.train(trackers, domain), repeat, max(1, number // 50)
        )
        rows.append((f"{policy_class.__name__}.train", time))
    return rows


def bench_prediction(workdir: Path, repeat: int, number: int) -> List[Row]:
    trackers, domain = example_training_trackers(), example_domain()
    calm = tracker_from(calm_conversation())
    active = tracker_from([*calm_conversation()[:-1], *handoff_started(), user("hi", "greet")])
    handoff = create_policy(HandoffPolicy, workdir / "handoff-predict")
    rows: List[Row] = []

    def cold() -> None:
        signals.sentiment.cache_clear()
        handoff.predict_action_probabilities(calm, domain)

    rows.append(
        (
            "HandoffPolicy, calm, warm",
            seconds_per_call(
                lambda: handoff.predict_action_probabilities(calm, domain), repeat, number
            ),
        )
    )
    rows.append(("HandoffPolicy, calm, cold", seconds_per_call(cold, repeat, number)))
    rows.append(
        (
            "HandoffPolicy, handoff active",
            seconds_per_call(
                lambda: handoff.predict_action_probabilities(active, domain), repeat, number
            ),
        )
    )
    for policy_class in (RulePolicy, MemoizationPolicy):
        policy = create_policy(policy_class, workdir / f"{policy_class.__name__}-predict")
        policy.train(trackers, domain)
        time = seconds_per_call(
            lambda p=policy: p.predict_action_probabilities(calm, domain),
            repeat,
            max(1, number // 10),
        )
        rows.append((f"{policy_class.__name__}, calm", time))
    return rows


def print_table(title: str, rows: List[Row]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    print(f"{'case':<{width}}  {'time per call':>14}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {format_time(seconds):>14}")


def format_time(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e9:.0f} ns"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds (the median is reported)")
    parser.add_argument("--number", type=int, default=200, help="calls per round")
    args = parser.parse_args()
    # Rasa's policies log every prediction at debug level; what is measured is the policy.
    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-policy-") as directory:
        workdir = Path(directory)
        print_table(
            "Training on the example bot's stories and rules",
            bench_training(workdir, args.repeat, args.number),
        )
        print_table(
            "One prediction on a 20-turn tracker",
            bench_prediction(workdir, args.repeat, args.number),
        )


if __name__ == "__main__":
    main()
