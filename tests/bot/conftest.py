"""The trained example bot, once per test run (cached by content hash across runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.train_model import ensure_model


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: trains or loads a Rasa model (a minute or more)")


@pytest.fixture(scope="session")
def example_model() -> Path:
    """The example bot's model: trained by scripts/train_model.py only if missing or stale."""
    return ensure_model()
