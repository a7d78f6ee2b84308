"""The plugin's clock (`rasa_zendesk.clock`): what it said at a past moment of the system clock,
which is how Rasa stamps events, so a test that runs time fast still has a message count."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rasa_zendesk import clock
from testkit.clock_file import ClockFile

pytestmark = pytest.mark.timeout(10)


def test_without_a_clock_file_it_is_the_system_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(clock.CLOCK_FILE_ENV, raising=False)
    assert clock.at(1234.5) == 1234.5
    assert abs(clock.now() - time.time()) < 1


def test_a_past_moment_keeps_the_offset_of_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "_changes", [])
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(path))
    moved = ClockFile(path)
    clock.now()
    before = time.time()
    moved.advance(600)
    assert clock.now() == pytest.approx(time.time() + 600, abs=1)

    # A message stamped before the move happened before it, on the plugin's clock too.
    assert clock.at(before) == pytest.approx(before, abs=1)
    assert clock.at(time.time()) == pytest.approx(time.time() + 600, abs=1)
    # Before anything this process saw: the first offset it saw.
    assert clock.at(before - 3600) == before - 3600


def test_the_changes_kept_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "_changes", [])
    monkeypatch.setattr(clock, "MAX_CHANGES", 10)
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(path))
    moved = ClockFile(path)
    for step in range(25):
        moved.advance(1 + step % 2)  # a new size or content each time
        path.touch()
        clock.now()
    assert 5 <= len(clock._changes) <= 10


def test_the_time_before_the_clock_file_appeared_had_no_offset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test creates the file after the server started, and moves it before the server
    looked again: what happened before the file appeared was at the system clock's time."""
    monkeypatch.setattr(clock, "_changes", [])
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(path))
    assert clock.now() == pytest.approx(time.time(), abs=1)  # no file yet
    message = time.time()
    ClockFile(path).advance(601)
    assert clock.now() == pytest.approx(time.time() + 601, abs=1)
    assert clock.at(message) == pytest.approx(message, abs=1)
