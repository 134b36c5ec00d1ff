"""Ingest stage: raw_pairs and raw_quarantine, one partition per data source."""

from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetOut,
    MetadataValue,
    Output,
    multi_asset,
)

from scar_dagster.dagster.metadata import counts_table, frame_metadata
from scar_dagster.dagster.partitions import data_source_partitions
from scar_dagster.dagster.resources import StorageResource
from scar_dagster.dagster.retries import IO_RETRY_POLICY, permanent_errors
from scar_dagster.dagster.run_config import IngestConfig
from scar_dagster.dagster.versions import frame_data_version
from scar_dagster.ingest.landing import validate_source_name
from scar_dagster.ingest.pipeline import ingest_source

GROUP = "ingest"


@multi_asset(
    name="ingest_source",
    outs={
        "raw_pairs": AssetOut(
            description="Normalized instruction/response pairs of one data source, one row per "
            "unique pair, with a stable content id and the file and line it came from.",
            kinds={"pandas", "parquet"},
        ),
        "raw_quarantine": AssetOut(
            description="Every input row of the source that was not kept, with its file, line "
            "and reason code (malformed, missing field, empty, too long, encoding, duplicate).",
            kinds={"pandas", "parquet"},
        ),
    },
    partitions_def=data_source_partitions,
    group_name=GROUP,
    retry_policy=IO_RETRY_POLICY,
    check_specs=[
        AssetCheckSpec(
            "raw_pairs_row_accounting",
            asset="raw_pairs",
            description="Every input record is kept, a duplicate, or quarantined.",
        )
    ],
)
def ingest_source_assets(
    context: AssetExecutionContext, config: IngestConfig, storage: StorageResource
) -> Iterator[Any]:
    """Read one source's files from the landing zone into pairs and quarantine rows."""
    with permanent_errors(ValueError):  # an invalid source name or config
        source = validate_source_name(context.partition_key)
        params = config.to_params()
    result = ingest_source(storage.landing_store(), source, params)
    reasons = result.reason_counts()
    context.log.info(
        f"{source}: {result.input_records} records -> {len(result.pairs)} kept, "
        f"{result.duplicates} duplicates, {result.quarantined} quarantined"
    )
    files = {info.key: info.version for info in result.files}
    yield Output(
        result.pairs,
        output_name="raw_pairs",
        data_version=frame_data_version(result.pairs),
        metadata={
            **frame_metadata(result.pairs, ["id", "instruction", "response", "origin_file"]),
            "input_records": result.input_records,
            "duplicates": result.duplicates,
            "quarantined": result.quarantined,
            "files": MetadataValue.json(files),
            "file_sizes": MetadataValue.json({info.key: info.size for info in result.files}),
        },
    )
    yield Output(
        result.dropped,
        output_name="raw_quarantine",
        data_version=frame_data_version(result.dropped),
        metadata={
            **frame_metadata(result.dropped, ["origin_file", "origin_line", "reason", "detail"]),
            "by_reason": counts_table(reasons),
        },
    )
    accounted = len(result.pairs) + result.duplicates + result.quarantined
    yield AssetCheckResult(
        check_name="raw_pairs_row_accounting",
        asset_key="raw_pairs",
        passed=accounted == result.input_records,
        metadata={
            "input_records": result.input_records,
            "kept": len(result.pairs),
            "duplicates": result.duplicates,
            "quarantined": result.quarantined,
        },
    )
