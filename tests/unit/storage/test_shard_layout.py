"""The shard layout: row groups of one bucket each, a shard read alone, locally and on S3."""

import hashlib
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scar_dagster.sharding import bucket_of, shard_rows
from scar_dagster.storage.parquet_parts import ParquetPart
from scar_dagster.storage.shard_layout import LAYOUT_KEY, ShardLayoutWriter, shard_row_groups
from scar_dagster.storage.stores import LocalStore, S3Store

SCHEMA = pa.schema([("id", pa.large_string()), ("n", pa.int64())])


def _frame(start: int, n: int) -> pd.DataFrame:
    ids = [f"pair-{i}" for i in range(start, start + n)]
    return pd.DataFrame({"id": ids, "n": range(start, start + n)})


def _write(path, frames, group_rows=5):
    path.parent.mkdir(parents=True, exist_ok=True)
    with ShardLayoutWriter(path, SCHEMA, group_rows=group_rows) as writer:
        for frame in frames:
            writer.write_table(pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False))
    return path


def test_row_groups_hold_one_bucket_each_in_bucket_then_arrival_order(tmp_path):
    frames = [_frame(0, 400), _frame(400, 350)]
    path = _write(tmp_path / "pairs.parquet", frames, group_rows=2)
    whole = pd.concat(frames, ignore_index=True)
    parquet = pq.ParquetFile(path)
    layout = json.loads(parquet.metadata.metadata[LAYOUT_KEY])
    assert layout["buckets"] == 256 and len(layout["groups"]) == parquet.metadata.num_row_groups
    read = parquet.read().to_pandas()
    assert sorted(read["n"]) == list(range(750))  # every row once
    buckets = [bucket_of(i) for i in read["id"]]
    assert buckets == sorted(buckets)
    for _, rows in read.groupby(pd.Series(buckets)):
        assert rows["n"].is_monotonic_increasing  # arrival order within a bucket
    for index, bucket in enumerate(layout["groups"]):
        group = parquet.read_row_group(index).to_pandas()
        assert 1 <= len(group) <= 2 and {bucket_of(i) for i in group["id"]} == {bucket}
    assert not any(p.name.startswith(".spill-") for p in tmp_path.iterdir())  # spill removed
    assert len(whole) == len(read)


@pytest.mark.parametrize("shards", [2, 3, 4])
def test_a_shard_reads_only_its_row_groups_and_any_n_works(tmp_path, shards):
    path = _write(tmp_path / "assets" / "p.parquet", [_frame(0, 600)])
    whole = pd.read_parquet(path)
    part = ParquetPart(LocalStore(tmp_path), "assets/p.parquet")
    total = 0
    for shard in range(shards):
        groups = shard_row_groups(pq.ParquetFile(path).metadata, shard, shards)
        rows = sum(pq.ParquetFile(path).metadata.row_group(g).num_rows for g in groups)
        mine = pd.concat(list(part.iter_shard_batches(shard, shards, ["id", "n"], 7)))
        assert len(mine) == rows == part.shard_num_rows(shard, shards)
        expected = shard_rows(whole, shard, shards)
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), expected)
        total += len(mine)
    assert total == 600


def test_a_file_without_the_layout_is_read_whole_and_filtered(tmp_path):
    frame = _frame(0, 40)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "old.parquet")
    part = ParquetPart(LocalStore(tmp_path), "old.parquet")
    assert part.shard_num_rows(1, 3) is None
    mine = pd.concat(list(part.iter_shard_batches(1, 3, ["id", "n"])), ignore_index=True)
    pd.testing.assert_frame_equal(mine, shard_rows(frame, 1, 3))


def test_an_empty_write_is_a_typed_empty_file(tmp_path):
    path = _write(tmp_path / "e.parquet", [])
    part = ParquetPart(LocalStore(tmp_path), "e.parquet")
    assert pq.read_schema(path).names == ["id", "n"] and part.num_rows == 0
    assert list(part.iter_shard_batches(0, 4, ["id"])) == []
    assert part.shard_num_rows(0, 4) == 0


def test_a_failed_write_leaves_no_file_and_no_spill(tmp_path):
    with pytest.raises(RuntimeError), ShardLayoutWriter(tmp_path / "x.parquet", SCHEMA) as writer:
        writer.write_table(pa.Table.from_pandas(_frame(0, 9), schema=SCHEMA, preserve_index=False))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


class _CountingClient:
    """A boto3 S3 client that counts the body bytes of every GET it makes."""

    def __init__(self, client) -> None:
        self.client, self.downloaded, self.gets = client, 0, 0

    def get_object(self, **kwargs):
        response = self.client.get_object(**kwargs)
        self.downloaded += int(response["ContentLength"])
        self.gets += 1
        return response

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_a_shard_on_s3_downloads_about_its_share_of_the_object(tmp_path, s3):
    client = s3.get_client()
    client.create_bucket(Bucket="shards")
    frame = pd.DataFrame({"id": [f"pair-{i}" for i in range(8000)], "n": range(8000)})
    frame["text"] = [hashlib.sha256(str(i).encode()).hexdigest() * 4 for i in range(8000)]
    schema = pa.schema([("id", pa.large_string()), ("n", pa.int64()), ("text", pa.large_string())])
    path = tmp_path / "p.parquet"
    with ShardLayoutWriter(path, schema, group_rows=1000) as writer:
        writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
    client.upload_file(str(path), "shards", "home/p.parquet")
    counting = _CountingClient(client)
    part = ParquetPart(S3Store(counting, "shards", "home"), "p.parquet")
    mine = pd.concat(list(part.iter_shard_batches(2, 4, ["id", "n", "text"])), ignore_index=True)
    pd.testing.assert_frame_equal(mine, shard_rows(pd.read_parquet(path), 2, 4))
    metadata = pq.ParquetFile(path).metadata
    groups = shard_row_groups(metadata, 2, 4)
    chunks = sum(metadata.row_group(g).total_byte_size for g in groups)
    footer = metadata.serialized_size + 8
    assert counting.downloaded <= chunks + footer + 64 * 1024, (counting.downloaded, chunks)
    assert counting.downloaded < path.stat().st_size * 0.4
    assert counting.gets <= 3 * len(groups) + 4, counting.gets  # a GET per column chunk
