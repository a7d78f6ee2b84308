"""The demo's process handling: readiness, crash at start, whole-group shutdown, busy ports."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest
import yaml

from demo.process import ManagedProcess, ProcessError, http_ok, port_is_free
from demo.stack import DemoStack, Ports, StackConfig
from testkit.processes import free_ports

PY = sys.executable


def managed(tmp_path: Path, name: str, code: str, port: int) -> ManagedProcess:
    return ManagedProcess(
        name,
        [PY, "-c", code],
        env=dict(os.environ),
        cwd=tmp_path,
        log_path=tmp_path / f"{name}.log",
        ready_url=f"http://127.0.0.1:{port}/",
        startup_timeout=20,
    )


def http_server_code(port: int, spawn_child: bool = False) -> str:
    child = (
        "import subprocess, sys; "
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']); "
        "open('child.pid', 'w').write(str(c.pid)); "
        if spawn_child
        else ""
    )
    return (
        f"{child}"
        "import http.server; print('serving', flush=True); "
        f"http.server.HTTPServer(('127.0.0.1', {port}), "
        "http.server.SimpleHTTPRequestHandler).serve_forever()"
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.timeout(60)
def test_ready_then_stop_takes_the_whole_process_group(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    process = managed(tmp_path, "server", http_server_code(port, spawn_child=True), port)
    process.start()
    try:
        process.wait_ready()
        assert http_ok(f"http://127.0.0.1:{port}/")
        assert wait_until(lambda: (tmp_path / "child.pid").exists())
        child = int((tmp_path / "child.pid").read_text())
        assert alive(child)
    finally:
        process.stop(timeout=5)
    assert not process.running
    assert wait_until(lambda: not alive(child)), "the server's child outlived the stop"
    assert port_is_free("127.0.0.1", port)
    assert "serving" in process.log_tail()


@pytest.mark.timeout(60)
def test_a_process_that_dies_at_start_fails_fast_with_its_log(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    code = "import sys; print('cannot load the model: boom', flush=True); sys.exit(3)"
    process = managed(tmp_path, "rasa", code, port)
    process.start()
    started = time.monotonic()
    with pytest.raises(ProcessError) as raised:
        process.wait_ready()
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert "rasa exited with code 3" in message
    assert "cannot load the model: boom" in message


@pytest.mark.timeout(60)
def test_not_ready_in_time_is_an_error_naming_the_address(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    process = managed(tmp_path, "slow", "import time; time.sleep(60)", port)
    process.start()
    try:
        with pytest.raises(ProcessError, match=f"not ready at http://127.0.0.1:{port}/"):
            process.wait_ready(timeout=1)
    finally:
        process.stop(timeout=5)
    assert not process.running


@pytest.mark.timeout(60)
def test_kill_is_immediate_and_a_restart_appends_to_the_log(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    process = managed(tmp_path, "server", http_server_code(port), port)
    process.start()
    process.wait_ready()
    process.kill()
    assert not process.running
    assert not http_ok(f"http://127.0.0.1:{port}/", timeout=0.5)
    process.start()
    try:
        process.wait_ready()
    finally:
        process.stop(timeout=5)
    assert process.log_path.read_text().count("start server ===") == 2


def test_ports_from_env() -> None:
    assert Ports.from_env({}) == Ports(emulator=8090, actions=5055, rasa=5005, web=8080)
    assert Ports.from_env({"DEMO_RASA_PORT": "6005", "DEMO_WEB_PORT": ""}).rasa == 6005
    with pytest.raises(ValueError, match="DEMO_WEB_PORT must be a port number"):
        Ports.from_env({"DEMO_WEB_PORT": "eighty"})
    with pytest.raises(ValueError, match="DEMO_EMULATOR_PORT"):
        Ports.from_env({"DEMO_EMULATOR_PORT": "70000"})


def test_a_busy_port_is_named_before_anything_starts(tmp_path: Path) -> None:
    emulator, actions, rasa, web = free_ports(4)
    config = StackConfig(
        model=tmp_path / "model.tar.gz",
        run_dir=tmp_path / "run",
        ports=Ports(emulator=emulator, actions=actions, rasa=rasa, web=web),
    )
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", rasa))
        busy.listen()
        stack = DemoStack(config)
        with pytest.raises(ProcessError, match=f"rasa port {rasa}.*DEMO_RASA_PORT"):
            stack.start()
    assert all(process.pid is None for process in stack.processes)


def test_endpoints_point_at_this_stack(tmp_path: Path) -> None:
    emulator, actions, rasa, web = free_ports(4)
    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / "endpoints.yml").write_text(
        "action_endpoint:\n  url: http://localhost:5055/webhook\nlock_store:\n  type: in_memory\n"
    )
    config = StackConfig(
        model=tmp_path / "model.tar.gz",
        run_dir=tmp_path / "run",
        ports=Ports(emulator=emulator, actions=actions, rasa=rasa, web=web),
        bot_dir=bot,
        tracker_db=tmp_path / "tracker.db",
    )
    stack = DemoStack(config)
    stack.write_endpoints()
    endpoints = yaml.safe_load(stack.endpoints_path.read_text())
    assert endpoints["action_endpoint"] == {"url": f"http://127.0.0.1:{actions}/webhook"}
    assert endpoints["tracker_store"] == {
        "type": "SQL",
        "dialect": "sqlite",
        "db": str((tmp_path / "tracker.db").resolve()),
    }
    assert endpoints["lock_store"] == {"type": "in_memory"}
    assert stack.env["ZENDESK_API_URL"] == f"http://127.0.0.1:{emulator}/sc"
    assert f"http://127.0.0.1:{rasa}/webhooks/zendesk/webhook" in stack.emulator.argv
