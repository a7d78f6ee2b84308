"""The trained example bot, once per test run (cached by content hash across runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.train_model import ensure_model


@pytest.fixture(scope="session")
def example_model() -> Path:
    """The example bot's model: trained by scripts/train_model.py only if missing or stale."""
    return ensure_model()
