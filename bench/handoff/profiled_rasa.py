"""`rasa run` with cProfile switched on by SIGUSR1 and off by SIGUSR2, which writes the profile:
a window of a live server's work (say, only the timed requests), without its start-up.
Times are the CPU time of the server's main thread (its event loop), so a wait for PostgreSQL
or Redis, or another process holding the core, counts nothing: what it shows is what the
server's own Python costs.

    python bench/handoff/profiled_rasa.py <profile file> run --model ... (rasa's arguments)
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
import time
from pathlib import Path
from typing import Any

profiler = cProfile.Profile(time.thread_time)
output = Path(sys.argv[1])
output.parent.mkdir(parents=True, exist_ok=True)


def start(*_: Any) -> None:
    profiler.enable()


def stop(*_: Any) -> None:
    global profiler
    profiler.disable()
    try:
        profiler.dump_stats(str(output))
    except OSError as error:  # never let a signal handler break the server
        print(f"profile not written: {error}", file=sys.stderr)
    profiler = cProfile.Profile(time.thread_time)  # the next window starts afresh


signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
sys.argv = ["rasa", *sys.argv[2:]]
runpy.run_module("rasa", run_name="__main__", alter_sys=True)
