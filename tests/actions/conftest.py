"""The actions run by rasa-sdk's own ActionExecutor against the running emulator.

The emulator is a real process on a free port (`EmulatorProcess`); the actions find it through
the `ZENDESK_*` environment exactly as in an action server; the executor registers the example
bot's `actions` package, as `rasa run actions` does.
"""

from __future__ import annotations

import gc
from typing import Any, Callable, Iterator, List

import pytest

from testkit.action_emulator import (  # noqa: F401 (fixtures)
    emulator_process_fixture,
    executor_fixture,
    zendesk_fixture,
)
from testkit.user_files import platform_fixture  # noqa: F401 (fixture)


@pytest.fixture
def configured() -> Iterator[Callable[..., type]]:
    """Make a configuring subclass of an action, as a bot author would (class attributes).

    rasa-sdk registers every imported Action subclass with `register_package`, so the
    subclasses are collected after the test: they must not leak into the registration tests.
    """
    made: List[type] = []

    def make(base: type, **attributes: Any) -> type:
        made.append(type(f"Configured{base.__name__}", (base,), attributes))
        return made[-1]

    yield make
    made.clear()
    gc.collect()
