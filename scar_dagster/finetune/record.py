"""The record of one fine-tuning run, written as ``run.json`` in its output folder.

Both launchers (local SFT and an external command) return a :class:`FineTuneRecord`, so a
Dagster asset or sensor can tell which subset version a model was trained on, with what
result, without knowing how it was launched.

Example::

    record = read_record("/models/ft-3f2a9c")
    assert record.status == SUCCEEDED, record.reason
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RECORD_FILE = "run.json"
SUCCEEDED = "succeeded"
FAILED = "failed"
MODE_LOCAL_SFT = "local_sft"
MODE_COMMAND = "command"


@dataclass(frozen=True)
class FineTuneRecord:
    """What was trained, on which subset version, and how it ended.

    ``mode`` is ``local_sft`` or ``command``; ``status`` is ``succeeded`` or ``failed``
    (``reason`` says why); times are ISO-8601 UTC strings; ``metrics`` holds the
    launcher's numbers (losses per step, eval loss before/after, wall time, ...).
    """

    mode: str
    subset_version: str
    subset_path: str | None
    base_model: str | None
    output_dir: str
    status: str
    metrics: dict[str, Any]
    started_at: str
    finished_at: str
    log_path: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """True when the run finished successfully."""
        return self.status == SUCCEEDED

    def to_json(self) -> str:
        """Serialize to an indented JSON string (stable key order)."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FineTuneRecord:
        """Parse :meth:`to_json` output; unknown keys (from newer versions) are ignored."""
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def utc_now() -> str:
    """The current time as an ISO-8601 UTC string."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def write_record(record: FineTuneRecord, directory: str | Path | None = None) -> Path:
    """Write ``run.json`` atomically into ``directory`` (default ``record.output_dir``)."""
    folder = Path(directory if directory is not None else record.output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / RECORD_FILE
    tmp = folder / f".{RECORD_FILE}.tmp"
    tmp.write_text(record.to_json() + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


def read_record(directory: str | Path) -> FineTuneRecord:
    """Read ``run.json`` from a run's output folder."""
    return FineTuneRecord.from_json((Path(directory) / RECORD_FILE).read_text(encoding="utf-8"))
