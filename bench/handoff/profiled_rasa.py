"""`rasa run` with cProfile switched on by SIGUSR1 and off by SIGUSR2, which writes the profile:
a window of a live server's work (say, only the timed requests), without its start-up.

    python bench/handoff/profiled_rasa.py <profile file> run --model ... (rasa's arguments)
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
from typing import Any

profiler = cProfile.Profile()
output = sys.argv[1]


def start(*_: Any) -> None:
    profiler.enable()


def stop(*_: Any) -> None:
    global profiler
    profiler.disable()
    profiler.dump_stats(output)
    profiler = cProfile.Profile()  # the next window starts afresh


signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
sys.argv = ["rasa", *sys.argv[2:]]
runpy.run_module("rasa", run_name="__main__", alter_sys=True)
