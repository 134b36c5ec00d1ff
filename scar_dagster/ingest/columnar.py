"""Columnar files, one batch of rows in memory at a time: Parquet and Arrow IPC.

Arrow IPC covers ``.arrow`` / ``.feather`` files in the file format (``ARROW1`` magic) and in
the stream format, which is what Hugging Face ``datasets`` writes as ``data-*.arrow`` under a
``save_to_disk`` folder. A batch or row group that cannot be decoded ends the file: its rows
and the later ones become one damage record.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from scar_dagster import schema as r
from scar_dagster.ingest.compression import READ_SIZE
from scar_dagster.ingest.records import RawRecord, damage_record

ARROW_FILE_MAGIC = b"ARROW1"


@contextlib.contextmanager
def _seekable(stream: IO[bytes]) -> Iterator[IO[bytes]]:
    """``stream`` itself when it can seek, else a temporary file holding its bytes."""
    if getattr(stream, "seekable", lambda: False)():
        yield stream
        return
    with tempfile.TemporaryFile(prefix="scar-ingest-") as spool:
        shutil.copyfileobj(stream, spool, READ_SIZE)
        spool.seek(0)
        yield spool


def read_parquet(stream: IO[bytes], batch_rows: int = 8192) -> Iterator[RawRecord]:
    """Yield one record per Parquet row, one row group at a time.

    A stream that cannot seek (S3, decompressed) is spooled to a temporary file first, since
    Parquet keeps its index at the end.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    with _seekable(stream) as source:
        try:
            parquet = pq.ParquetFile(source, pre_buffer=False)  # see ParquetPart._file
        except (pa.ArrowException, OSError) as error:
            yield RawRecord(0, None, r.INGEST_UNREADABLE_FILE, f"not a Parquet file: {error}")
            return
        number = 0
        for group in range(parquet.num_row_groups):
            try:
                rows = [
                    row
                    for batch in parquet.iter_batches(batch_size=batch_rows, row_groups=[group])
                    for row in batch.to_pylist()
                ]
            except (pa.ArrowException, OSError) as error:
                offset = _row_group_offset(parquet.metadata.row_group(group))
                groups = parquet.num_row_groups
                where = f"in row group {group + 1} of {groups} (from byte {offset:,})"
                yield damage_record(number + 1, r.INGEST_CORRUPT_FILE, where, error)
                return
            for row in rows:
                number += 1
                yield RawRecord(number, row)


def _row_group_offset(group: Any) -> int:
    column = group.column(0)
    offsets = [column.data_page_offset]
    if column.has_dictionary_page:
        offsets.append(column.dictionary_page_offset)
    return min(offsets)


def read_arrow(stream: io.BufferedReader) -> Iterator[RawRecord]:
    """Yield one record per row of an Arrow IPC file or stream, a record batch at a time."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    with contextlib.ExitStack() as stack:
        try:
            if stream.peek(len(ARROW_FILE_MAGIC)).startswith(ARROW_FILE_MAGIC):
                reader = ipc.open_file(stack.enter_context(_seekable(stream)))
                batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
            else:
                batches = iter(ipc.open_stream(stream))
        except (pa.ArrowException, OSError) as error:
            detail = f"not an Arrow IPC file or stream: {error}"
            yield RawRecord(0, None, r.INGEST_UNREADABLE_FILE, detail)
            return
        number = 0
        for index in itertools.count(1):
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as error:
                cut = any(words in str(error) for words in _CUT_OFF)
                reason = r.INGEST_TRUNCATED_FILE if cut else r.INGEST_CORRUPT_FILE
                where = f"in record batch {index} (after {number:,} rows)"
                yield damage_record(number + 1, reason, where, error)
                return
            for row in batch.to_pylist():
                number += 1
                yield RawRecord(number, row)


_CUT_OFF = ("Expected to be able to read", "Expected to read")  # pyarrow's words for a short read
