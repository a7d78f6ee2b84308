"""`scripts/demo.py` (what `make demo` runs): it prints the two addresses once everything
answers, and Ctrl-C stops every process it started; a busy port is a clear error, not a
traceback.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Set

import httpx
import pytest

from demo.process import port_is_free
from demo.stack import REPO_ROOT
from testkit.processes import free_stack_ports

pytestmark = pytest.mark.e2e

DEMO = REPO_ROOT / "scripts" / "demo.py"


def demo_env(ports: Dict[str, int]) -> Dict[str, str]:
    env = dict(os.environ)
    env.update({f"DEMO_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    return env


def descendants(pid: int) -> Set[int]:
    """Every process below `pid` (from /proc), whatever session it moved to."""
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: Set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def read_lines(stream, lines: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put("")


@pytest.mark.timeout(400)
def test_demo_prints_the_addresses_and_ctrl_c_stops_everything(trained_model: Path) -> None:
    ports = free_stack_ports().as_dict()
    demo = subprocess.Popen(
        [sys.executable, str(DEMO)],
        cwd=REPO_ROOT,
        env=demo_env(ports),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(demo.stdout, lines), daemon=True).start()
    output: List[str] = []
    started: Set[int] = set()
    try:
        deadline = time.monotonic() + 300
        while not any("Agent console" in line for line in output):
            assert time.monotonic() < deadline, "".join(output)
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            assert line, f"demo.py exited early:\n{''.join(output)}"
            output.append(line)
        text = "".join(output)
        assert f"http://127.0.0.1:{ports['web']}" in text
        assert f"http://127.0.0.1:{ports['emulator']}/console" in text

        page = httpx.get(f"http://127.0.0.1:{ports['web']}/", timeout=10)
        assert page.status_code == 200 and "rasa-webchat" in page.text
        console = httpx.get(f"http://127.0.0.1:{ports['emulator']}/console", timeout=10)
        assert console.status_code == 200
        rasa = httpx.get(f"http://127.0.0.1:{ports['rasa']}/", timeout=10)
        assert rasa.status_code == 200
        actions = httpx.get(f"http://127.0.0.1:{ports['actions']}/health", timeout=10)
        assert actions.status_code == 200

        started = descendants(demo.pid)
        assert len(started) >= 4, "emulator, action server, Rasa and the page server"

        # Ctrl-C.
        demo.send_signal(signal.SIGINT)
        assert demo.wait(60) == 0
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(10)
    while True:
        line = lines.get(timeout=10)
        if not line:
            break
        output.append(line)
    assert "stopping" in "".join(output)
    assert "Traceback" not in "".join(output)
    leftovers = [pid for pid in started if alive(pid)]
    assert not leftovers, f"still running after Ctrl-C: {leftovers}"
    for name, port in ports.items():
        assert port_is_free("127.0.0.1", port), f"{name} still listens on {port}"


@pytest.mark.timeout(120)
def test_a_busy_port_is_a_clear_error(trained_model: Path) -> None:
    ports = free_stack_ports().as_dict()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", ports["rasa"]))
        busy.listen()
        result = subprocess.run(
            [sys.executable, str(DEMO)],
            cwd=REPO_ROOT,
            env=demo_env(ports),
            capture_output=True,
            text=True,
            timeout=100,
        )
    assert result.returncode == 1
    assert f"rasa port {ports['rasa']}" in result.stderr
    assert "DEMO_RASA_PORT" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for name, port in ports.items():
        assert port_is_free("127.0.0.1", port), f"{name} listens on {port}"
