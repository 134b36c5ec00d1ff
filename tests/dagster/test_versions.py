"""Content data versions: equal frames agree, any change of a cell, order, dtype or context not."""

import pandas as pd

from scar_dagster.dagster.versions import frame_data_version


def test_frame_data_version_follows_content_only():
    frame = pd.DataFrame({"id": ["a", "b"], "score": [0.5, None], "line": [1, 2]})
    version = frame_data_version(frame)
    assert frame_data_version(frame.copy()) == version
    assert frame_data_version(frame.set_axis([7, 8])) == version  # the index is not content
    changed = frame.assign(score=[0.5, 0.25])
    assert frame_data_version(changed) != version
    assert frame_data_version(frame.iloc[::-1]) != version
    assert frame_data_version(frame.astype({"line": "float64"})) != version
    assert frame_data_version(frame, "ranker-2") != frame_data_version(frame, "ranker-1")
    assert len(version.value) == 24


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
    assert part_data_version(many, "v1") == frame_data_version(many.read(), "v1")
    assert part_data_version(many, "v1") != part_data_version(many, "v2")
    assert part_data_version(empty, "v1") == frame_data_version(empty.read(), "v1")
    assert part_data_version(empty, "v1") != part_data_version(many, "v1")
