"""A Parquet file stored bucket by bucket, so that one shard's rows are read alone.

``ShardLayoutWriter`` takes frames in any order and writes their rows grouped by the bucket of
their id (``scar_dagster.sharding``): every row group holds rows of one bucket only (a large
bucket spans several groups of at most ``group_rows`` rows), buckets in ascending order, rows in
arrival order within a bucket. The footer's key-value metadata ``scar_buckets`` lists the bucket
of each row group, so ``shard_row_groups`` picks the groups of shard k of any N from the footer
alone: reading them is reading about 1/N of the file, and no row needs filtering.

Memory is one incoming frame plus one row group: frames are spilled bucket by bucket to
compressed Arrow IPC files beside the output (disk, not memory), which ``close`` then copies
into the Parquet file in bucket order and deletes.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from scar_dagster.sharding import BUCKETS, buckets_of, buckets_of_shard

if TYPE_CHECKING:
    import pyarrow as pa

LAYOUT_KEY = b"scar_buckets"  # footer metadata: JSON {"buckets": BUCKETS, "groups": [...]}
DEFAULT_GROUP_ROWS = 10_000


class ShardLayoutWriter:
    """Write Arrow tables with an ``id_column`` to ``path`` as bucket-ordered row groups.

    Example::

        with ShardLayoutWriter(path, schema) as writer:
            for table in chunks:
                writer.write_table(table)
    """

    def __init__(
        self,
        path: Path | str,
        schema: pa.Schema,
        *,
        group_rows: int = DEFAULT_GROUP_ROWS,
        id_column: str = "id",
    ) -> None:
        if group_rows < 1:
            raise ValueError(f"group_rows must be >= 1, got {group_rows}")
        self.path, self.schema = Path(path), schema
        self.group_rows, self.id_column = group_rows, id_column
        self.rows = 0
        self._spool: Path | None = Path(tempfile.mkdtemp(prefix=".spill-", dir=self.path.parent))
        self._spills: dict[int, Any] = {}

    def write_table(self, table: pa.Table) -> None:
        """Spill the rows of ``table`` (``schema``'s columns) to their buckets."""
        import pyarrow as pa

        if table.num_rows == 0:
            return
        table = table.select(self.schema.names).cast(self.schema)
        buckets = buckets_of(table.column(self.id_column).to_pylist())
        order = np.argsort(buckets, kind="stable")
        ordered, sorted_buckets = table.take(pa.array(order)), buckets[order]
        edges = np.flatnonzero(np.diff(sorted_buckets)) + 1
        for start, stop in zip(
            np.concatenate([[0], edges]), np.concatenate([edges, [len(order)]]), strict=True
        ):
            self._spill(int(sorted_buckets[start])).write_table(ordered.slice(start, stop - start))
        self.rows += table.num_rows

    def _spill(self, bucket: int) -> Any:
        import pyarrow as pa

        if bucket not in self._spills:
            sink = pa.OSFile(str(self._spool / f"{bucket}.arrow"), "wb")
            options = pa.ipc.IpcWriteOptions(compression="lz4")
            self._spills[bucket] = (sink, pa.ipc.new_stream(sink, self.schema, options=options))
        return self._spills[bucket][1]

    def close(self) -> None:
        """Write the Parquet file (buckets in order, the layout in its footer) and drop the
        spill files. A writer that got no rows writes an empty file with the schema."""
        import pyarrow.parquet as pq

        if self._spool is None:
            return
        for sink, stream in self._spills.values():
            stream.close()
            sink.close()
        groups: list[int] = []
        # no min/max statistics: for text columns they would put two texts per row group into
        # the footer, which every shard reads whole
        with pq.ParquetWriter(self.path, self.schema, write_statistics=False) as out:
            for bucket in sorted(self._spills):
                for table in self._bucket_groups(bucket):
                    out.write_table(table)
                    groups.append(bucket)
            out.add_key_value_metadata(
                {LAYOUT_KEY: json.dumps({"buckets": BUCKETS, "groups": groups})}
            )
        self.discard()

    def _bucket_groups(self, bucket: int):
        """The spilled rows of ``bucket`` as tables of at most ``group_rows`` rows."""
        import pyarrow as pa

        pending, held = [], 0
        with pa.memory_map(str(self._spool / f"{bucket}.arrow")) as source:
            for batch in pa.ipc.open_stream(source):
                while batch.num_rows:
                    take = min(batch.num_rows, self.group_rows - held)
                    pending.append(batch.slice(0, take))
                    held, batch = held + take, batch.slice(take)
                    if held == self.group_rows:
                        yield pa.Table.from_batches(pending, self.schema).combine_chunks()
                        pending, held = [], 0
        if held:
            yield pa.Table.from_batches(pending, self.schema).combine_chunks()

    def discard(self) -> None:
        """Delete the spill files (``close`` does it; call it on an abandoned write)."""
        if self._spool is not None:
            for sink, _ in self._spills.values():
                sink.close()
            shutil.rmtree(self._spool, ignore_errors=True)
            self._spool, self._spills = None, {}

    def __enter__(self) -> ShardLayoutWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


def layout_groups(metadata: Any) -> list[int] | None:
    """The bucket of each row group of a file's ``pyarrow`` metadata, or None when the file
    was not written by ``ShardLayoutWriter`` (or with another bucket count)."""
    raw = (metadata.metadata or {}).get(LAYOUT_KEY)
    if raw is None:
        return None
    layout = json.loads(raw)
    groups = layout.get("groups")
    if layout.get("buckets") != BUCKETS or len(groups) != metadata.num_row_groups:
        return None
    return [int(bucket) for bucket in groups]


def shard_row_groups(metadata: Any, shard: int, shards: int) -> list[int] | None:
    """The row groups holding exactly the rows of ``shard`` of ``shards``, or None when the
    file has no bucket layout (then every row must be read and filtered)."""
    groups = layout_groups(metadata)
    if groups is None:
        return None
    wanted = set(buckets_of_shard(shard, shards))
    return [index for index, bucket in enumerate(groups) if bucket in wanted]
