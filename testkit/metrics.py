"""Reading the metrics route as Prometheus would: one sample's value by name and labels."""

from __future__ import annotations

from typing import Dict, Optional

import httpx
from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> Dict[str, Dict[frozenset, float]]:
    found: Dict[str, Dict[frozenset, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for k, v in samples(text).get(name, {}).items() if wanted <= k)


async def scrape(rasa_url: str, token: str) -> str:
    async with httpx.AsyncClient(base_url=rasa_url, timeout=10) as http:
        answer = await http.get(
            "/webhooks/zendesk/metrics", headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 200, answer.text
    return answer.text


def metric_or_none(text: str, name: str, **labels: str) -> Optional[float]:
    found = value(text, name, **labels)
    return found or None
