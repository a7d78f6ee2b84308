"""Throwaway PostgreSQL and Redis servers from Debian's packages, for the scale-out tests and
the benchmarks: each in a temporary directory, on a free loopback port, gone when stopped.

`scripts/test-deps` installs `postgresql` and `redis-server`. PostgreSQL refuses to run as
root, so under root its commands run as the `postgres` system user (`runuser`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from rasa_zendesk.emulator.testing import stop_process
from testkit.processes import free_ports

HOST = "127.0.0.1"


class ServiceError(RuntimeError):
    """A database server is missing or did not start; the message says what to do."""


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL server with one database the tracker store may use."""

    port: int
    database: str
    user: str
    password: str = field(repr=False)
    host: str = HOST

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg2), e.g. for reading the tracker store in tests."""
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def env(self) -> Dict[str, str]:
        """The variables `endpoints.scaleout.yml` reads."""
        return {
            "TRACKER_DB_HOST": self.host,
            "TRACKER_DB_PORT": str(self.port),
            "TRACKER_DB_NAME": self.database,
            "TRACKER_DB_USER": self.user,
            "TRACKER_DB_PASSWORD": self.password,
        }


@dataclass(frozen=True)
class Redis:
    """A running Redis server (no persistence)."""

    port: int
    host: str = HOST

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def env(self) -> Dict[str, str]:
        """The variables `endpoints.scaleout.yml` and `credentials.scaleout.yml` read."""
        return {
            "REDIS_HOST": self.host,
            "REDIS_PORT": str(self.port),
            "SOCKETIO_REDIS_URL": self.url(0),
        }


def postgres_bin() -> Path:
    """The newest installed PostgreSQL server's bin directory."""
    installed = [Path(path).parent for path in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    versions = [path for path in installed if path.parent.name.isdigit()]
    if not versions:
        raise ServiceError("PostgreSQL is not installed: run scripts/test-deps")
    return max(versions, key=lambda path: int(path.parent.name))


def _as_postgres_user(argv: List[str]) -> List[str]:
    """PostgreSQL refuses root: run its commands as the `postgres` system user then."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _run(argv: List[str], what: str, timeout: float = 60) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise ServiceError(f"{what} failed ({result.returncode}):\n{result.stderr[-2000:]}")


@contextlib.contextmanager
def postgres_server(
    database: str = "rasa", user: str = "rasa", durable: bool = False
) -> Iterator[Postgres]:
    """Start PostgreSQL in a temporary directory; yield it; stop it and delete its files.

    `durable=False` turns off fsync (test data is thrown away anyway); the benchmarks keep the
    defaults so that the tracker store costs what it costs in production.
    """
    bin_dir = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="rasa-zendesk-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    password = secrets.token_hex(12)
    (root / "pwfile").write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        shutil.chown(root / "pwfile", "postgres")
    (port,) = free_ports(1)
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        _run(
            _as_postgres_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    user,
                    f"--pwfile={root / 'pwfile'}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-instructions",
                ]
            ),
            "initdb",
        )
        options = f"-p {port} -k {sockets} -c listen_addresses={HOST}"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run(
            _as_postgres_user(
                [*pg_ctl, "-l", str(root / "postgres.log"), "-o", options, "-w", "-t", "60"]
                + ["start"]
            ),
            "pg_ctl start",
            timeout=90,
        )
        try:
            _run(
                _as_postgres_user(
                    [str(bin_dir / "createdb"), "-h", str(sockets), "-p", str(port), "-U", user]
                    + [database]
                ),
                "createdb",
            )
            yield Postgres(port=port, database=database, user=user, password=password)
        finally:
            subprocess.run(
                _as_postgres_user([*pg_ctl, "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=60,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _redis_ping(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(host=HOST, port=port, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@contextlib.contextmanager
def redis_server(timeout: float = 20.0) -> Iterator[Redis]:
    """Start `redis-server` without persistence on a free port; yield it; stop it."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise ServiceError("redis-server is not installed: run scripts/test-deps")
    root = Path(tempfile.mkdtemp(prefix="rasa-zendesk-redis-"))
    (port,) = free_ports(1)
    log = open(root / "redis.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        + ["--dir", str(root), "--protected-mode", "yes"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while not _redis_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (root / "redis.log").read_text(errors="replace")[-2000:]
                raise ServiceError(f"redis-server did not start:\n{tail}")
            time.sleep(0.05)
        yield Redis(port=port)
    finally:
        stop_process(process)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module", name="redis")
def redis_fixture() -> Iterator[Redis]:
    """A Redis server of the module's own."""
    with redis_server() as server:
        yield server
