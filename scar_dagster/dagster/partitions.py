"""The partitioning schemes (a dynamic partition per data source, optionally x a static shard
dimension for the features and scores) and their fan-in helper.

With one shard per source (the default), ``style_features`` and ``scored_pairs`` are partitioned
by ``data_source`` alone, like ``raw_pairs``. With N > 1 they are partitioned by ``data_source`` x
``shard`` (``"0" .. "N-1"``): each ``(source, shard)`` partition gets ``raw_pairs[source]``
through a multi-to-single-dimension partition mapping and reads only the row groups of its
shard (``raw_pairs`` is stored bucket by bucket, ``scar_dagster.storage.shard_layout``), so the
shards of one source run as parallel runs that each read about 1/N of the source.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
from dagster import (
    AssetIn,
    BetaWarning,
    DynamicPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    MultiToSingleDimensionPartitionMapping,
    PartitionsDefinition,
    StaticPartitionsDefinition,
)

from scar_dagster.sharding import check_shard_count
from scar_dagster.storage.parquet_parts import BATCH_ROWS, ParquetPart

LAZY = "lazy"  # AssetIn metadata key: the IO manager loads ParquetPart handles, not DataFrames

DATA_SOURCE_PARTITIONS_NAME = "data_source"
SHARD_DIMENSION = "shard"

data_source_partitions = DynamicPartitionsDefinition(name=DATA_SOURCE_PARTITIONS_NAME)


def shard_partitions(shards: int) -> StaticPartitionsDefinition:
    """The static shard dimension: ``"0" .. str(shards - 1)``."""
    return StaticPartitionsDefinition([str(i) for i in range(check_shard_count(shards))])


def source_partitions(shards: int) -> PartitionsDefinition:
    """``data_source`` alone for one shard, else ``data_source`` x ``shard``."""
    if check_shard_count(shards) == 1:
        return data_source_partitions
    return MultiPartitionsDefinition(
        {
            DATA_SOURCE_PARTITIONS_NAME: data_source_partitions,
            SHARD_DIMENSION: shard_partitions(shards),
        }
    )


def per_source_input(shards: int, **asset_in: Any) -> AssetIn:
    """An ``AssetIn`` on a per-source asset (``raw_pairs``) for a ``source_partitions(shards)``
    asset: the identity for one shard, else every shard of a source reads that source."""
    if check_shard_count(shards) == 1:
        return AssetIn(**asset_in)
    with warnings.catch_warnings():
        # the mapping is a beta API in dagster 1.13; it is the documented way to fan out
        warnings.simplefilter("ignore", BetaWarning)
        mapping = MultiToSingleDimensionPartitionMapping(
            partition_dimension_name=DATA_SOURCE_PARTITIONS_NAME
        )
    return AssetIn(partition_mapping=mapping, **asset_in)


def shard_of_partition(partition_key: str, partitions_def: PartitionsDefinition) -> tuple[int, int]:
    """``(shard, shards)`` of a partition key of ``source_partitions(...)``; ``(0, 1)`` for a
    key of the per-source scheme."""
    if not isinstance(partitions_def, MultiPartitionsDefinition):
        return 0, 1
    dimensions = {d.name: d.partitions_def for d in partitions_def.partitions_defs}
    shards = len(dimensions[SHARD_DIMENSION].get_partition_keys())
    key = (
        partition_key
        if isinstance(partition_key, MultiPartitionKey)
        else partitions_def.get_partition_key_from_str(partition_key)
    )
    return int(key.keys_by_dimension[SHARD_DIMENSION]), shards


def lazy_source_input(shards: int) -> AssetIn:
    """``per_source_input`` loading a ``ParquetPart`` handle instead of a DataFrame."""
    return per_source_input(shards, metadata={LAZY: True})


def pool_inputs() -> dict[str, AssetIn]:
    """The inputs of an asset that selects across every source (``selected_subset``,
    ``selector_comparison``): pairs and features as lazy ``ParquetPart`` handles (the streaming
    path reads columns and chunks), the quarantine as frames, sources not yet materialized
    skipped; the champion as JSON."""
    every = {"allow_missing_partitions": True}
    lazy = {**every, LAZY: True}
    return {
        "raw_pairs": AssetIn(metadata=lazy),
        "raw_quarantine": AssetIn(metadata=every),
        "style_features": AssetIn(metadata=lazy),
        "style_ranker": AssetIn(input_manager_key="json_io_manager"),
    }


def batches_of_partition(
    context: Any,
    part: ParquetPart,
    columns: Sequence[str] | None = None,
    batch_rows: int | None = None,
) -> Iterator[pd.DataFrame]:
    """The rows of ``part`` (a source's ``raw_pairs``) in the shard of ``context``'s partition,
    one Parquet batch of ``batch_rows`` (default ``BATCH_ROWS``, read when called) at a time
    (empty batches skipped): only the shard's row groups are read (``ParquetPart.
    iter_shard_batches``)."""
    shard, shards = shard_of_partition(context.partition_key, context.assets_def.partitions_def)
    yield from part.iter_shard_batches(shard, shards, columns, batch_rows or BATCH_ROWS)


def estimated_rows_of_partition(context: Any, part: ParquetPart) -> tuple[int, bool]:
    """``(rows, estimated)``: the rows of ``part`` in ``context``'s shard, from the footer; for
    a file without the bucket layout an estimate (the source's rows / shards), flagged True."""
    shard, shards = shard_of_partition(context.partition_key, context.assets_def.partitions_def)
    rows = part.shard_num_rows(shard, shards)
    return (rows, False) if rows is not None else (-(-part.num_rows // shards), True)


def expected_rows_of_partition(
    context: Any, part: ParquetPart, step: str, unit: str = "rows"
) -> int:
    """``estimated_rows_of_partition``'s rows, logged to ``context.log`` when an estimate."""
    total, estimated = estimated_rows_of_partition(context, part)
    if estimated:
        context.log.info(f"{step}: about {total:,} {unit} (source rows / shards)")
    return total


class CountedBatches:
    """``batches_of_partition`` as an iterable (read once) that counts the rows it handed on."""

    def __init__(self, context: Any, part: ParquetPart, columns: Sequence[str]) -> None:
        self._batches = batches_of_partition(context, part, columns)
        self.rows = 0

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for batch in self._batches:
            self.rows += len(batch)
            yield batch


def partition_path(partition_key: str) -> str:
    """A partition key as a storage path: ``source`` or ``source/shard``."""
    if isinstance(partition_key, MultiPartitionKey):
        dims = partition_key.keys_by_dimension
        return f"{dims[DATA_SOURCE_PARTITIONS_NAME]}/{dims[SHARD_DIMENSION]}"
    return str(partition_key)


def sorted_partition_keys(partitions_def: PartitionsDefinition, instance: Any) -> list[str]:
    """Every partition key of a ``source_partitions(...)`` definition, by source then shard."""
    keys: Iterable[str] = partitions_def.get_partition_keys(dynamic_partitions_store=instance)

    def order(key: str) -> tuple[str, int]:
        if isinstance(key, MultiPartitionKey):
            dims = key.keys_by_dimension
            return dims[DATA_SOURCE_PARTITIONS_NAME], int(dims[SHARD_DIMENSION])
        return str(key), 0

    return sorted(keys, key=order)


def concat_partitions(parts: Mapping[str, pd.DataFrame | None] | None) -> pd.DataFrame:
    """One frame of every source's (or source x shard's) rows, in partition-key order.

    ``parts`` is what an unpartitioned asset receives from a per-source upstream (the IO
    manager's ``{partition key: frame}``); missing partitions (None, with
    ``allow_missing_partitions``) are skipped, and no frames at all give an empty frame.
    """
    frames = [frame for _, frame in sorted((parts or {}).items()) if frame is not None]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
