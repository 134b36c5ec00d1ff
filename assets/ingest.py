"""Ingest stage: raw_pairs and raw_quarantine, one partition per data source."""

import tempfile
from collections.abc import Iterator
from pathlib import Path
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

from scar_dagster.dagster.io_managers import ParquetFileOutput
from scar_dagster.dagster.metadata import counts_table, frame_metadata
from scar_dagster.dagster.partitions import data_source_partitions
from scar_dagster.dagster.resources import StorageResource
from scar_dagster.dagster.retries import IO_RETRY_POLICY, permanent_errors
from scar_dagster.dagster.run_config import IngestConfig
from scar_dagster.dagster.versions import file_data_version
from scar_dagster.ingest.landing import validate_source_name
from scar_dagster.ingest.pipeline import write_source

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
    """Read one source's files from the landing zone into pairs and quarantine rows.

    Both outputs are written row group by row group while the files stream in, so memory
    stays flat however large the source is; the IO manager copies the finished files.
    """
    with permanent_errors(ValueError):  # an invalid source name or config
        source = validate_source_name(context.partition_key)
        params = config.to_params()
    with tempfile.TemporaryDirectory(prefix="scar-ingest-") as folder:
        pairs_path, dropped_path = Path(folder) / "pairs.parquet", Path(folder) / "dropped.parquet"
        result = write_source(
            storage.landing_store(), source, pairs_path, dropped_path, params, log=context.log
        )
        context.log.info(
            f"{source}: {result.input_records} records -> {result.kept} kept, "
            f"{result.duplicates} duplicates, {result.quarantined} quarantined"
        )
        files = {info.key: info.version for info in result.files}
        pairs_columns = ["id", "instruction", "response", "origin_file"]
        yield Output(
            ParquetFileOutput(pairs_path),
            output_name="raw_pairs",
            data_version=file_data_version(pairs_path),
            metadata={
                **frame_metadata(result.pairs_head, pairs_columns),
                "dagster/row_count": result.kept,
                "input_records": result.input_records,
                "duplicates": result.duplicates,
                "quarantined": result.quarantined,
                "files": MetadataValue.json(files),
                "file_sizes": MetadataValue.json({info.key: info.size for info in result.files}),
            },
        )
        dropped_columns = ["origin_file", "origin_line", "reason", "detail"]
        yield Output(
            ParquetFileOutput(dropped_path),
            output_name="raw_quarantine",
            data_version=file_data_version(dropped_path),
            metadata={
                **frame_metadata(result.dropped_head, dropped_columns),
                "dagster/row_count": result.duplicates + result.quarantined,
                "by_reason": counts_table(result.reasons),
            },
        )
    accounted = result.kept + result.duplicates + result.quarantined
    yield AssetCheckResult(
        check_name="raw_pairs_row_accounting",
        asset_key="raw_pairs",
        passed=accounted == result.input_records,
        metadata={
            "input_records": result.input_records,
            "kept": result.kept,
            "duplicates": result.duplicates,
            "quarantined": result.quarantined,
        },
    )
