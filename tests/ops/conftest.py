"""Fixtures of the ops tests (the channel tests' own are not shared across folders)."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.processes import trained_model  # noqa: F401 (fixture: the example bot's model)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tracker.db"
