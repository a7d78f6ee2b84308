"""The plugin's clock (`rasa_zendesk.clock`): what it said at a past moment of the system clock,
which is how Rasa stamps events, so a test that runs time fast still has a message count; the
same in every process, whenever it reads the clock file (`testkit.clock_file.ClockFile`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List

import pytest

from rasa_zendesk import clock
from testkit import clock_file
from testkit.clock_file import ClockFile

pytestmark = pytest.mark.timeout(30)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(name="path")
def path_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The clock file this process reads; nothing of it read yet."""
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(path))
    forget_what_was_read()
    return path


def forget_what_was_read() -> None:
    """As a process that reads the clock file for the first time now."""
    clock._cached = ((-1, -1, -1), clock._NO_FILE)


def at_in_another_process(path: Path, moments: List[float]) -> List[float]:
    """`clock.at` of each moment in a process started now, reading `path` for the first time."""
    done = subprocess.run(
        [sys.executable, "-c", AT, *map(repr, moments)],
        env={**os.environ, clock.CLOCK_FILE_ENV: str(path), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    return [float(value) for value in done.stdout.split()]


def test_without_a_clock_file_it_is_the_system_clock_and_reads_no_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(clock.CLOCK_FILE_ENV, raising=False)

    def no_file_access(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the clock looked at a file")

    monkeypatch.setattr(os, "stat", no_file_access)
    assert clock.at(1234.5) == 1234.5
    assert abs(clock.now() - time.time()) < 1


def test_a_past_moment_keeps_the_offset_of_then(path: Path) -> None:
    moved = ClockFile(path)
    clock.now()
    before = time.time()
    moved.advance(600)
    after = time.time()
    assert clock.now() == pytest.approx(time.time() + 600, abs=1)

    # A message stamped before the move happened before it, on the plugin's clock too.
    assert clock.at(before) == before
    assert clock.at(after) == after + 600
    # Before the clock was first set: no offset.
    assert clock.at(before - 3600) == before - 3600


def test_a_process_that_reads_the_file_late_maps_each_moment_alike(path: Path) -> None:
    """The action server, or a Rasa instance that looks at the clock now and then, reads the
    file long after it changed: a message stamped between the changes keeps their offset."""
    moved = ClockFile(path)
    clock.now()  # this process saw the start; the next reader sees only the end
    moments = [time.time()]
    for seconds in (605, 1200, -1805):
        moved.advance(seconds)
        moments.append(time.time())
    mine = [clock.at(moment) for moment in moments]

    forget_what_was_read()
    assert [clock.at(moment) for moment in moments] == mine
    assert at_in_another_process(path, moments) == mine
    offsets = [round(mapped - moment) for mapped, moment in zip(mine, moments)]
    assert offsets == [0, 605, 1805, 0]


def test_after_a_move_back_to_the_real_time_a_message_has_no_offset(path: Path) -> None:
    """The e2e modules: a test moves the clock on, its teardown moves it back, the next test
    starts its own `ClockFile` on the same file; its messages are at the real time."""
    first = ClockFile(path)
    first.advance(605)
    during = time.time()
    first.advance(-first.ahead)
    ClockFile(path)
    message = time.time()
    forget_what_was_read()  # a reader that noticed none of it

    assert clock.at(message) == message
    assert clock.at(during) == during + 605
    assert clock.now() == pytest.approx(time.time(), abs=1)
    assert at_in_another_process(path, [during, message]) == [during + 605, message]


def test_a_file_of_one_number_is_that_offset_at_any_time(path: Path) -> None:
    path.write_text("90\n")
    assert clock.at(1000.0) == 1090.0
    assert clock.now() == pytest.approx(time.time() + 90, abs=1)

    # A `ClockFile` over it keeps that offset for what came before.
    before = time.time()
    ClockFile(path).advance(10)
    assert clock.at(before) == before + 90
    assert clock.now() == pytest.approx(time.time() + 10, abs=1)


def test_a_missing_empty_or_wrong_file_is_no_offset_and_a_wrong_history_says_so(
    path: Path,
) -> None:
    assert clock.at(1000.0) == 1000.0  # no file yet
    path.write_text("")
    assert clock.now() == pytest.approx(time.time(), abs=1)
    path.write_text("ten minutes")
    assert clock.now() == pytest.approx(time.time(), abs=1)
    path.write_text("1000.0 600\nnot a line\n1002.0 1200\n")
    assert clock.now() == pytest.approx(time.time() + 1200, abs=1)
    with pytest.raises(ValueError, match=clock.CLOCK_FILE_ENV):
        clock.at(1001.0)


def test_the_history_kept_is_bounded(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock_file, "MAX_LINES", 10)
    monkeypatch.setattr(clock_file, "KEEP_LINES", 5)
    moved = ClockFile(path)
    start = time.time()
    for _ in range(25):
        moved.advance(1)
    lines = path.read_text().splitlines()
    assert 5 <= len(lines) <= 10
    assert lines[-1].split()[1] == repr(25.0)
    # Before the oldest line kept: that line's offset.
    assert clock.at(start) == start + float(lines[0].split()[1])
    assert clock.now() == pytest.approx(time.time() + 25, abs=1)


def test_a_reader_never_sees_half_a_file(path: Path) -> None:
    """The soak moves the clock four times a second while every process reads it."""
    moved = ClockFile(path)
    moved.advance(1000)
    moves = 300
    last = 1000.0 * (moves + 1)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(last)],
        env={**os.environ, clock.CLOCK_FILE_ENV: str(path), "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None
    assert reader.stdout.readline() == "reading\n"
    for _ in range(moves):
        moved.advance(1000)
    seen = json.loads(reader.communicate(timeout=20)[0])

    assert last in seen
    assert set(seen) <= {1000.0 * k for k in range(1, moves + 2)}, sorted(seen)[:5]
    assert not [name for name in os.listdir(path.parent) if name != path.name]


#: Prints `clock.at` of each argument.
AT = "import sys; from rasa_zendesk import clock; print(*map(clock.at, map(float, sys.argv[1:])))"

#: Reads the clock (as if for the first time each time) until it is `argv[1]` ahead; prints
#: the offsets seen.
READER = """
import json, sys, time
from rasa_zendesk import clock
last, seen = float(sys.argv[1]), set()
print("reading", flush=True)
deadline = time.monotonic() + 15
while last not in seen and time.monotonic() < deadline:
    clock._cached = ((-1, -1, -1), clock._NO_FILE)
    seen.add(round(clock.now() - time.time(), -1))
print(json.dumps(sorted(seen)))
"""
