"""The channel's Prometheus metrics: handoffs, webhook events, SunCo calls.

Each `ZendeskInput` has a registry of its own (tests build many channels in one process), served
at `GET /webhooks/zendesk/metrics` when `metrics` is on. With several Rasa instances:
- webhook and SunCo metrics are what this instance did: sum them over instances;
- handoff metrics come from the records in the shared tracker store, which every instance reads
  (`transitions`): each instance reports every handoff, so take the max over instances.
"""

from __future__ import annotations

from typing import Iterator, Optional, Sequence, Tuple

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rasa_zendesk import escalation
from rasa_zendesk.handoff import state
from rasa_zendesk.monitoring import transitions
from rasa_zendesk.monitoring.transitions import TransitionCounter

PREFIX = "rasa_zendesk"
WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
DURATION_BUCKETS = (60, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400)
#: A rating is 1 to 5: one bucket each.
CSAT_BUCKETS = (1, 2, 3, 4, 5)
SUNCO_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: SunCo path segments that name a collection or an operation; the others are ids.
_PATH_WORDS = frozenset(
    {
        "users",
        "conversations",
        "messages",
        "activity",
        "passControl",
        "offerControl",
        "acceptControl",
        "releaseControl",
        "attachments",
        "switchboards",
        "switchboardIntegrations",
        "integrations",
        "webhooks",
    }
)
#: What an answer-less SunCo attempt counts as, in the errors' `status` label.
NO_ANSWER = "no_answer"


def operation_of(path: str) -> str:
    """A SunCo path with its ids replaced, e.g. `/conversations/{id}/messages`: a label with
    few values, whatever the conversations."""
    parts = [part if part in _PATH_WORDS else "{id}" for part in path.split("?")[0].split("/")]
    return "/".join(part if index else "" for index, part in enumerate(parts))


def outcome_label(applied: bool, refused: bool, note: str) -> str:
    """A webhook event's outcome as a label: applied, duplicate, refused or ignored."""
    if refused:
        return "refused"
    if applied:
        return "applied"
    return "duplicate" if note == "duplicate" else "ignored"


class _RunningHandoffs(Collector):
    """The gauge of running handoffs by state, computed when scraped."""

    def __init__(self, handoffs: TransitionCounter) -> None:
        self.handoffs = handoffs

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            f"{PREFIX}_handoffs_running",
            "Handoffs running now, by state: waiting for an agent, or with one.",
            labels=["state"],
        )
        for status in (state.WAITING, state.AGENT_JOINED):
            gauge.add_metric([status], self.handoffs.count(status))
        yield gauge


class ChannelMetrics:
    """One channel's metrics and the hooks that feed them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.handoffs = TransitionCounter(self._transition)
        self.requested = self._counter(
            "handoffs_requested",
            "Handoffs requested, by trigger (why the bot escalated) and connector.",
            "trigger",
            "connector",
        )
        self.ended = self._counter(
            "handoffs_ended", "Handoffs ended, by end reason and connector.", "reason", "connector"
        )
        self.first_reply = self._histogram(
            "handoff_first_agent_reply_seconds",
            "From the handoff's request to the agent's first message (waiting for an agent).",
            WAIT_BUCKETS,
            "connector",
        )
        self.duration = self._histogram(
            "handoff_duration_seconds",
            "From the handoff's request to its end, by end reason.",
            DURATION_BUCKETS,
            "reason",
            "connector",
        )
        self.csat = self._histogram(
            "handoff_csat_rating",
            "The users' ratings (1 to 5) of handoffs with an agent, by end reason.",
            CSAT_BUCKETS,
            "reason",
            "connector",
        )
        self.events = self._counter(
            "webhook_events",
            "Webhook events received by this instance, by route, type and outcome.",
            "route",
            "type",
            "outcome",
        )
        self.requests = self._counter(
            "webhook_requests",
            "Webhook requests answered by this instance, by route and HTTP status.",
            "route",
            "status",
        )
        self.sunco_seconds = self._histogram(
            "sunco_request_seconds",
            "SunCo API attempts made by this instance, by connector, method and operation.",
            SUNCO_BUCKETS,
            "connector",
            "method",
            "operation",
        )
        self.sunco_errors = self._counter(
            "sunco_errors",
            "SunCo API attempts that failed (4xx, 5xx, or no answer), by status.",
            "connector",
            "method",
            "operation",
            "status",
        )
        self.refused = self._counter(
            "deliveries_refused",
            "Messages to users that their platform refused for good (the agent is told), by "
            "this instance, by platform and cause.",
            "platform",
            "cause",
        )
        self.registry.register(_RunningHandoffs(self.handoffs))

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(f"{PREFIX}_{name}", documentation, labels, registry=self.registry)

    def _histogram(
        self, name: str, documentation: str, buckets: Sequence[float], *labels: str
    ) -> Histogram:
        return Histogram(
            f"{PREFIX}_{name}", documentation, labels, buckets=buckets, registry=self.registry
        )

    def _transition(self, stage: str, record: state.Handoff) -> None:
        connector = record.connector or "default"
        if stage == transitions.REQUESTED:
            self.requested.labels(record.trigger or escalation.UNKNOWN, connector).inc()
        elif stage == transitions.JOINED and record.agent_joined_at is not None:
            self.first_reply.labels(connector).observe(
                max(0.0, record.agent_joined_at - record.requested_at)
            )
        elif stage == transitions.ENDED and record.ended_at is not None:
            reason = record.end_reason or "unknown"
            self.ended.labels(reason, connector).inc()
            self.duration.labels(reason, connector).observe(
                max(0.0, record.ended_at - record.requested_at)
            )
        elif stage == transitions.RATED and record.csat_rating is not None:
            self.csat.labels(record.end_reason or "unknown", connector).observe(record.csat_rating)

    def webhook_event(self, route: str, event_type: str, outcome: str) -> None:
        self.events.labels(route, event_type or "unknown", outcome).inc()

    def delivery_refused(self, platform: str, cause: str) -> None:
        self.refused.labels(platform, cause).inc()

    def webhook_request(self, route: str, status: int) -> None:
        self.requests.labels(route, str(status)).inc()

    def sunco_observer(self, connector: str) -> SunCoObserver:
        return SunCoObserver(self, connector)

    def exposition(self) -> Tuple[bytes, str]:
        """The metrics in Prometheus' text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class SunCoObserver:
    """Told of each SunCo attempt of one connector's client (see `SunCoClient.observer`)."""

    def __init__(self, metrics: ChannelMetrics, connector: str) -> None:
        self.metrics = metrics
        self.connector = connector

    def __call__(self, method: str, path: str, status: Optional[int], seconds: float) -> None:
        operation = operation_of(path)
        self.metrics.sunco_seconds.labels(self.connector, method, operation).observe(seconds)
        if status is None or status >= 400:
            label = NO_ANSWER if status is None else str(status)
            self.metrics.sunco_errors.labels(self.connector, method, operation, label).inc()
