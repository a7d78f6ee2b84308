"""The scale-out group: several Rasa instances (or channel servers) sharing PostgreSQL and Redis.

Run it alone with `pytest -m scaleout`; it needs Debian's `redis-server` and `postgresql`
(installed by `scripts/test-deps`).
"""

from __future__ import annotations

from typing import Iterator

import pytest

from testkit.services import Redis, redis_server


@pytest.fixture(scope="module")
def redis() -> Iterator[Redis]:
    """A Redis server of the module's own."""
    with redis_server() as server:
        yield server
