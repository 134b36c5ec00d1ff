"""Export a subset as Alpaca JSONL, ShareGPT JSONL and Parquet under ``<prefix>/<version>/``.

A version folder is written once and never changed: an export of an existing, complete
version returns it untouched. Every file is written atomically through the store (local
folder or S3), and the ``_SUCCESS`` marker (a JSON manifest with sizes and sha256) comes
last: readers trust only marked folders, and a crashed attempt is simply rewritten.
Bytes are deterministic for the same subset: rows are ordered by rank, then id.

Example::

    subset = subset_table(decisions, raw_pairs)
    result = export_subset(subset, LocalStore("/data/curated"), "subsets", version)
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scar_dagster.storage.frame_writer import FrameParquetWriter
from scar_dagster.storage.stores import SUCCESS_MARKER as SUCCESS_MARKER
from scar_dagster.storage.stores import BlobStore, read_marker, write_marked_files

SUBSET_COLUMNS = ("id", "source", "instruction", "response", "score", "rank")
FILES = {"alpaca": "alpaca.jsonl", "sharegpt": "sharegpt.jsonl", "parquet": "subset.parquet"}
_VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class ExportResult:
    """Where a subset version lives; ``written`` is False when it already existed."""

    directory: str  # URI of the version folder
    files: dict[str, str]  # format -> store key
    n_rows: int
    written: bool


def subset_table(decisions: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Selected decisions joined with their texts (``pairs``: id, instruction, response).

    Returns ``id, source, instruction, response, score, rank`` ordered by rank, then id.
    """
    chosen = decisions.loc[decisions["selected"], ["id", "source", "score", "rank"]]
    texts = pairs[["id", "instruction", "response"]].drop_duplicates("id")
    merged = chosen.merge(texts, on="id", how="left")
    lost = merged.loc[merged["response"].isna(), "id"].tolist()
    if lost:
        raise ValueError(f"{len(lost)} selected ids have no text in pairs (first: {lost[:3]})")
    return _ordered(merged)


def _ordered(subset: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in SUBSET_COLUMNS if c not in subset.columns]
    if missing:
        raise ValueError(f"subset needs columns {list(SUBSET_COLUMNS)}; missing {missing}")
    frame = subset.loc[:, list(SUBSET_COLUMNS)].copy()
    frame = frame.sort_values(["rank", "id"], kind="mergesort", ignore_index=True)
    return frame.astype(
        {
            "id": "str",
            "source": "str",
            "instruction": "str",
            "response": "str",
            "score": "float64",
            "rank": "int64",
        }
    )


def _empty_subset() -> pd.DataFrame:
    return _ordered(pd.DataFrame({column: [] for column in SUBSET_COLUMNS}))


def alpaca_lines(subset: pd.DataFrame) -> Iterator[str]:
    """Alpaca records: instruction, input (empty: folded into the instruction), output."""
    rows = zip(subset["instruction"], subset["response"], strict=True)
    for instruction, response in rows:
        record = {"instruction": instruction, "input": "", "output": response}
        yield json.dumps(record, ensure_ascii=False) + "\n"


def sharegpt_lines(subset: pd.DataFrame) -> Iterator[str]:
    """ShareGPT records: id and a two-turn conversation (human, gpt)."""
    rows = zip(subset["id"], subset["instruction"], subset["response"], strict=True)
    for pair_id, instruction, response in rows:
        turns = [{"from": "human", "value": instruction}, {"from": "gpt", "value": response}]
        yield json.dumps({"id": pair_id, "conversations": turns}, ensure_ascii=False) + "\n"


class SubsetFiles:
    """The three export files of one subset, written into a local folder chunk by chunk.

    Chunks come in rank order (each is ordered by rank, then id, and must follow the previous
    one); memory holds about ``ROW_GROUP_ROWS`` rows. The Parquet file has one row group per
    ``ROW_GROUP_ROWS`` rows whatever the chunk sizes, so its bytes depend only on the subset.
    """

    ROW_GROUP_ROWS = 10_000

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.paths = {FILES[fmt]: folder / FILES[fmt] for fmt in FILES}
        self.rows = 0
        self._last: tuple[int, str] | None = None
        self._pending: list[pd.DataFrame] = []
        self._pending_rows = 0
        self._alpaca = open(self.paths[FILES["alpaca"]], "w", encoding="utf-8")  # noqa: SIM115
        self._sharegpt = open(self.paths[FILES["sharegpt"]], "w", encoding="utf-8")  # noqa: SIM115
        self._parquet = FrameParquetWriter(self.paths[FILES["parquet"]])

    def write(self, chunk: pd.DataFrame) -> None:
        """Add the next rows of the subset (``SUBSET_COLUMNS``, extra columns ignored)."""
        frame = _ordered(chunk)
        if frame.empty:
            return
        first = (int(frame["rank"].iloc[0]), str(frame["id"].iloc[0]))
        if self._last is not None and first <= self._last:
            raise ValueError(
                f"subset chunks must come in rank order: (rank, id) {first} follows {self._last}"
            )
        self._last = (int(frame["rank"].iloc[-1]), str(frame["id"].iloc[-1]))
        self._pending.append(frame)
        self._pending_rows += len(frame)
        while self._pending_rows >= self.ROW_GROUP_ROWS:
            self._flush(self.ROW_GROUP_ROWS)

    def close(self) -> None:
        """Write what is pending and finish the files (an empty subset gets empty files)."""
        if self._pending_rows:
            self._flush(self._pending_rows)
        if self.rows == 0:
            self._parquet.write(_empty_subset())
        self._parquet.close()
        self._alpaca.close()
        self._sharegpt.close()

    def _flush(self, rows: int) -> None:
        pending = pd.concat(self._pending, ignore_index=True)
        group, rest = pending.iloc[:rows], pending.iloc[rows:]
        self._alpaca.writelines(alpaca_lines(group))
        self._sharegpt.writelines(sharegpt_lines(group))
        self._parquet.write(group)
        self.rows += len(group)
        self._pending = [rest] if len(rest) else []
        self._pending_rows = len(rest)


def _result(store: BlobStore, folder: str, n_rows: int, written: bool) -> ExportResult:
    files = {fmt: f"{folder}/{name}" for fmt, name in FILES.items()}
    return ExportResult(store.uri(folder), files, n_rows, written)


def export_subset(
    subset: pd.DataFrame | Iterable[pd.DataFrame],
    store: BlobStore,
    prefix: str,
    subset_version: str,
) -> ExportResult:
    """Write ``subset`` under ``<prefix>/<subset_version>`` unless that version is complete.

    ``subset`` is a frame with ``id, source, instruction, response, score, rank`` (see
    subset_table), or its chunks in rank order, read one at a time (not at all when the version
    is already complete): the files are written to a local folder, then copied to the store.
    """
    if not isinstance(subset_version, str) or not _VERSION_NAME.fullmatch(subset_version):
        raise ValueError(
            f"subset_version must be a plain name like 'a1b2c3', got {subset_version!r}"
        )
    folder = f"{prefix.strip('/')}/{subset_version}" if prefix.strip("/") else subset_version
    done = read_marker(store, folder)
    if done is not None:
        return _result(store, folder, int(done.get("n_rows", -1)), False)
    chunks = [subset] if isinstance(subset, pd.DataFrame) else subset
    with tempfile.TemporaryDirectory(prefix="scar-export-") as local:
        files = SubsetFiles(Path(local))
        try:
            for chunk in chunks:
                files.write(chunk)
        finally:
            files.close()
        write_marked_files(
            store, folder, files.paths, subset_version=subset_version, n_rows=files.rows
        )
    return _result(store, folder, files.rows, True)


def export_report(
    store: BlobStore,
    prefix: str,
    subset_version: str,
    markdown: str,
    png: bytes,
    export: ExportResult,
) -> str:
    """Write ``report.md`` and ``scores.png`` beside a version's exports when ``export``
    (its ``ExportResult``) wrote them now or the report is missing; return the report's key."""
    key = f"{prefix}/{subset_version}/report.md"
    if export.written or not store.exists(key):
        store.write_bytes(key, markdown.encode())
        store.write_bytes(f"{prefix}/{subset_version}/scores.png", png)
    return key
