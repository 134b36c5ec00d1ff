"""Scoring stage: scored_pairs per data source, written to SQL, incremental per ranker."""

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AutomationCondition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from scar_dagster.dagster.partitions import data_source_partitions
from scar_dagster.dagster.resources import DatabaseResource, InstructLMResource, StorageResource
from scar_dagster.dagster.retries import IO_RETRY_POLICY, permanent_errors
from scar_dagster.dagster.run_config import ScoringConfig

GROUP = "scoring"
FEATURE_COLUMNS = ["id", "n_words", "ttr", "mtld", "perplexity"]


@asset(
    partitions_def=data_source_partitions,
    group_name=GROUP,
    kinds={"pytorch", "sql"},
    ins={"style_ranker": AssetIn(input_manager_key="json_io_manager")},
    automation_condition=AutomationCondition.eager(),
    retry_policy=IO_RETRY_POLICY,
    description="The champion StyleRanker's score for every kept pair of a source, upserted into "
    "the scored_pairs SQL table keyed by (pair id, ranker version) with the device/dtype used "
    "(score_precision); pairs already scored by that version and precision are not scored again.",
)
def scored_pairs(
    context: AssetExecutionContext,
    config: ScoringConfig,
    raw_pairs: pd.DataFrame,
    style_features: pd.DataFrame,
    style_ranker: dict,
    storage: StorageResource,
    database: DatabaseResource,
    instruct_lm: InstructLMResource,
) -> MaterializeResult:
    """Score the pairs of one source that this ranker version has not scored yet."""
    from scar_dagster.precision import resolve_precision
    from scar_dagster.ranker.checkpoint import CheckpointError
    from scar_dagster.ranker.service import score_with_checkpoint
    from scar_dagster.storage import tables

    version = style_ranker["champion_version"]
    if not version:
        raise Failure(
            "no promoted StyleRanker yet: materialize style_ranker until one passes",
            allow_retries=False,
        )
    precision = resolve_precision(config.device, config.dtype)
    engine = database.get_engine()
    # Scores of another device/dtype are redone (and replaced), never mixed with these.
    done = tables.already_scored(engine, version, raw_pairs["id"].tolist(), precision.label)
    todo = raw_pairs[~raw_pairs["id"].isin(done)]
    with permanent_errors(CheckpointError):
        scores = score_with_checkpoint(
            storage.asset_store(),
            version,
            todo["instruction"].tolist(),
            todo["response"].tolist(),
            cache_dir=instruct_lm.cache_dir,
            batch_size=config.batch_size,
            num_threads=config.num_threads,
            device=precision.device,
            dtype=precision.dtype,
        )
    frame = todo[["id", "source"]].rename(columns={"id": "pair_id"})
    frame = frame.assign(ranker_version=version, score=scores, score_precision=precision.label)
    frame = frame.merge(
        style_features[FEATURE_COLUMNS].rename(columns={"id": "pair_id"}), on="pair_id", how="left"
    )
    tables.upsert_scores(engine, frame)
    context.log.info(f"scored {len(todo)} new pairs, reused {len(done)} with ranker {version}")
    return MaterializeResult(
        metadata={
            "dagster/row_count": len(raw_pairs),
            "rows_scored": len(todo),
            "rows_reused": len(done),
            "ranker_version": version,
            "table": MetadataValue.text(f"scored_pairs @ {tables.masked_url(engine)}"),
            "score_mean": float(pd.Series(scores).mean()) if len(todo) else None,
            "score_precision": precision.label,
            **precision.to_metadata(),
        }
    )
