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
