"""End-to-end fixtures: the trained example bot (once per run) and a shared running stack."""

from typing import List

import pytest

from testkit.channel_fixtures import db_path_fixture  # noqa: F401 (fixture)
from testkit.processes import e2e_stack, trained_model  # noqa: F401 (fixtures)
from testkit.stack_users import clock, clock_file, emulator, stack, tracker, user  # noqa: F401


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Run the tests that share the session's stack last, one after the other: the stack then
    starts late and never runs alongside the stacks other tests start and stop themselves."""
    shared = [item for item in items if "e2e_stack" in getattr(item, "fixturenames", ())]
    if shared:
        items[:] = [item for item in items if item not in shared] + shared
