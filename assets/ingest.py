"""Ingest stage: raw_pairs and raw_quarantine, one partition per data source."""

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetOut,
    Output,
    multi_asset,
)

from scar_dagster.dagster.ingest_metadata import (
    ACCOUNTING_CHECK,
    accounting_check,
    ingest_summary,
    raw_pairs_metadata,
    raw_quarantine_metadata,
    source_data_version,
)
from scar_dagster.dagster.io_managers import ParquetFileOutput
from scar_dagster.dagster.partitions import data_source_partitions
from scar_dagster.dagster.resources import StorageResource
from scar_dagster.dagster.retries import IO_RETRY_POLICY, permanent_errors
from scar_dagster.dagster.run_config import IngestConfig
from scar_dagster.ingest.landing import validate_source_name
from scar_dagster.ingest.pipeline import write_source
from scar_dagster.ingest.source_config import SourceConfigError

GROUP = "ingest"


@multi_asset(
    name="ingest_source",
    outs={
        "raw_pairs": AssetOut(
            description="Normalized instruction/response pairs of one data source, one row per "
            "unique pair, with a stable content id and the file, line and turn it came from.",
            kinds={"pandas", "parquet"},
        ),
        "raw_quarantine": AssetOut(
            description="Every input row of the source that was not kept, with its file, line, "
            "turn and reason code (malformed, missing field, empty, too long, encoding, "
            "duplicate, a path not read).",
            kinds={"pandas", "parquet"},
        ),
    },
    partitions_def=data_source_partitions,
    group_name=GROUP,
    retry_policy=IO_RETRY_POLICY,
    check_specs=[
        AssetCheckSpec(
            ACCOUNTING_CHECK,
            asset="raw_pairs",
            description="Every input row is kept, a duplicate, or quarantined.",
        )
    ],
)
def ingest_source_assets(
    context: AssetExecutionContext, config: IngestConfig, storage: StorageResource
) -> Iterator[Any]:
    """Read one source's files from the landing zone into pairs and quarantine rows.

    Both outputs are written row group by row group while the files stream in, so memory
    stays flat however large the source is; the IO manager copies the finished files. A bad
    ``scar_source.toml`` fails the step at once, before anything is written.
    """
    with permanent_errors(ValueError):  # an invalid source name or run config
        source = validate_source_name(context.partition_key)
        params = config.to_params()
    store = storage.landing_store()
    with tempfile.TemporaryDirectory(prefix="scar-ingest-") as folder:
        pairs_path, dropped_path = Path(folder) / "pairs.parquet", Path(folder) / "dropped.parquet"
        with permanent_errors(SourceConfigError):
            result = write_source(store, source, pairs_path, dropped_path, params, log=context.log)
        context.log.info(ingest_summary(source, result))
        for name, path, metadata in (
            ("raw_pairs", pairs_path, raw_pairs_metadata(result)),
            ("raw_quarantine", dropped_path, raw_quarantine_metadata(result)),
        ):
            version = source_data_version(path, result.read)
            yield Output(ParquetFileOutput(path), name, data_version=version, metadata=metadata)
    yield accounting_check(result)
