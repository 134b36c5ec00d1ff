"""Kill a Python subprocess with SIGKILL at a chosen point of a write, deterministically.

The child runs ``script`` after ``HANG_AT`` hooks are installed: when the child reaches the
hooked point it prints ``READY`` and blocks forever, so the parent kills it exactly there
(no sleeps, no timing). Hooks:

- ``fsync:<substring>``: ``os.fsync`` of a file whose path contains the substring, i.e. after
  the bytes of a temp file are written and before it is renamed into place;
- ``sql:<n>``: after the ``n``-th statement of the first SQLAlchemy engine the child creates
  inside an open transaction (``CHUNK_ROWS`` is set to 50 so a write spans many statements).
"""

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY = "READY"

_PRELUDE = """
import os, sys, threading

def _hang():
    print("READY", flush=True)
    threading.Event().wait()

HANG_AT = os.environ["SCAR_TEST_HANG_AT"]
if HANG_AT.startswith("fsync:"):
    _needle = HANG_AT[len("fsync:"):]
    _fsync = os.fsync

    def _hooked_fsync(fd):
        _fsync(fd)
        if _needle in os.readlink(f"/proc/self/fd/{fd}"):
            _hang()

    os.fsync = _hooked_fsync
elif HANG_AT.startswith("sql:"):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from scar_dagster.storage import tables

    tables.CHUNK_ROWS = 50
    _limit = int(HANG_AT[len("sql:"):])
    _seen = [0]

    @event.listens_for(Engine, "after_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        if conn.in_transaction() and statement.lstrip().upper().startswith(("INSERT", "DELETE")):
            _seen[0] += 1
            if _seen[0] == _limit:
                _hang()
"""


def kill_at(script: str, hang_at: str, timeout: float = 300.0) -> str:
    """Run ``script`` in a child, SIGKILL it when it reaches ``hang_at``; return its stderr.

    Raises ``AssertionError`` if the child exits before reaching the hook (it then never wrote
    what the caller wanted to interrupt). ``timeout`` only guards against a hung test run.
    """
    env = {
        **os.environ,
        "SCAR_TEST_HANG_AT": hang_at,
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    code = _PRELUDE + "\n" + textwrap.dedent(script)
    # stderr goes to a file: a chatty child must never block on a full pipe before READY.
    with tempfile.TemporaryFile("w+") as errors:
        with subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        ) as child:
            assert child.stdout is not None
            ready = any(line.strip() == READY for line in child.stdout)  # stops at READY
            if not ready:
                child.wait(timeout=timeout)
                errors.seek(0)
                raise AssertionError(
                    f"child exited before {hang_at!r} (rc={child.returncode}):\n{errors.read()}"
                )
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=timeout)
        assert child.returncode == -signal.SIGKILL, child.returncode
        errors.seek(0)
        return errors.read()
