"""The subset table of a decided pool, written chunk by chunk: a local Parquet file and the
versioned exports (``export``), from the same chunks.

The table (``SUBSET_COLUMNS`` and the style metrics) is in rank order; each chunk's texts are
read through the run's ``TextLookup``, so the subset's texts are never all in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scar_dagster.selection.export import ExportResult, export_subset, subset_table
from scar_dagster.selection.texts import TEXT_COLUMNS, TextLookup
from scar_dagster.storage.frame_writer import FrameParquetWriter
from scar_dagster.storage.stores import BlobStore

PREVIEW_ROWS = 5


@dataclass(frozen=True)
class WrittenSubset:
    """The subset's local file, its first rows (a preview), its size and its export."""

    path: Path
    head: pd.DataFrame
    rows: int
    export: ExportResult


def subset_chunks(
    chosen: pd.DataFrame, metrics: pd.DataFrame, texts: TextLookup, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """The subset table in rank order, ``chunk_rows`` rows at a time (at least one chunk, maybe
    empty). ``chosen``: the selected decisions in rank order; ``metrics``: ``id`` and the style
    metrics of the same rows in the same order."""
    for start in range(0, max(len(chosen), 1), chunk_rows):
        part = chosen.iloc[start : start + chunk_rows]
        with_texts = texts_frame(texts, part["id"].tolist())
        rows = metrics.iloc[start : start + chunk_rows]
        yield subset_table(part, with_texts).merge(rows, on="id", how="left")


def texts_frame(texts: TextLookup, ids: Sequence[str]) -> pd.DataFrame:
    """``id, instruction, response`` of ``ids`` from a lookup (typed ``str`` when empty)."""
    found = texts(ids)
    return pd.DataFrame(
        {
            "id": list(found),
            "instruction": [t.instruction for t in found.values()],
            "response": [t.response for t in found.values()],
        },
        columns=list(TEXT_COLUMNS),
        dtype="str",
    )


def write_subset(
    chunks: Iterable[pd.DataFrame], path: Path, store: BlobStore, prefix: str, version: str
) -> WrittenSubset:
    """Write the chunks to ``path`` and export them under ``<prefix>/<version>`` (a version
    exported before is left as it is; its chunks still go to ``path``)."""
    heads: list[pd.DataFrame] = []
    path.parent.mkdir(parents=True, exist_ok=True)
    with FrameParquetWriter(path) as writer:
        stream = writer.passing(_keeping_head(chunks, heads))
        export = export_subset(stream, store, prefix, version)
        for _ in stream:  # the chunks the export did not read
            pass
    return WrittenSubset(path, heads[0], writer.rows, export)


def _keeping_head(
    chunks: Iterable[pd.DataFrame], heads: list[pd.DataFrame]
) -> Iterator[pd.DataFrame]:
    """``chunks`` unchanged; the first ``PREVIEW_ROWS`` rows of the first chunk are appended
    to ``heads`` (the preview, without reading the file's first row group back)."""
    for chunk in chunks:
        if not heads:
            heads.append(chunk.head(PREVIEW_ROWS).reset_index(drop=True).copy())
        yield chunk
