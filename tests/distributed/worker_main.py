"""``celery`` for the distributed tests' workers, with an optional hang inside a scoring write.

Run as ``python -m tests.distributed.worker_main -A celery_worker worker ...`` (celery's own
command line). With ``SCAR_TEST_HANG_DIR`` set, the first process of any worker that executes
an INSERT into ``scored_pairs`` inside a transaction claims ``<dir>/claimed`` (``O_EXCL``: one
worker in the whole cluster), writes its worker name to ``<dir>/hanging`` and blocks forever,
in the middle of the scoring step with its scores uncommitted, so the test can kill it exactly
there. Every other worker and every later write runs normally.
"""

import os
import sys
import threading
from pathlib import Path


def _install_hang(folder: Path, name: str) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "after_cursor_execute")
    def _hang_once(conn, cursor, statement, parameters, context, executemany):
        text = statement.lstrip().upper()
        if not (conn.in_transaction() and text.startswith("INSERT") and "SCORED_PAIRS" in text):
            return
        try:
            os.close(os.open(folder / "claimed", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        (folder / "hanging").write_text(f"{name} {os.getpid()}\n")
        threading.Event().wait()


if __name__ == "__main__":
    hang_dir = os.environ.get("SCAR_TEST_HANG_DIR")
    if hang_dir:
        _install_hang(Path(hang_dir), os.environ.get("SCAR_TEST_WORKER", "worker"))
    from celery.__main__ import main

    sys.argv[0] = "celery"
    sys.exit(main())
