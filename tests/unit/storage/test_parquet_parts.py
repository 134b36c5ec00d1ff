"""ParquetPart: lazy reads by batch, columns and ids, local and through a non-local store."""

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scar_dagster.storage.parquet_parts import ParquetPart, read_parts, take_from_parts
from scar_dagster.storage.stores import LocalStore


class BytesOnlyStore:
    """A store without local files (as S3): only ``open_read``."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs

    def open_read(self, key: str):
        return io.BytesIO(self.blobs[key])


def _frame(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {"id": [f"p{i:04d}" for i in range(start, start + n)], "text": [f"t{i}" for i in range(n)]}
    )


def _write(store: LocalStore, key: str, frame: pd.DataFrame, group_rows: int = 7) -> None:
    path = store.root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=group_rows
    )


def test_batches_columns_and_take_read_only_what_is_asked(tmp_path):
    store = LocalStore(tmp_path)
    frame = _frame(30)
    _write(store, "assets/raw/a.parquet", frame)
    part = ParquetPart(store, "assets/raw/a.parquet")
    batches = list(part.iter_batches(columns=["id"], batch_rows=4))
    assert all(len(b) <= 4 for b in batches) and list(batches[0].columns) == ["id"]
    assert pd.concat(batches, ignore_index=True)["id"].tolist() == frame["id"].tolist()
    assert part.num_rows == 30
    taken = part.take(["p0029", "p0003", "missing", "p0003"], ["text"])
    assert taken["id"].tolist() == ["p0003", "p0029"]  # file order, each row once
    assert taken["text"].tolist() == ["t3", "t29"]
    assert part.take([], ["text"]).empty


def test_remote_store_is_copied_once_and_dropped_on_close(tmp_path):
    local = LocalStore(tmp_path)
    _write(local, "x.parquet", _frame(10))
    remote = BytesOnlyStore({"x.parquet": (tmp_path / "x.parquet").read_bytes()})
    part = ParquetPart(remote, "x.parquet")
    copy = part.local_path()
    assert copy.is_file() and copy != tmp_path / "x.parquet"
    assert part.read(["id"])["id"].tolist()[:2] == ["p0000", "p0001"]
    part.close()
    assert not copy.exists()


def test_parts_of_many_partitions_keep_key_order(tmp_path):
    store = LocalStore(tmp_path)
    _write(store, "b.parquet", _frame(3, start=10))
    _write(store, "a.parquet", _frame(3))
    parts = {"b": ParquetPart(store, "b.parquet"), "a": ParquetPart(store, "a.parquet"), "c": None}
    assert read_parts(parts, ["id"])["id"].tolist() == [
        "p0000",
        "p0001",
        "p0002",
        "p0010",
        "p0011",
        "p0012",
    ]
    assert take_from_parts(parts, ["p0011", "p0001"], ["text"])["id"].tolist() == ["p0001", "p0011"]
    assert read_parts({}, ["id"]).empty


@pytest.mark.parametrize("rows", [0])
def test_empty_file_gives_no_batches(tmp_path, rows):
    store = LocalStore(tmp_path)
    _write(store, "e.parquet", _frame(rows))
    assert list(ParquetPart(store, "e.parquet").iter_batches()) == []


def test_streaming_a_file_holds_about_one_row_group_of_arrow_memory(tmp_path):
    # pyarrow's pre_buffer keeps every column chunk read so far until the reader finishes,
    # which made a "streamed" partition cost O(file); a batch must cost O(row group)
    store = LocalStore(tmp_path)
    rows, group_rows = 4_000, 200
    noise = np.random.default_rng(0).integers(0, 256, size=(rows, 500), dtype=np.uint8)
    frame = pd.DataFrame({"text": [row.tobytes().hex() for row in noise]})  # incompressible
    _write(store, "big.parquet", frame, group_rows=group_rows)
    group_bytes = frame["text"].str.len().sum() / (rows / group_rows)
    del frame  # its strings are Arrow memory too
    before, held = pa.total_allocated_bytes(), []
    for batch in ParquetPart(store, "big.parquet").iter_batches(["text"], group_rows):
        del batch
        held.append(pa.total_allocated_bytes() - before)
    assert len(held) == rows // group_rows
    assert max(held) < 5 * group_bytes, f"{max(held):,} arrow bytes held for {group_bytes:,.0f}"
