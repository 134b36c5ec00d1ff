"""A Celery cluster on this machine for the distributed tests, with nothing shared on disk.

- ``RedisServer``: Debian's ``redis-server`` on 127.0.0.1 and a free port, persisting to an
  append-only file (fsync on every write), so a restart keeps queued steps and results;
- ``Process`` dirs: every process (each worker, each orchestrator) gets its own working
  directory, ``HOME``, ``TMPDIR``, ``DAGSTER_HOME`` and model cache; what they share is S3
  (moto), PostgreSQL and Redis, as machines of a cluster would;
- ``Worker``: a ``dagster-celery`` worker (``celery -A celery_worker worker``, one pool process,
  prefetch 1) in its own process group, so that SIGKILL takes the whole worker down.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = Path("/usr/bin/redis-server")
QUEUE = "dagster"
TINY_LM = "tiny-llama"  # in each process's model cache: the location's instruct LM


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    what: str, probe, timeout_s: float, interval_s: float = 0.2, log: Path | None = None
):
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval_s)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}\n{tail}", pytrace=False)


class RedisServer:
    """A private Redis (AOF persistence) that can be restarted on the same port."""

    def __init__(self, folder: Path) -> None:
        if not REDIS_SERVER.exists():
            pytest.skip(
                f"{REDIS_SERVER} missing: `make test` installs Debian's redis-server as root"
            )
        self.folder, self.port = folder, free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None

    def url(self, database: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, db=0, socket_timeout=5)

    def start(self) -> None:
        args = [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "always"]
        args += ["--save", "", "--daemonize", "no", "--logfile", str(self.folder / "redis.log")]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until("redis to answer PING", self._answers, 30, log=self.folder / "redis.log")

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def stop(self) -> None:
        """SIGTERM: Redis flushes the append-only file and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def queued(self) -> int:
        """Messages waiting in the dagster queue (all its priority lists)."""
        client = self.client()
        keys = [k for k in client.scan_iter(f"{QUEUE}*") if client.type(k) == b"list"]
        return sum(client.llen(k) for k in keys)


@dataclass
class ProcessDirs:
    """The private folders of one process of the cluster."""

    root: Path

    def __post_init__(self) -> None:
        for name in ("cwd", "home", "tmp", "dagster_home", "models"):
            (self.root / name).mkdir(parents=True, exist_ok=True)

    def env(self, shared: dict[str, str], instance_yaml: str) -> dict[str, str]:
        (self.root / "dagster_home" / "dagster.yaml").write_text(instance_yaml)
        return {
            **shared,
            "HOME": str(self.root / "home"),
            "TMPDIR": str(self.root / "tmp"),
            "DAGSTER_HOME": str(self.root / "dagster_home"),
            "SCAR_MODEL_CACHE": str(self.root / "models"),
        }

    def leftovers(self, folders: tuple[str, ...] = ("cwd", "home", "tmp")) -> list[str]:
        """Files any step left in this process's cwd, home or temp dir, caches aside: the model
        cache, the instance folder, ``~/.cache`` (matplotlib's font list) and torch's
        ``torchinductor_<user>`` are caches or config, rebuilt wherever they are missing."""
        found = []
        for name in folders:
            for path in (self.root / name).rglob("*"):
                relative = path.relative_to(self.root)
                if path.is_file() and not _is_cache(relative.parts):
                    found.append(str(relative))
        return sorted(found)


def _is_cache(parts: tuple[str, ...]) -> bool:
    return parts[:2] == ("home", ".cache") or (
        parts[0] == "tmp" and parts[1].startswith("torchinductor_")
    )


class Worker:
    """One ``dagster-celery`` worker process (and its pool process) in its own session."""

    def __init__(self, name: str, dirs: ProcessDirs, env: dict[str, str]) -> None:
        self.name, self.dirs, self.env = name, dirs, {**env, "SCAR_TEST_WORKER": name}
        self.log = dirs.root / "worker.log"
        self.process: subprocess.Popen | None = None

    @property
    def hostname(self) -> str:
        return f"{self.name}@{socket.gethostname()}"

    def start(self, timeout_s: float = 120) -> None:
        """Start the worker (again, after ``kill`` or ``stop``) and wait until it is ready."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        self._starts = text.count(" ready.")
        args = [sys.executable, "-m", "tests.distributed.worker_main", "-A", "celery_worker"]
        args += ["worker", "-Q", QUEUE, "--concurrency", "1", "--prefetch-multiplier", "1"]
        args += ["-n", self.hostname, "--without-gossip", "--without-mingle", "-l", "INFO"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                args,
                cwd=self.dirs.root / "cwd",
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(f"worker {self.name} to be ready", self._ready, timeout_s, log=self.log)

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"worker {self.name} exited:\n{self.log.read_text()[-3000:]}")
        return self.log.read_text(errors="replace").count(" ready.") > self._starts

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole worker (its process group), as a lost machine."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def instance_yaml(postgres_url: str) -> str:
    """A Dagster instance in PostgreSQL (runs, events, schedules) without local compute logs."""
    return f"""\
storage:
  postgres:
    postgres_url: "{postgres_url}"
compute_logs:
  module: dagster.core.storage.noop_compute_log_manager
  class: NoOpComputeLogManager
telemetry:
  enabled: false
"""


def create_database(sqlalchemy_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``sqlalchemy_url``; return its URL with the
    psycopg2 driver (dagster-postgres's SQL is psycopg2's; SQLAlchemy 2.1 would pick psycopg)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(sqlalchemy_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg2://{url.username}@{url.host}:{url.port}/{name}"


def save_tiny_lm(cache_dir: Path) -> Path:
    """Save the tiny test LM into a process's model cache (``location.TINY_LM``)."""
    from tests.tiny_models import tiny_llama

    folder = Path(cache_dir) / TINY_LM
    tokenizer, model = tiny_llama()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
