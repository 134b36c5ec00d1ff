"""Ingest one data source: every input record ends up kept, duplicate or quarantined."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from scar_dagster import records as r
from scar_dagster.ingest.landing import source_files
from scar_dagster.ingest.normalize import NormalizeParams, Rejected, normalize_record
from scar_dagster.ingest.readers import RawRecord, excerpt, read_records
from scar_dagster.io.storage import BlobStore, ObjectInfo


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


def ingest_source(
    store: BlobStore, source: str, params: NormalizeParams | None = None
) -> IngestResult:
    """Read every file of ``source`` in key order; keep the first copy of each pair."""
    params = params or NormalizeParams()
    kept: dict[str, r.Pair] = {}
    dropped: list[r.Dropped] = []
    files = source_files(store, source)
    input_records = 0
    for info in files:
        seen_any = False
        try:
            with store.open_read(f"{source}/{info.key}") as stream:
                for record in read_records(info.key, stream):
                    seen_any = True
                    input_records += 1
                    dropped_row = _accept(record, source, info.key, params, kept)
                    if dropped_row is not None:
                        dropped.append(dropped_row)
        except (OSError, UnicodeError, ValueError) as error:
            detail = f"cannot read file: {type(error).__name__}: {error}"
            dropped.append(r.Dropped(source, info.key, 0, r.INGEST_UNREADABLE_FILE, detail))
            input_records += 1
            continue
        if not seen_any:
            detail = "file holds no records"
            dropped.append(r.Dropped(source, info.key, 0, r.INGEST_EMPTY_FILE, detail))
            input_records += 1
    return IngestResult(
        pairs=pd.DataFrame(list(kept.values()), columns=list(r.PAIR_COLUMNS)).astype(
            {"origin_line": "int64"}
        ),
        dropped=pd.DataFrame(dropped, columns=list(r.QUARANTINE_COLUMNS)).astype(
            {"origin_line": "int64"}
        ),
        files=files,
        input_records=input_records,
    )


def _accept(
    record: RawRecord, source: str, file: str, params: NormalizeParams, kept: dict[str, r.Pair]
) -> r.Dropped | None:
    """Add the record's pair to ``kept`` or return the row that explains why it was dropped."""
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
    if pair.id in kept:
        first = kept[pair.id]
        detail = f"same pair as {first.origin_file}:{first.origin_line}"
        return r.Dropped(source, file, record.line, r.INGEST_DUPLICATE, detail, pair.id)
    kept[pair.id] = pair
    return None
