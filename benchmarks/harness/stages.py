"""Run one benchmark stage in a fresh interpreter: its JSON result, time and peak RSS.

A stage is a top-level function of a ``benchmarks`` module that takes JSON-able keyword
arguments (paths arrive as strings) and returns a JSON-able dict. ``run_stage`` starts
``python -m benchmarks.harness MODULE:FUNCTION ARGS [IMPORTS...]`` from the repository root;
the child imports the module and ``imports``, notes its RSS, calls the stage (anything it
prints goes to stderr) and prints the result on stdout with three fields added:

* ``seconds``: wall time of the call, unless the stage reports its own;
* ``import_rss_mb``: RSS after the imports, unless the stage measured its own baseline;
* ``peak_rss_mb``: the child's ``VmHWM`` (``ru_maxrss`` where there is no ``/proc``).

The child measures its own peak because a parent's view of a child (``wait4``'s
``ru_maxrss``) also counts the parent's pages the child had before ``exec``. Example::

    out = run_stage(stage_ingest, {"work": work}, imports=("pandas",))
    print(out["kept"], out["seconds"], out["peak_rss_mb"])
    workers = [Stage(worker, {"keys": keys}, threads=1) for keys in shares]  # at once
    reports = [process.result() for process in workers]
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
STDERR_TAIL = 3000  # characters of a failed stage's stderr put into the error


class StageFailed(RuntimeError):
    """A stage's process exited with an error or printed no JSON result."""


def rss_mb(field: str = "VmRSS") -> float:
    """A memory field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def peak_rss_mb() -> float:
    """This process's peak RSS in MB: ``VmHWM``, else ``ru_maxrss`` (KB on Linux)."""
    try:
        return rss_mb("VmHWM")
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_env(threads: int | None = None) -> dict[str, str]:
    """This process's environment, offline, with ``threads`` OpenMP/MKL threads if given."""
    env = {**os.environ, **OFFLINE_ENV}
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def module_command(module: str, *args: str) -> list[str]:
    """``python -m module args...`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def stage_target(stage: Callable[..., Any] | str) -> str:
    """``module:function`` of a stage (the real module name when it runs as ``__main__``)."""
    if isinstance(stage, str):
        return stage
    module = stage.__module__
    if module == "__main__":
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        if spec is None:
            raise ValueError("run the benchmark as a module: python -m benchmarks.<name>")
        module = spec.name
    return f"{module}:{stage.__qualname__}"


def _stderr_file(log: Path | None) -> IO[str]:
    """Where a stage's stderr goes: a file, as a full pipe could block the child while its
    stdout is read; ``log`` or a temporary file (closed by ``Stage.result``)."""
    return log.open("w+") if log else tempfile.TemporaryFile("w+")


class Stage:
    """A stage started in a fresh interpreter (several can run at once); ``result()`` waits.

    ``imports``: modules the child imports before its baseline RSS; ``threads`` sets
    ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` (default: inherited); ``log`` keeps the child's
    stderr in that file (default: a temporary file).
    """

    def __init__(
        self,
        stage: Callable[..., Any] | str,
        args: Mapping[str, Any],
        *,
        imports: Sequence[str] = (),
        threads: int | None = None,
        log: Path | None = None,
    ) -> None:
        self.target = stage_target(stage)
        self.log = log
        self._stderr = _stderr_file(log)
        command = module_command(
            "benchmarks.harness", self.target, json.dumps(dict(args), default=str), *imports
        )
        self._process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=bench_env(threads),
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )

    def result(self) -> dict[str, Any]:
        """The stage's JSON result; ``StageFailed`` with its stderr's tail when it failed."""
        assert self._process.stdout is not None
        with self._stderr:
            out = self._process.stdout.read()
            code = self._process.wait()
            self._process.stdout.close()
            if code != 0:
                self._stderr.seek(0)
                tail = self._stderr.read()[-STDERR_TAIL:]
                where = f" (whole log: {self.log})" if self.log else ""
                raise StageFailed(
                    f"stage {self.target} failed with exit code {code}{where}:\n{tail}"
                )
        try:
            return json.loads(out)
        except json.JSONDecodeError:
            raise StageFailed(
                f"stage {self.target} printed no JSON result: {out[-500:]!r}"
            ) from None


def run_stage(
    stage: Callable[..., Any] | str, args: Mapping[str, Any], **options: Any
) -> dict[str, Any]:
    """Run a stage in a fresh interpreter and wait for its result (``options``: ``Stage``'s)."""
    return Stage(stage, args, **options).result()


def child_main(argv: Sequence[str]) -> None:
    """The child side: ``MODULE:FUNCTION ARGS_JSON [IMPORTS...]``; the result on stdout."""
    target, args, *imports = argv
    module_name, _, function = target.partition(":")
    stage = getattr(importlib.import_module(module_name), function)
    for name in imports:
        importlib.import_module(name)
    baseline, started = rss_mb(), time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the result only
        result = dict(stage(**json.loads(args)))
    result.setdefault("seconds", time.perf_counter() - started)
    result.setdefault("import_rss_mb", baseline)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))
