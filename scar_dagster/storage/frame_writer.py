"""DataFrames appended to one Parquet file as row groups: a streamed asset output.

A step that computes its output batch by batch (features, scores) writes each batch as it comes
and holds none of the earlier ones; the IO manager then copies the finished file
(``ParquetFileOutput``). The file reads back as ``pd.concat`` of the batches would.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq


class FrameParquetWriter:
    """Append DataFrames (same columns and dtypes) to ``path`` as row groups.

    The first frame fixes the schema; a later frame whose columns or types differ raises
    ``ValueError`` naming them, rather than writing a file that reads back with other dtypes.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.rows = 0
        self._schema: pa.Schema | None = None
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame`` as one row group (an empty frame adds none; a first one still fixes
        the schema)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._schema is None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            self._schema = table.schema
            self._writer = pq.ParquetWriter(self.path, self._schema)
        else:
            expected = self._schema.remove_metadata()
            try:
                table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError) as error:
                raise ValueError(f"a frame does not fit the schema {expected}: {error}") from error
            if list(frame.columns) != expected.names:
                raise ValueError(
                    f"a frame's columns {list(frame.columns)} differ from {expected.names}"
                )
        if table.num_rows:
            self._writer.write_table(table)
        self.rows += table.num_rows

    def passing(self, frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """``frames``, each written (``write``) as it passes: a consumer of the stream (a
        hasher, an exporter) and the file see the same frames, and none is held."""
        for frame in frames:
            self.write(frame)
            yield frame

    def close(self) -> None:
        """Finish the file; a writer that got no frame writes none."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> FrameParquetWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
