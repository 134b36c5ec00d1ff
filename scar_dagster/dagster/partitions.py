"""The one partitioning scheme (a dynamic partition per data source) and its fan-in helper."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from dagster import DynamicPartitionsDefinition

DATA_SOURCE_PARTITIONS_NAME = "data_source"

data_source_partitions = DynamicPartitionsDefinition(name=DATA_SOURCE_PARTITIONS_NAME)


def concat_partitions(parts: Mapping[str, pd.DataFrame | None] | None) -> pd.DataFrame:
    """One frame of every source's rows, in partition-key order.

    ``parts`` is what an unpartitioned asset receives from a per-source upstream (the IO
    manager's ``{partition key: frame}``); missing partitions (None, with
    ``allow_missing_partitions``) are skipped, and no frames at all give an empty frame.
    """
    frames = [frame for _, frame in sorted((parts or {}).items()) if frame is not None]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
