"""Scoring stage: scored_pairs per data source (or source x shard), written to SQL, incremental
per ranker. Built for a shard count by ``scored_pairs_asset`` (``definitions.build_definitions``).
"""

from dagster import AssetExecutionContext, AssetIn, AssetsDefinition, MaterializeResult, asset

from scar_dagster.dagster.automation import eager_on_new_data
from scar_dagster.dagster.partitions import (
    LAZY,
    CountedBatches,
    expected_rows_of_partition,
    lazy_source_input,
    source_partitions,
)
from scar_dagster.dagster.ranker_stage import champion_version
from scar_dagster.dagster.resources import DatabaseResource, InstructLMResource, StorageResource
from scar_dagster.dagster.retries import IO_RETRY_POLICY, permanent_errors
from scar_dagster.dagster.run_config import ScoringConfig
from scar_dagster.dagster.scoring_metadata import scored_pairs_metadata
from scar_dagster.dagster.versions import part_data_version
from scar_dagster.schema import STYLE_METRICS
from scar_dagster.storage.parquet_parts import ParquetPart

GROUP = "scoring"
SCORING_COLUMNS = ("id", "source", "instruction", "response")


def scored_pairs_asset(shards: int) -> AssetsDefinition:
    """``scored_pairs`` partitioned by source (one shard) or by source x shard."""
    return asset(
        name="scored_pairs",
        partitions_def=source_partitions(shards),
        group_name=GROUP,
        kinds={"pytorch", "sql"},
        ins={
            "raw_pairs": lazy_source_input(shards),
            "style_features": AssetIn(metadata={LAZY: True}),  # same partitions: the identity
            "style_ranker": AssetIn(input_manager_key="json_io_manager"),
        },
        automation_condition=eager_on_new_data(),
        retry_policy=IO_RETRY_POLICY,
        description="The champion StyleRanker's score for every kept pair of a source (with "
        "SCAR_SHARDS > 1: of one shard of it), upserted into the scored_pairs SQL table keyed by "
        "(pair id, ranker version) with the device/dtype used (score_precision); pairs already "
        "scored by that version and precision are not scored again.",
    )(score_partition)


def score_partition(
    context: AssetExecutionContext,
    config: ScoringConfig,
    raw_pairs: ParquetPart,
    style_features: ParquetPart,
    style_ranker: dict,
    storage: StorageResource,
    database: DatabaseResource,
    instruct_lm: InstructLMResource,
) -> MaterializeResult:
    """Score the pairs of one source (shard) that this ranker version has not scored yet,
    streamed batch by batch with the checkpoint loaded once."""
    from scar_dagster.precision import resolve_precision
    from scar_dagster.ranker.inference.incremental import score_new_batches
    from scar_dagster.ranker.model.checkpoint import CheckpointError

    version = champion_version(style_ranker)
    precision = resolve_precision(config.device, config.dtype)
    engine = database.get_engine()
    batches = CountedBatches(context, raw_pairs, SCORING_COLUMNS)
    with permanent_errors(CheckpointError):
        result = score_new_batches(
            storage.asset_store(),
            engine,
            version,
            batches,
            total=expected_rows_of_partition(context, raw_pairs, "scoring", unit="pairs"),
            features=style_features.read(["id", *STYLE_METRICS]),
            cache_dir=instruct_lm.cache_dir,
            batch_size=config.batch_size,
            num_threads=config.num_threads,
            precision=precision,
            log=context.log,
        )
    context.log.info(f"scored {result.scored} new pairs, reused {result.reused} with {version}")
    return MaterializeResult(
        # the source's rows in the table: its pairs (and their features) under this version
        data_version=part_data_version(style_features, version, precision.label),
        metadata=scored_pairs_metadata(
            batches.rows, result, version=version, engine=engine, precision=precision
        ),
    )
