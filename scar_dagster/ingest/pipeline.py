"""Ingest one data source: every input record ends up kept, duplicate or quarantined."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from scar_dagster import schema as r
from scar_dagster.ingest.landing import source_files
from scar_dagster.ingest.normalize import NormalizeParams, Rejected, normalize_record
from scar_dagster.ingest.readers import RawRecord, excerpt, read_records
from scar_dagster.storage.stores import BlobStore, ObjectInfo


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


def _pairs_frame(pairs: list[r.Pair]) -> pd.DataFrame:
    frame = pd.DataFrame(pairs, columns=list(r.PAIR_COLUMNS))
    return frame.astype({"origin_line": "int64"})


def _dropped_frame(dropped: list[r.Dropped]) -> pd.DataFrame:
    frame = pd.DataFrame(dropped, columns=list(r.QUARANTINE_COLUMNS))
    return frame.astype({"origin_line": "int64"})


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
    ) -> None:
        if chunk_rows is not None and chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
        self.store, self.source = store, source
        self.params = params or NormalizeParams()
        self.chunk_rows = chunk_rows
        self.files = source_files(store, source)
        self.input_records = 0

    def chunks(self) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        """``(pairs, dropped)`` frames; every file in key order, the first copy of a pair kept."""
        first_seen: dict[str, tuple[str, int]] = {}
        kept: list[r.Pair] = []
        dropped: list[r.Dropped] = []
        for info in self.files:
            for row in self._read_file(info, first_seen):
                if isinstance(row, r.Pair):
                    kept.append(row)
                else:
                    dropped.append(row)
                if self.chunk_rows and len(kept) >= self.chunk_rows:
                    yield _pairs_frame(kept), _dropped_frame(dropped)
                    kept, dropped = [], []
        yield _pairs_frame(kept), _dropped_frame(dropped)

    def _read_file(
        self, info: ObjectInfo, first_seen: dict[str, tuple[str, int]]
    ) -> Iterator[r.Pair | r.Dropped]:
        source, seen_any = self.source, False
        try:
            with self.store.open_read(f"{source}/{info.key}") as stream:
                for record in read_records(info.key, stream):
                    seen_any = True
                    self.input_records += 1
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


def _accept(
    record: RawRecord,
    source: str,
    file: str,
    params: NormalizeParams,
    first_seen: dict[str, tuple[str, int]],
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
    if pair.id in first_seen:
        first_file, first_line = first_seen[pair.id]
        detail = f"same pair as {first_file}:{first_line}"
        return r.Dropped(source, file, record.line, r.INGEST_DUPLICATE, detail, pair.id)
    first_seen[pair.id] = (pair.origin_file, pair.origin_line)
    return pair
