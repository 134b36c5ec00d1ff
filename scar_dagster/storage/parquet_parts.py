"""Lazy Parquet parts of an asset: read by row group, columns or ids, whole only when asked.

An asset input declared lazy (``AssetIn(metadata={"lazy": True})``) receives a ``ParquetPart``
(one partition) or a ``{partition key: ParquetPart}`` dict instead of DataFrames, so a large
source is streamed through a step in bounded memory. A local store's file is read in place; an
S3 object is copied once to a local temporary file (disk, not memory) on first use. One shard of
a file stored bucket by bucket (``scar_dagster.storage.shard_layout``) is read alone: locally its
row groups, from S3 its row groups' byte ranges and the footer, never the whole object.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scar_dagster.sharding import check_shard, shard_rows
from scar_dagster.storage.shard_layout import shard_row_groups
from scar_dagster.storage.stores import BlobStore, LocalStore

BATCH_ROWS = 10_000


@dataclass
class ParquetPart:
    """One stored Parquet file (an asset partition), opened lazily."""

    store: BlobStore
    key: str
    partition: str = ""
    _local: Path | None = field(default=None, repr=False)
    _spool: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    def local_path(self) -> Path:
        """A local path to the file (the store's own file, or a one-time copy of an S3 object)."""
        if self._local is None:
            if isinstance(self.store, LocalStore):
                self._local = Path(self.store.uri(self.key))
            else:
                self._spool = tempfile.TemporaryDirectory(prefix="scar-part-")
                self._local = Path(self._spool.name) / "part.parquet"
                with self.store.open_read(self.key) as source, open(self._local, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
        return self._local

    def _file(self):
        import pyarrow.parquet as pq

        # pre_buffer (pyarrow's default) keeps every row group's column chunks read so far
        # until the reader is done: a stream of a whole file would hold O(file) in memory
        return pq.ParquetFile(self.local_path(), pre_buffer=False)

    @property
    def num_rows(self) -> int:
        return self._file().metadata.num_rows

    @property
    def columns(self) -> list[str]:
        return list(self._file().schema_arrow.names)

    def iter_batches(
        self, columns: Sequence[str] | None = None, batch_rows: int = BATCH_ROWS
    ) -> Iterator[pd.DataFrame]:
        """The rows in file order, ``batch_rows`` at a time (at most one row group decoded)."""
        parquet = self._file()
        names = list(columns) if columns is not None else None
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=names):
            yield batch.to_pandas()

    def _ranged_file(self):
        """The file opened for reads of a few row groups: in place locally, by byte ranges
        from a remote store (the local copy once one was made)."""
        import pyarrow.parquet as pq

        if self._local is not None or isinstance(self.store, LocalStore):
            return self._file()
        return pq.ParquetFile(self.store.open_ranged(self.key), pre_buffer=False)

    def shard_num_rows(self, shard: int, shards: int) -> int | None:
        """The rows of ``shard`` of ``shards`` from the footer, or None for a file without the
        bucket layout (or with one shard: then ``num_rows``)."""
        if check_shard(shard, shards) == 0 and shards == 1:
            return self.num_rows
        metadata = self._ranged_file().metadata
        groups = shard_row_groups(metadata, shard, shards)
        if groups is None:
            return None
        return sum(metadata.row_group(index).num_rows for index in groups)

    def iter_shard_batches(
        self,
        shard: int,
        shards: int,
        columns: Sequence[str] | None = None,
        batch_rows: int = BATCH_ROWS,
    ) -> Iterator[pd.DataFrame]:
        """The rows of ``shard`` of ``shards`` in file order, ``batch_rows`` at a time (empty
        batches skipped). A bucket-layout file is read only in the shard's row groups; any
        other file is read whole and filtered by pair id (``id`` must be among ``columns``)."""
        if check_shard(shard, shards) == 0 and shards == 1:
            yield from self.iter_batches(columns, batch_rows)
            return
        parquet = self._ranged_file()
        groups = shard_row_groups(parquet.metadata, shard, shards)
        names = list(columns) if columns is not None else None
        if groups is not None and not groups:
            return
        for batch in parquet.iter_batches(batch_size=batch_rows, row_groups=groups, columns=names):
            frame = batch.to_pandas()
            rows = frame if groups is not None else shard_rows(frame, shard, shards)
            if len(rows):
                yield rows

    def empty(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """No rows, with the dtypes a read of ``columns`` would give."""
        table = self._file().schema_arrow.empty_table()
        return (table.select(list(columns)) if columns is not None else table).to_pandas()

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Every row of ``columns`` (all columns when None) as one frame."""
        return self._file().read(columns=list(columns) if columns is not None else None).to_pandas()

    def take(
        self, ids: Iterable[str], columns: Sequence[str], id_column: str = "id"
    ) -> pd.DataFrame:
        """The rows whose ``id_column`` is in ``ids`` (file order), with ``columns``.

        Reads the id column of each row group and the other columns only of groups that hold
        a wanted id, so memory is one row group."""
        import pyarrow as pa
        import pyarrow.compute as pc

        wanted = pa.array(sorted({str(i) for i in ids}), type=pa.string())
        names = [id_column, *(c for c in columns if c != id_column)]
        parquet, found = self._file(), []
        if len(wanted) == 0:
            return pd.DataFrame(columns=names)
        for group in range(parquet.metadata.num_row_groups):
            group_ids = parquet.read_row_group(group, columns=[id_column]).column(0)
            mask = pc.is_in(group_ids, value_set=wanted)
            if not pc.any(mask).as_py():
                continue
            table = parquet.read_row_group(group, columns=names).filter(mask)
            found.append(table.to_pandas())
        if not found:
            return pd.DataFrame(columns=names)
        return pd.concat(found, ignore_index=True)

    def close(self) -> None:
        """Drop the local copy of a remote object (a no-op for a local store)."""
        if self._spool is not None:
            self._spool.cleanup()
            self._spool, self._local = None, None


def parts_in_order(parts: Mapping[str, ParquetPart | None] | None) -> list[ParquetPart]:
    """The present parts of a ``{partition key: part}`` input, in partition-key order."""
    return [part for _, part in sorted((parts or {}).items()) if part is not None]


def read_parts(
    parts: Mapping[str, ParquetPart | None] | None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """``columns`` of every part as one frame, in partition-key order (empty without parts)."""
    frames = [part.read(columns) for part in parts_in_order(parts)]
    frames = [frame for frame in frames if len(frame.columns)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def take_from_parts(
    parts: Mapping[str, ParquetPart | None] | None,
    ids: Iterable[str],
    columns: Sequence[str],
    id_column: str = "id",
) -> pd.DataFrame:
    """The rows of every part whose ids are in ``ids``, with ``columns``."""
    wanted = list(dict.fromkeys(str(i) for i in ids))
    frames = [part.take(wanted, columns, id_column) for part in parts_in_order(parts)]
    frames = [frame for frame in frames if len(frame)]
    names = [id_column, *(c for c in columns if c != id_column)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=names)
