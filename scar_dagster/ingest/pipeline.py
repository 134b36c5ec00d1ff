"""Ingest one data source: every input row ends up kept, duplicate or quarantined.

The source's ``scar_source.toml`` (if any) is read and validated before anything else, so a
bad config fails the source before a row is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any

import pandas as pd

from scar_dagster import schema as r
from scar_dagster.ingest.accounting import SourceRead, SourceStats
from scar_dagster.ingest.compression import CountingReader
from scar_dagster.ingest.errors import RecordQuarantined
from scar_dagster.ingest.hub_folders import STATE_FILE, missing_shards
from scar_dagster.ingest.landing import SourceListing, list_source
from scar_dagster.ingest.normalize import NormalizeParams, record_pairs
from scar_dagster.ingest.readers import read_records
from scar_dagster.ingest.records import RawRecord, excerpt
from scar_dagster.ingest.source_config import (
    CONFIG_FILE,
    DEFAULT_CONFIG,
    SourceConfig,
    config_sha256,
    parse_source_config,
)
from scar_dagster.progress import Progress
from scar_dagster.storage.shard_layout import ShardLayoutWriter
from scar_dagster.storage.stores import BlobStore, ObjectInfo

DEFAULT_CHUNK_ROWS = 10_000  # rows per Parquet row group when a source is written in chunks
HEAD_ROWS = 5  # rows of each output kept for the preview


class _ReadCounts:
    """What both results tell from ``read``: the files, records and rows read."""

    read: SourceRead

    @property
    def files(self) -> list[ObjectInfo]:
        return self.read.listing.files

    @property
    def input_records(self) -> int:
        return self.read.stats.input_records

    @property
    def input_rows(self) -> int:
        return self.read.stats.input_rows


@dataclass(frozen=True)
class IngestResult(_ReadCounts):
    """Kept pairs, dropped rows (quarantined and duplicates), and what reading found."""

    pairs: pd.DataFrame
    dropped: pd.DataFrame
    read: SourceRead  # counted while reading, independently of the two frames

    @property
    def duplicates(self) -> int:
        return int((self.dropped["reason"] == r.INGEST_DUPLICATE).sum())

    @property
    def quarantined(self) -> int:
        return len(self.dropped) - self.duplicates

    def reason_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.dropped["reason"]).items()))


INT_COLUMNS = frozenset({"origin_line", "origin_turn"})


def _typed_frame(rows: list[Any], columns: tuple[str, ...]) -> pd.DataFrame:
    """Text columns as ``str``, line and turn as int64, however few rows (0, all None)."""
    fields = attrgetter(*columns)  # tuples, not dataclasses.asdict: no deep copy per field
    frame = pd.DataFrame([fields(row) for row in rows], columns=list(columns))
    return frame.astype({name: "int64" if name in INT_COLUMNS else "str" for name in columns})


def _pairs_frame(pairs: list[r.Pair]) -> pd.DataFrame:
    return _typed_frame(pairs, r.PAIR_COLUMNS)


def _dropped_frame(dropped: list[r.Quarantined]) -> pd.DataFrame:
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


def read_config(store: BlobStore, source: str) -> tuple[SourceConfig, str | None]:
    """The ``scar_source.toml`` of ``source`` parsed and validated, with its sha256.

    Raises ``SourceConfigError`` naming the file and the key."""
    key = f"{source}/{CONFIG_FILE}"
    data = store.read_bytes(key)
    return parse_source_config(data, store.uri(key)), config_sha256(data)


class SourceReader:
    """Stream one source's kept pairs and dropped rows in chunks, counting as it reads.

    Memory is one chunk plus, for the duplicate check, each kept id with its file and line.
    ``stats`` is complete once ``chunks()`` is exhausted. ``config`` replaces the source's
    ``scar_source.toml``, ``listing`` the listing of its folder (``scar-dagster inspect``).

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
        *,
        config: SourceConfig | None = None,
        listing: SourceListing | None = None,
    ) -> None:
        if chunk_rows is not None and chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
        self.store, self.source = store, source
        self.params = params or NormalizeParams()
        self.chunk_rows = chunk_rows
        listing = listing if listing is not None else list_source(store, source)
        sha256 = None
        if config is None:
            config, sha256 = (
                read_config(store, source) if listing.config else (DEFAULT_CONFIG, None)
            )
        self.read = SourceRead(listing, config, sha256, SourceStats())
        self.config, self.files, self.stats = config, listing.files, self.read.stats
        total_bytes = sum(info.size for info in self.files)
        self.progress = Progress(f"ingest {source}", total_bytes, log, unit="input bytes")

    @property
    def input_records(self) -> int:
        return self.stats.input_records

    def chunks(self) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        """``(pairs, dropped)`` frames: first a row per path not read, then every file in key
        order, the first copy of a pair kept."""
        first_seen = FirstCopies()
        kept: list[r.Pair] = []
        dropped: list[r.Quarantined] = []
        files = chain.from_iterable(self._read_file(info, first_seen) for info in self.files)
        for row in chain(self._unread_rows(), files):
            if isinstance(row, r.Pair):
                kept.append(row)
            else:
                dropped.append(row)
            if self.chunk_rows and max(len(kept), len(dropped)) >= self.chunk_rows:
                yield _pairs_frame(kept), _dropped_frame(dropped)
                kept, dropped = [], []
        self.progress.done()
        yield _pairs_frame(kept), _dropped_frame(dropped)

    def _file_row(self, key: str, reason: str, detail: str) -> r.Quarantined:
        self.stats.input_records += 1
        return r.Quarantined(self.source, key, 0, reason, detail)

    def _unread_rows(self) -> Iterator[r.Quarantined]:
        """A row per skipped path, and per data file a datasets ``state.json`` lists but the
        folder lacks."""
        listing = self.read.listing
        for skipped in listing.skipped:
            yield self._file_row(skipped.key, skipped.reason, skipped.detail)
        present = {info.key for info in listing.files}
        for folder in listing.dataset_folders:
            state_key = f"{folder}/{STATE_FILE}" if folder else STATE_FILE
            state = self.store.read_bytes(f"{self.source}/{state_key}")
            for key, reason, detail in missing_shards(folder, state, present):
                yield self._file_row(key, reason, detail)

    def _read_file(
        self, info: ObjectInfo, first_seen: FirstCopies
    ) -> Iterator[r.Pair | r.Quarantined]:
        seen_any, read = False, 0
        try:
            with self.store.open_read(f"{self.source}/{info.key}") as stream:
                counted = CountingReader(stream, seekable=True)
                for record in read_records(info.key, counted, self.config):  # type: ignore[arg-type]
                    seen_any = True
                    self.stats.input_records += 1
                    # Parquet readers seek and re-read (footer, pages): cap at the file's size.
                    done = min(counted.count, info.size)
                    self.progress.advance(done - read)
                    read = done
                    yield from self._accept(record, info.key, first_seen)
        except (OSError, UnicodeError, ValueError) as error:
            detail = f"cannot read file: {type(error).__name__}: {error}"
            yield self._file_row(info.key, r.INGEST_UNREADABLE_FILE, detail)
            return
        if not seen_any:
            yield self._file_row(info.key, r.INGEST_EMPTY_FILE, "file holds no records")

    def _accept(
        self, record: RawRecord, file: str, first_seen: FirstCopies
    ) -> list[r.Pair | r.Quarantined]:
        """The record's new pairs, and a row saying why for each of its rows not kept."""
        source = self.source
        if record.reason is not None:
            return [
                r.Quarantined(
                    source, file, record.line, record.reason, record.detail, None, record.excerpt
                )
            ]
        assert record.payload is not None
        try:
            result = record_pairs(
                record.payload,
                source=source,
                origin_file=file,
                origin_line=record.line,
                params=self.params,
                config=self.config,
            )
        except RecordQuarantined as error:
            return [self._rejected(record, file, error)]
        self.stats.count_record(
            file, result.layout, len(result.rows), result.turns, result.unused_turns
        )
        rows: list[r.Pair | r.Quarantined] = []
        for row in result.rows:
            if isinstance(row, RecordQuarantined):
                rows.append(self._rejected(record, file, row))
                continue
            first = first_seen.get(row.id)
            if first is not None:
                detail = f"same pair as {first[0]}:{first[1]}"
                duplicate = r.Quarantined(
                    source, file, record.line, r.INGEST_DUPLICATE, detail, row.id,
                    origin_turn=row.origin_turn,
                )  # fmt: skip
                rows.append(duplicate)
                continue
            first_seen.add(row.id, row.origin_file, row.origin_line)
            rows.append(row)
        return rows

    def _rejected(self, record: RawRecord, file: str, error: RecordQuarantined) -> r.Quarantined:
        return r.Quarantined(
            self.source,
            file,
            record.line,
            error.reason,
            error.detail,
            None,
            excerpt(repr(record.payload)),
            origin_turn=error.turn,
        )


def ingest_source(
    store: BlobStore,
    source: str,
    params: NormalizeParams | None = None,
    *,
    config: SourceConfig | None = None,
    listing: SourceListing | None = None,
) -> IngestResult:
    """Read every file of ``source`` in key order; keep the first copy of each pair."""
    reader = SourceReader(store, source, params, config=config, listing=listing)
    pairs, dropped = next(reader.chunks())  # one chunk: chunk_rows is None
    return IngestResult(pairs=pairs, dropped=dropped, read=reader.read)


@dataclass(frozen=True)
class WrittenSource(_ReadCounts):
    """What ``write_source`` wrote: counts by reason, the first rows of each file, and what
    reading found (listing, config, stats)."""

    kept: int
    reasons: dict[str, int]
    pairs_head: pd.DataFrame
    dropped_head: pd.DataFrame
    read: SourceRead

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


def arrow_schema(columns: tuple[str, ...]) -> Any:
    """The Arrow schema ingest writes: line and turn as int64, every other column a string."""
    import pyarrow as pa

    return pa.schema(
        [(name, pa.int64() if name in INT_COLUMNS else pa.large_string()) for name in columns]
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
    """Ingest ``source`` into two local Parquet files: the pairs in the shard layout (row
    groups of at most ``chunk_rows`` rows of one bucket each, ``storage.shard_layout``, so a
    shard reads only its rows), the dropped rows one row group per chunk in input order.

    Memory stays at one chunk (plus the duplicate check's ids) whatever the source's size;
    the files hold the rows of the frames ``ingest_source`` returns (the pairs in bucket
    order). ``log`` gets progress lines. A bad ``scar_source.toml`` raises
    ``SourceConfigError`` before either file is created.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    reader = SourceReader(store, source, params, chunk_rows, log=log)
    pairs_schema = arrow_schema(r.PAIR_COLUMNS)
    dropped_schema = arrow_schema(r.QUARANTINE_COLUMNS)
    kept, reasons = 0, Counter[str]()
    heads = [_pairs_frame([]), _dropped_frame([])]
    with (
        ShardLayoutWriter(pairs_path, pairs_schema, group_rows=chunk_rows) as pairs_out,
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
        kept=kept,
        reasons=dict(sorted(reasons.items())),
        pairs_head=heads[0],
        dropped_head=heads[1],
        read=reader.read,
    )
