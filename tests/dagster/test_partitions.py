"""concat_partitions: the per-source frames an unpartitioned asset receives, as one frame."""

import pandas as pd

from scar_dagster.dagster.partitions import concat_partitions


def test_frames_are_joined_in_partition_key_order_skipping_missing_ones():
    parts = {
        "web": pd.DataFrame({"source": ["web"], "n": [2]}),
        "forum": pd.DataFrame({"source": ["forum", "forum"], "n": [0, 1]}),
        "late": None,  # a partition that allow_missing_partitions skipped
    }
    joined = concat_partitions(parts)
    assert joined["source"].tolist() == ["forum", "forum", "web"]
    assert joined.index.tolist() == [0, 1, 2]


def test_no_partitions_give_an_empty_frame():
    assert concat_partitions({}).empty
    assert concat_partitions(None).empty
    assert concat_partitions({"a": None}).empty


def test_small_batches_of_each_shard_are_the_shards_rows_of_the_whole_source(tmp_path):
    from types import SimpleNamespace

    import pyarrow as pa
    import pyarrow.parquet as pq
    from dagster import MultiPartitionKey

    from scar_dagster.dagster.partitions import (
        batches_of_partition,
        estimated_rows_of_partition,
        source_partitions,
    )
    from scar_dagster.sharding import shard_rows
    from scar_dagster.storage.parquet_parts import ParquetPart
    from scar_dagster.storage.stores import LocalStore

    whole = pd.DataFrame({"id": [f"pair-{i}" for i in range(41)], "n": range(41)})
    table = pa.Table.from_pandas(whole, preserve_index=False)
    pq.write_table(table, tmp_path / "src.parquet", row_group_size=7)
    part = ParquetPart(LocalStore(tmp_path), "src.parquet")
    definition = SimpleNamespace(partitions_def=source_partitions(2))
    seen = []
    for shard in ("0", "1"):
        key = MultiPartitionKey({"data_source": "src", "shard": shard})
        context = SimpleNamespace(partition_key=key, assets_def=definition)
        batches = list(batches_of_partition(context, part, batch_rows=3))
        assert all(0 < len(batch) <= 3 for batch in batches)
        mine = pd.concat(batches, ignore_index=True)
        pd.testing.assert_frame_equal(mine, shard_rows(whole, int(shard), 2))
        assert estimated_rows_of_partition(context, part) == (21, True)
        seen += mine["id"].tolist()
    assert sorted(seen) == sorted(whole["id"])  # every row in exactly one shard


def test_counted_batches_count_the_shards_rows_and_an_estimate_is_logged(tmp_path):
    from types import SimpleNamespace

    import pyarrow as pa
    import pyarrow.parquet as pq
    from dagster import MultiPartitionKey

    from scar_dagster.dagster.partitions import (
        CountedBatches,
        expected_rows_of_partition,
        source_partitions,
    )
    from scar_dagster.storage.parquet_parts import ParquetPart
    from scar_dagster.storage.stores import LocalStore
    from tests.log_sink import Lines

    whole = pd.DataFrame({"id": [f"pair-{i}" for i in range(30)], "n": range(30)})
    pq.write_table(pa.Table.from_pandas(whole, preserve_index=False), tmp_path / "src.parquet")
    part = ParquetPart(LocalStore(tmp_path), "src.parquet")
    for shards, key in ((1, "src"), (3, MultiPartitionKey({"data_source": "src", "shard": "1"}))):
        log = Lines()
        context = SimpleNamespace(
            partition_key=key,
            assets_def=SimpleNamespace(partitions_def=source_partitions(shards)),
            log=log,
        )
        batches = CountedBatches(context, part, ["id"])
        assert batches.rows == 0  # nothing read before iterating
        ids = [i for batch in batches for i in batch["id"]]
        assert batches.rows == len(ids) and 0 < len(ids) <= 30
        assert expected_rows_of_partition(context, part, "scoring", unit="pairs") == 30 // shards
        expected = [] if shards == 1 else ["scoring: about 10 pairs (source rows / shards)"]
        assert log.messages == expected
