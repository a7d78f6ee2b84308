"""The scale-out group's process tests: several Rasa instances (or channel servers) sharing
PostgreSQL and Redis.

Run it alone with `pytest -m scaleout`; it needs Debian's `redis-server` and `postgresql`
(installed by `scripts/test-deps`).
"""

from __future__ import annotations

from testkit.services import redis_fixture  # noqa: F401 (fixture)
