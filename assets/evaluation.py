"""Evaluation stage: held-out ranking accuracy of the champion and the subset's consistency."""

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, Output, asset

from scar_dagster.dagster.automation import when_inputs_settle
from scar_dagster.dagster.evaluation_metadata import ranker_evaluation_metadata
from scar_dagster.dagster.partitions import LAZY, concat_partitions
from scar_dagster.dagster.ranker_metadata import training_data_origin
from scar_dagster.dagster.resources import InstructLMResource, StorageResource
from scar_dagster.dagster.run_config import EvaluationConfig
from scar_dagster.storage.parquet_parts import ParquetPart

GROUP = "evaluation"


@asset(
    group_name=GROUP,
    kinds={"pytorch", "pandas"},
    io_manager_key="json_io_manager",
    ins={
        "style_ranker": AssetIn(input_manager_key="json_io_manager"),
        "style_features": AssetIn(metadata={"allow_missing_partitions": True}),
        "selected_subset": AssetIn(metadata={LAZY: True}),  # its ids only
    },
    automation_condition=when_inputs_settle(
        triggers=["selected_subset"],
        required=["ranker_training_data", "style_ranker", "selected_subset"],
    ),
    description="The champion ranker's pairwise accuracy (Wilson 95% interval) on a held-out "
    "preference file you trust (pairs_path: the figure to trust) or, by default, on the test "
    "split of its training data (in-distribution), and the subset's style spread against "
    "random subsets of the same size from the same pool (std ratio < 1: more consistent).",
)
def ranker_evaluation(
    context: AssetExecutionContext,
    config: EvaluationConfig,
    style_ranker: dict,
    ranker_training_data: pd.DataFrame,
    selected_subset: ParquetPart,
    style_features: dict[str, pd.DataFrame],
    storage: StorageResource,
    instruct_lm: InstructLMResource,
) -> Output[dict]:
    """Evaluate the champion (``scar_dagster.evaluation.champion``)."""
    from scar_dagster.evaluation.champion import clean_pool, evaluate_champion
    from scar_dagster.ranker.data.records import records_from_frame
    from scar_dagster.ranker.model.registry import load_from_store

    version = style_ranker["champion_version"]
    model, tokenizer = load_from_store(storage.asset_store(), version, instruct_lm.cache_dir)
    result = evaluate_champion(
        model,
        tokenizer,
        pairs_path=config.pairs_path,
        records=records_from_frame(ranker_training_data),
        split_seed=style_ranker.get("split_seed", 42),
        threshold=style_ranker.get("quality_threshold", 5.0),
        data_origin=training_data_origin(context.instance),
        pool=clean_pool(concat_partitions(style_features)),
        subset_ids=selected_subset.read(["id"])["id"],
        seeds=config.seeds,
        batch_size=config.batch_size,
    )
    context.log.info(f"ranker {version}: {result.what_it_measures}: {result.accuracy.accuracy}")
    return Output(
        result.summary(version, config.seeds),
        metadata=ranker_evaluation_metadata(
            result, version=version, subset_rows=selected_subset.num_rows
        ),
    )
