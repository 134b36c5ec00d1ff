"""Content data versions of stored partitions: the digest of the frame they hold (the digest's
own rules are tested in tests/unit/storage/test_frame_digest.py)."""

import pandas as pd

from scar_dagster.storage.frame_digest import frames_digest


def test_a_stored_partition_read_batch_by_batch_has_the_version_of_the_whole(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from scar_dagster.dagster.versions import part_data_version
    from scar_dagster.storage.parquet_parts import ParquetPart
    from scar_dagster.storage.stores import LocalStore

    frame = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(50)],
            "ttr": [i / 50 for i in range(50)],
            "degenerate_reason": [None if i % 7 else "features_empty" for i in range(50)],
        }
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, tmp_path / "many.parquet", row_group_size=8)
    pq.write_table(table.slice(0, 0), tmp_path / "empty.parquet")
    store = LocalStore(tmp_path)
    many, empty = ParquetPart(store, "many.parquet"), ParquetPart(store, "empty.parquet")
    whole, none = many.read(), empty.read()
    assert part_data_version(many, "v1").value == frames_digest(whole.dtypes, [whole], "v1")
    assert part_data_version(many, "v1") != part_data_version(many, "v2")
    assert part_data_version(empty, "v1").value == frames_digest(none.dtypes, [none], "v1")
    assert part_data_version(empty, "v1") != part_data_version(many, "v1")
