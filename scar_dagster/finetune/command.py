"""Launch fine-tuning as an external command (a cluster submit script, ``torchrun ...``).

The command receives the subset through environment variables and writes where it likes:

- ``SCAR_SUBSET_PATH``: the subset file (Alpaca JSONL) or folder to train on,
- ``SCAR_SUBSET_VERSION``: the subset version (record it with your model),
- ``SCAR_OUTPUT_DIR``: a folder for its outputs (created beforehand).

Its stdout and stderr go to ``<output_dir>/launcher.log``; the exit code decides the status.
If the command writes a JSON object to ``<output_dir>/metrics.json``, it is copied into the
record's metrics. ``run.json`` in that folder is the launcher's record: do not write it.

A string command is split with :func:`shlex.split` and run without a shell; pass
``shell=True`` only for a trusted string that needs pipes or variable expansion.

Example::

    record = run_command(
        ["sbatch", "--wait", "train.sh"],
        subset_path="/data/subsets/v3/alpaca.jsonl",
        subset_version="v3",
        output_dir="/runs/v3",
        timeout_s=6 * 3600,
    )
    raise_for_status(record)
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from scar_dagster.finetune.record import (
    FAILED,
    MODE_COMMAND,
    SUCCEEDED,
    FineTuneRecord,
    utc_now,
    write_record,
)

LOG_FILE = "launcher.log"
METRICS_FILE = "metrics.json"
_KILL_GRACE_S = 5.0
_LOG_TAIL_LINES = 40


class FineTuneError(RuntimeError):
    """A fine-tuning run failed; the message carries the reason and the log tail."""

    def __init__(self, record: FineTuneRecord, message: str) -> None:
        super().__init__(message)
        self.record = record


def run_command(
    command: Sequence[str] | str,
    *,
    subset_path: str | Path,
    subset_version: str,
    output_dir: str | Path,
    env: Mapping[str, str] | None = None,
    timeout_s: float | None = None,
    shell: bool = False,
    cwd: str | Path | None = None,
) -> FineTuneRecord:
    """Run ``command`` on a subset and return its record (also written as ``run.json``).

    Never raises for a failing command: a non-zero exit, a timeout or a missing executable
    gives ``status="failed"`` with a ``reason``; call :func:`raise_for_status` to fail loudly.
    ``env`` is added to the current environment; the ``SCAR_*`` variables win over both.
    On timeout the command's whole process group is terminated, then killed.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / LOG_FILE
    args: Sequence[str] | str = command
    if isinstance(command, str) and not shell:
        args = shlex.split(command)
    elif not isinstance(command, str) and shell:
        raise ValueError("shell=True needs the command as one string")
    if not args:
        raise ValueError("empty command")
    full_env = {
        **os.environ,
        **(env or {}),
        "SCAR_SUBSET_PATH": str(subset_path),
        "SCAR_SUBSET_VERSION": subset_version,
        "SCAR_OUTPUT_DIR": str(out),
    }
    started_at, start = utc_now(), time.monotonic()
    exit_code, reason = _run(args, full_env, log_path, timeout_s, shell, cwd)
    metrics = {"wall_time_s": round(time.monotonic() - start, 3), **_user_metrics(out)}
    record = FineTuneRecord(
        mode=MODE_COMMAND,
        subset_version=subset_version,
        subset_path=str(subset_path),
        base_model=None,
        output_dir=str(out),
        status=SUCCEEDED if reason is None else FAILED,
        metrics=metrics,
        started_at=started_at,
        finished_at=utc_now(),
        log_path=str(log_path),
        exit_code=exit_code,
        reason=reason,
        params={"command": args if isinstance(args, str) else list(args), "shell": shell},
    )
    write_record(record)
    return record


def _run(
    args: Sequence[str] | str,
    env: dict[str, str],
    log_path: Path,
    timeout_s: float | None,
    shell: bool,
    cwd: str | Path | None,
) -> tuple[int | None, str | None]:
    """Run to completion with output in ``log_path``; return ``(exit_code, failure reason)``."""
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                shell=shell,
                start_new_session=True,  # own process group: a timeout kills its children too
            )
        except OSError as exc:
            log.write(f"[scar launcher] could not start the command: {exc}\n".encode())
            return None, f"could not start the command: {exc}"
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            log.write(f"\n[scar launcher] timed out after {timeout_s} s; killed\n".encode())
            return proc.returncode, f"timed out after {timeout_s} s"
    if code != 0:
        return code, f"exited with code {code}"
    return code, None


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, then SIGKILL it if it is still alive after a grace period."""
    for sig, wait_s in ((signal.SIGTERM, _KILL_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def _user_metrics(out: Path) -> dict:
    """The command's own ``metrics.json`` object, if it wrote a valid one."""
    try:
        data = json.loads((out / METRICS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def log_tail(path: str | Path | None, lines: int = _LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file ("" when there is none)."""
    if path is None:
        return ""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def raise_for_status(record: FineTuneRecord) -> FineTuneRecord:
    """Return ``record`` if it succeeded, else raise :class:`FineTuneError` with the log tail."""
    if record.succeeded:
        return record
    message = (
        f"fine-tuning ({record.mode}) on subset {record.subset_version} failed: "
        f"{record.reason or 'unknown reason'} (exit code {record.exit_code}); "
        f"log: {record.log_path}"
    )
    tail = log_tail(record.log_path)
    if tail:
        message += f"\n--- last lines of the log ---\n{tail}"
    raise FineTuneError(record, message)
