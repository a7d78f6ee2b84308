"""Run the demo: the example bot with the Zendesk emulator, a web chat page and the agent console.

Trains the example bot if its model is missing or stale, starts the emulator, the action server,
the Rasa server and the customer page as separate processes, prints the two addresses to open,
and stops every one of them on Ctrl-C (or SIGTERM), or when one of them dies.
Ports: DEMO_EMULATOR_PORT (8090), DEMO_ACTIONS_PORT (5055), DEMO_RASA_PORT (5005),
DEMO_WEB_PORT (8080).
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import NoReturn, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from demo.process import ProcessError  # noqa: E402
from demo.stack import DemoStack, Ports, StackConfig  # noqa: E402
from demo.web_server import WIDGET_BUNDLE  # noqa: E402
from scripts.train_model import TrainingError, ensure_model  # noqa: E402

RUN_DIR = REPO_ROOT / "artifacts" / "demo"


class Stop(Exception):
    """Raised by the signal handler so that every `finally` runs."""


def _raise_stop(signum: int, _frame: Optional[FrameType]) -> NoReturn:
    raise Stop(signal.Signals(signum).name)


def main() -> int:
    """Start the stack, print the addresses, supervise until a signal or a crash."""
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    if not WIDGET_BUNDLE.is_file():
        print("error: the web chat widget is missing; run scripts/demo-deps", file=sys.stderr)
        return 1
    try:
        ports = Ports.from_env()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    stack: Optional[DemoStack] = None
    try:
        try:
            model = ensure_model(quiet=False)
        except TrainingError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        stack = DemoStack(StackConfig(model=Path(model), run_dir=RUN_DIR, ports=ports))
        print(f"==> starting the emulator, the action server and Rasa (logs: {RUN_DIR})")
        stack.start()
        print(
            "\n"
            f"  Customer page (web chat):  {stack.web_url}\n"
            f"  Agent console (Zendesk):   {stack.console_url}\n"
            "\n"
            "  Chat, say “I want to talk to a human”, answer in the console, then Solve.\n"
            "  Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        while True:
            for process in stack.dead():
                print(
                    f"error: {process.name} exited with code {process.returncode}; "
                    f"last lines of {process.log_path}:\n{process.log_tail()}",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.5)
    except Stop:
        print("\n==> stopping", flush=True)
        return 0
    except ProcessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C must not interrupt the clean-up.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if stack is not None:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
