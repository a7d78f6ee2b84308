"""Suite-wide guards.

pytest-timeout limits each test's own code (pyproject's `timeout`, or the test's mark); a test
that hangs fails. Its fixtures are outside that limit, so a fixture that hangs (a server that
never answers, a process that never exits) would hold CI until CI's own limit. This guard stops
the run instead, with every thread's traceback, when one test's setup, call and teardown
together take far longer than its limit allows.
"""

from __future__ import annotations

import faulthandler
import sys
from typing import Generator

import pytest

#: Time for fixtures (starting Rasa, a database server) on top of the test's own limit.
FIXTURE_ALLOWANCE_SECONDS = 600.0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: object) -> Generator[None, None, None]:
    marker = item.get_closest_marker("timeout")
    limit = (
        float(marker.args[0])
        if marker and marker.args
        else float(item.config.getini("timeout") or 0)
    )
    faulthandler.dump_traceback_later(limit + FIXTURE_ALLOWANCE_SECONDS, exit=True, file=sys.stderr)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
