"""One child process of the demo stack: started in its own process group, logged to a file,
ready when an HTTP address answers, stopped with its whole group.

Each server runs as a separate OS process (as in production), so a crash, a restart or a
Ctrl-C is handled for the whole group: nothing is left behind listening on a port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import IO, Mapping, Optional, Sequence

POLL_INTERVAL = 0.2


class ProcessError(RuntimeError):
    """A process died or did not get ready; the message carries the tail of its log."""


class ManagedProcess:
    """A named server process with a log file and a readiness URL."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
        ready_url: str,
        startup_timeout: float = 120.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.ready_url = ready_url
        self.startup_timeout = startup_timeout
        self._popen: Optional[subprocess.Popen] = None
        self._log: Optional[IO[bytes]] = None

    @property
    def pid(self) -> Optional[int]:
        return self._popen.pid if self._popen else None

    @property
    def running(self) -> bool:
        """True while the process started last is alive."""
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> Optional[int]:
        return self._popen.poll() if self._popen else None

    def start(self) -> None:
        """Spawn the process in a new session (its own process group), appending to its log."""
        if self.running:
            raise ProcessError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._close_log()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (kept open while it runs)
        self._log.write(f"\n=== {time.strftime('%H:%M:%S')} start {self.name} ===\n".encode())
        self._log.flush()
        self._popen = subprocess.Popen(
            self.argv,
            cwd=str(self.cwd),
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: Optional[float] = None) -> None:
        """Poll the readiness URL until it answers 2xx; fail fast if the process dies."""
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        while True:
            if not self.running:
                raise ProcessError(
                    f"{self.name} exited with code {self.returncode} while starting; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            if http_ok(self.ready_url):
                return
            if time.monotonic() > deadline:
                raise ProcessError(
                    f"{self.name} was not ready at {self.ready_url} after "
                    f"{timeout or self.startup_timeout:.0f}s; last lines of "
                    f"{self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(POLL_INTERVAL)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the whole process group, SIGKILL it if it does not exit in time."""
        if self._popen is not None and self._popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._popen.wait(timeout)
        # Children of the leader (if any) go with the group even after the leader exited.
        if self._popen is not None:
            self._signal_group(signal.SIGKILL)
        self._close_log()

    def kill(self) -> None:
        """SIGKILL the whole group at once: a crash, not a shutdown (restart tests)."""
        if self._popen is not None:
            self._signal_group(signal.SIGKILL)
            self._popen.wait(10)
        self._close_log()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the log file (for error messages)."""
        try:
            with open(self.log_path, "rb") as log:
                tail = deque(log, maxlen=lines)
        except OSError:
            return "(no log)"
        return b"".join(tail).decode("utf-8", "replace").rstrip()

    def _signal_group(self, signum: int) -> None:
        assert self._popen is not None
        try:
            os.killpg(self._popen.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def start_all(processes: Sequence[ManagedProcess]) -> None:
    """Start every process, then wait for each; on any failure stop them all and re-raise."""
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
    except BaseException:
        stop_all(processes)
        raise


def stop_all(processes: Sequence[ManagedProcess]) -> None:
    """Stop every process in reverse start order, each with its whole process group."""
    for process in reversed(processes):
        process.stop()


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True if a GET on `url` answers 2xx (connection errors and other codes are False)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def port_is_free(host: str, port: int) -> bool:
    """True if nothing listens on host:port (checked by binding it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers do: a port in TIME_WAIT is free, a listening one is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
