"""The one partitioning scheme: a dynamic partition per data source."""

from __future__ import annotations

from dagster import DynamicPartitionsDefinition

DATA_SOURCE_PARTITIONS_NAME = "data_source"

data_source_partitions = DynamicPartitionsDefinition(name=DATA_SOURCE_PARTITIONS_NAME)
