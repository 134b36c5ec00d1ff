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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from scar_dagster.storage.stores import SUCCESS_MARKER as SUCCESS_MARKER
from scar_dagster.storage.stores import BlobStore, read_marker, write_marked_folder

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
    chosen = decisions.loc[decisions["selected"], ["pair_id", "source", "score", "rank"]]
    texts = pairs[["id", "instruction", "response"]].drop_duplicates("id")
    merged = chosen.rename(columns={"pair_id": "id"}).merge(texts, on="id", how="left")
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


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    lines = (json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    return "".join(lines).encode("utf-8")


def alpaca_jsonl(subset: pd.DataFrame) -> bytes:
    """Alpaca records: instruction, input (empty: folded into the instruction), output."""
    rows = zip(subset["instruction"], subset["response"], strict=True)
    return _jsonl([{"instruction": i, "input": "", "output": r} for i, r in rows])


def sharegpt_jsonl(subset: pd.DataFrame) -> bytes:
    """ShareGPT records: id and a two-turn conversation (human, gpt)."""
    rows = zip(subset["id"], subset["instruction"], subset["response"], strict=True)
    return _jsonl(
        [
            {
                "id": pid,
                "conversations": [{"from": "human", "value": i}, {"from": "gpt", "value": r}],
            }
            for pid, i, r in rows
        ]
    )


def parquet_bytes(subset: pd.DataFrame) -> bytes:
    """The subset table as Parquet bytes (no index)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(subset, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


_WRITERS: dict[str, Callable[[pd.DataFrame], bytes]] = {
    "alpaca": alpaca_jsonl,
    "sharegpt": sharegpt_jsonl,
    "parquet": parquet_bytes,
}


def _result(store: BlobStore, folder: str, n_rows: int, written: bool) -> ExportResult:
    files = {fmt: f"{folder}/{name}" for fmt, name in FILES.items()}
    return ExportResult(store.uri(folder), files, n_rows, written)


def export_subset(
    subset: pd.DataFrame, store: BlobStore, prefix: str, subset_version: str
) -> ExportResult:
    """Write ``subset`` under ``<prefix>/<subset_version>`` unless that version is complete.

    ``subset`` needs ``id, source, instruction, response, score, rank`` (see subset_table).
    """
    if not isinstance(subset_version, str) or not _VERSION_NAME.fullmatch(subset_version):
        raise ValueError(
            f"subset_version must be a plain name like 'a1b2c3', got {subset_version!r}"
        )
    folder = f"{prefix.strip('/')}/{subset_version}" if prefix.strip("/") else subset_version
    done = read_marker(store, folder)
    if done is not None:
        return _result(store, folder, int(done.get("n_rows", -1)), False)
    frame = _ordered(subset)
    payloads = {FILES[fmt]: writer(frame) for fmt, writer in _WRITERS.items()}
    write_marked_folder(store, folder, payloads, subset_version=subset_version, n_rows=len(frame))
    return _result(store, folder, len(frame), True)
