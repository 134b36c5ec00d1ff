"""Ingest one data source: every input record ends up kept, duplicate or quarantined."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scar_dagster import schema as r
from scar_dagster.ingest.compression import CountingReader
from scar_dagster.ingest.landing import source_files
from scar_dagster.ingest.normalize import NormalizeParams, Rejected, normalize_record
from scar_dagster.ingest.readers import RawRecord, excerpt, read_records
from scar_dagster.progress import Progress
from scar_dagster.storage.stores import BlobStore, ObjectInfo

DEFAULT_CHUNK_ROWS = 10_000  # rows per Parquet row group when a source is written in chunks
HEAD_ROWS = 5  # rows of each output kept for the preview


@dataclass(frozen=True)
class IngestResult:
    """Kept pairs, dropped rows (quarantined and duplicates), and the files that were read."""

    pairs: pd.DataFrame
    dropped: pd.DataFrame
    files: list[ObjectInfo]
    input_records: int  # counted while reading, independently of the two frames

    @property
    def duplicates(self) -> int:
        return int((self.dropped["reason"] == r.INGEST_DUPLICATE).sum())

    @property
    def quarantined(self) -> int:
        return len(self.dropped) - self.duplicates

    def reason_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.dropped["reason"]).items()))


def _dropped(source: str, file: str, record: RawRecord, reason: str, detail: str) -> r.Dropped:
    return r.Dropped(source, file, record.line, reason, detail, None, record.excerpt)


def _typed_frame(rows: list[Any], columns: tuple[str, ...]) -> pd.DataFrame:
    """Text columns as ``str`` and ``origin_line`` as int64, however few rows (0, all None)."""
    frame = pd.DataFrame(rows, columns=list(columns))
    return frame.astype({name: "int64" if name == "origin_line" else "str" for name in columns})


def _pairs_frame(pairs: list[r.Pair]) -> pd.DataFrame:
    return _typed_frame(pairs, r.PAIR_COLUMNS)


def _dropped_frame(dropped: list[r.Dropped]) -> pd.DataFrame:
    return _typed_frame(dropped, r.QUARANTINE_COLUMNS)


class FirstCopies:
    """Where each kept pair id was first seen, packed into ~130 bytes per id (a dict of id
    strings to ``(file, line)`` tuples takes ~200): the one part of ingest memory that grows
    with the source (measured with tracemalloc over 200,000 ids)."""

    _LINE_BITS = 40

    def __init__(self) -> None:
        self._where: dict[bytes, int] = {}
        self._files: list[str] = []
        self._file_index: dict[str, int] = {}

    def get(self, pair_id: str) -> tuple[str, int] | None:
        """``(file, line)`` of the first copy of ``pair_id``, or None when it is new."""
        packed = self._where.get(bytes.fromhex(pair_id))
        if packed is None:
            return None
        return self._files[packed >> self._LINE_BITS], packed & ((1 << self._LINE_BITS) - 1)

    def add(self, pair_id: str, file: str, line: int) -> None:
        index = self._file_index.setdefault(file, len(self._files))
        if index == len(self._files):
            self._files.append(file)
        self._where[bytes.fromhex(pair_id)] = (index << self._LINE_BITS) | line


class SourceReader:
    """Stream one source's kept pairs and dropped rows in chunks, counting as it reads.

    Memory is one chunk plus, for the duplicate check, each kept id with its file and line.
    ``input_records`` is complete once ``chunks()`` is exhausted.

    Example::

        reader = SourceReader(store, "forum", chunk_rows=10_000)
        for pairs, dropped in reader.chunks():
            writer.write(pairs)
    """

    def __init__(
        self,
        store: BlobStore,
        source: str,
        params: NormalizeParams | None = None,
        chunk_rows: int | None = None,
        log: Any = None,
    ) -> None:
        if chunk_rows is not None and chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
        self.store, self.source = store, source
        self.params = params or NormalizeParams()
        self.chunk_rows = chunk_rows
        self.files = source_files(store, source)
        self.input_records = 0
        total_bytes = sum(info.size for info in self.files)
        self.progress = Progress(f"ingest {source}", total_bytes, log, unit="input bytes")

    def chunks(self) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        """``(pairs, dropped)`` frames; every file in key order, the first copy of a pair kept."""
        first_seen = FirstCopies()
        kept: list[r.Pair] = []
        dropped: list[r.Dropped] = []
        for info in self.files:
            for row in self._read_file(info, first_seen):
                if isinstance(row, r.Pair):
                    kept.append(row)
                else:
                    dropped.append(row)
                if self.chunk_rows and max(len(kept), len(dropped)) >= self.chunk_rows:
                    yield _pairs_frame(kept), _dropped_frame(dropped)
                    kept, dropped = [], []
        self.progress.done()
        yield _pairs_frame(kept), _dropped_frame(dropped)

    def _read_file(self, info: ObjectInfo, first_seen: FirstCopies) -> Iterator[r.Pair | r.Dropped]:
        source, seen_any, read = self.source, False, 0
        try:
            with self.store.open_read(f"{source}/{info.key}") as stream:
                counted = CountingReader(stream, seekable=True)
                for record in read_records(info.key, counted):  # type: ignore[arg-type]
                    seen_any = True
                    self.input_records += 1
                    # Parquet readers seek and re-read (footer, pages): cap at the file's size.
                    done = min(counted.count, info.size)
                    self.progress.advance(done - read)
                    read = done
                    yield _accept(record, source, info.key, self.params, first_seen)
        except (OSError, UnicodeError, ValueError) as error:
            detail = f"cannot read file: {type(error).__name__}: {error}"
            yield r.Dropped(source, info.key, 0, r.INGEST_UNREADABLE_FILE, detail)
            self.input_records += 1
            return
        if not seen_any:
            yield r.Dropped(source, info.key, 0, r.INGEST_EMPTY_FILE, "file holds no records")
            self.input_records += 1


def ingest_source(
    store: BlobStore, source: str, params: NormalizeParams | None = None
) -> IngestResult:
    """Read every file of ``source`` in key order; keep the first copy of each pair."""
    reader = SourceReader(store, source, params)
    pairs, dropped = next(reader.chunks())  # one chunk: chunk_rows is None
    return IngestResult(
        pairs=pairs, dropped=dropped, files=reader.files, input_records=reader.input_records
    )


@dataclass(frozen=True)
class WrittenSource:
    """What ``write_source`` wrote: counts by reason and the first rows of each file."""

    files: list[ObjectInfo]
    input_records: int
    kept: int
    reasons: dict[str, int]
    pairs_head: pd.DataFrame
    dropped_head: pd.DataFrame

    @property
    def duplicates(self) -> int:
        return self.reasons.get(r.INGEST_DUPLICATE, 0)

    @property
    def quarantined(self) -> int:
        return sum(self.reasons.values()) - self.duplicates


def _top_up(head: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """``head`` extended with the first rows of ``frame`` up to ``HEAD_ROWS`` rows."""
    if len(head) >= HEAD_ROWS:
        return head
    return pd.concat([head, frame.head(HEAD_ROWS - len(head))], ignore_index=True)


def _arrow_schema(columns: tuple[str, ...]) -> Any:
    import pyarrow as pa

    return pa.schema(
        [(name, pa.int64() if name == "origin_line" else pa.large_string()) for name in columns]
    )


def write_source(
    store: BlobStore,
    source: str,
    pairs_path: Path,
    dropped_path: Path,
    params: NormalizeParams | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    log: Any = None,
) -> WrittenSource:
    """Ingest ``source`` into two local Parquet files, one row group per chunk of pairs.

    Memory stays at one chunk (plus the duplicate check's ids) whatever the source's size;
    the files read back as the frames ``ingest_source`` returns. ``log`` gets progress lines.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    reader = SourceReader(store, source, params, chunk_rows, log=log)
    pairs_schema = _arrow_schema(r.PAIR_COLUMNS)
    dropped_schema = _arrow_schema(r.QUARANTINE_COLUMNS)
    kept, reasons = 0, Counter[str]()
    heads = [_pairs_frame([]), _dropped_frame([])]
    with (
        pq.ParquetWriter(pairs_path, pairs_schema) as pairs_out,
        pq.ParquetWriter(dropped_path, dropped_schema) as dropped_out,
    ):
        for pairs, dropped in reader.chunks():
            outputs = ((pairs, pairs_out, pairs_schema), (dropped, dropped_out, dropped_schema))
            for i, (frame, out, schema) in enumerate(outputs):
                if len(frame):
                    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
                    out.write_table(table)
                    heads[i] = _top_up(heads[i], frame)
            kept += len(pairs)
            reasons.update(dropped["reason"])
    return WrittenSource(
        files=reader.files,
        input_records=reader.input_records,
        kept=kept,
        reasons=dict(sorted(reasons.items())),
        pairs_head=heads[0],
        dropped_head=heads[1],
    )


def _accept(
    record: RawRecord,
    source: str,
    file: str,
    params: NormalizeParams,
    first_seen: FirstCopies,
) -> r.Pair | r.Dropped:
    """The record's pair if it is new, else the row that explains why it was dropped."""
    if record.reason is not None:
        return _dropped(source, file, record, record.reason, record.detail)
    assert record.payload is not None
    try:
        pair = normalize_record(
            record.payload,
            source=source,
            origin_file=file,
            origin_line=record.line,
            params=params,
        )
    except Rejected as rejected:
        return r.Dropped(
            source,
            file,
            record.line,
            rejected.reason,
            rejected.detail,
            None,
            excerpt(repr(record.payload)),
        )
    first = first_seen.get(pair.id)
    if first is not None:
        first_file, first_line = first
        detail = f"same pair as {first_file}:{first_line}"
        return r.Dropped(source, file, record.line, r.INGEST_DUPLICATE, detail, pair.id)
    first_seen.add(pair.id, pair.origin_file, pair.origin_line)
    return pair
