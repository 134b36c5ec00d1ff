"""A throwaway PostgreSQL 15 server for the test session (fixture ``postgres_url``).

Starts ``/usr/lib/postgresql/15/bin`` binaries on 127.0.0.1 and a free port, in a temporary
data directory; as root (CI) the server runs as the ``postgres`` user because initdb refuses
root. Skips only when the binaries are missing; always stops the server and removes the dir.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("SCAR_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "scar_test"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args: list[str], as_postgres: bool, timeout: float = 120) -> None:
    command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(args)] if as_postgres else args
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr[-2000:]}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL (``postgresql+psycopg://``) of a fresh database on a private server."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN}")
    with running_postgres() as url:
        yield url


@contextmanager
def running_postgres() -> Iterator[str]:
    """A private server with a fresh database (the fixture's, for scripts such as
    ``benchmarks/distributed.py``); the server and its folder are gone on exit."""
    as_postgres = os.geteuid() == 0
    workdir = Path(tempfile.mkdtemp(prefix="scar-pg-"))
    data, log = workdir / "data", workdir / "server.log"
    if as_postgres:
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(workdir, user.pw_uid, user.pw_gid)
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off"
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
        _run([*initdb, "-E", "UTF8", "--no-locale", "--no-sync"], as_postgres)
        _run([*pg_ctl, "-l", str(log), "-o", options, "-w", "-t", "60", "start"], as_postgres)
        started = True
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE}"
    finally:
        if started:
            _run([*pg_ctl, "-m", "immediate", "-w", "stop"], as_postgres)
        shutil.rmtree(workdir, ignore_errors=True)
