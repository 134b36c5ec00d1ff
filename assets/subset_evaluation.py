"""Subset evaluation stage: does the subset train a better model than a random one? On demand."""

from dagster import AssetExecutionContext, AssetIn, Output, asset

from scar_dagster.dagster.finetune_metadata import (
    latest_subset_version,
    subset_evaluation_metadata,
)
from scar_dagster.dagster.partitions import LAZY
from scar_dagster.dagster.resources import (
    DatabaseResource,
    FineTuneResource,
    InstructLMResource,
    LLMEndpointResource,
    StorageResource,
)
from scar_dagster.dagster.run_config import SubsetEvaluationConfig
from scar_dagster.evaluation import subset_split as split
from scar_dagster.evaluation.subset_answers import ANSWERS_PREFIX
from scar_dagster.evaluation.subset_run import evaluate_subset
from scar_dagster.llm.cache import ResponseCache
from scar_dagster.storage.parquet_parts import ParquetPart, take_from_parts
from scar_dagster.storage.tables import read_decisions

GROUP = "subset_evaluation"
TEXT_COLUMNS = ["instruction", "response"]


@asset(
    group_name=GROUP,
    kinds={"pytorch", "trl"},
    io_manager_key="json_io_manager",
    ins={
        "selected_subset": AssetIn(metadata={LAZY: True}),  # its version only
        "raw_pairs": AssetIn(metadata={"allow_missing_partitions": True, LAZY: True}),
    },
    description="On demand: the same base model fine-tuned with the same settings on the subset, "
    "on a seeded random subset of the same size from the same eligible pool and on the whole "
    "pool; their losses on held-out instructions that no training set holds, and SCAR's "
    "pairwise win rates (judge: llm_endpoint, both orders) with Wilson 95% intervals.",
)
def subset_evaluation(
    context: AssetExecutionContext,
    config: SubsetEvaluationConfig,
    selected_subset: ParquetPart,
    raw_pairs: dict[str, ParquetPart],
    database: DatabaseResource,
    storage: StorageResource,
    fine_tune: FineTuneResource,
    instruct_lm: InstructLMResource,
    llm_endpoint: LLMEndpointResource,
) -> Output[dict]:
    """Evaluate the latest subset version (``scar_dagster.evaluation.subset_run``)."""
    version = latest_subset_version(context.instance)
    pool, subset_ids = split.pool_from_decisions(
        read_decisions(database.get_engine(), version),
        lambda ids: take_from_parts(raw_pairs, ids, TEXT_COLUMNS),
    )
    params = config.to_params()
    evaluation_split = split.split_for_evaluation(
        pool,
        subset_ids,
        heldout_size=params.heldout_size,
        seed=params.seed,
        heldout=split.heldout_from_file(config.heldout_path) if config.heldout_path else None,
        heldout_origin=config.heldout_path,
        include_full=params.include_full,
    )
    result = evaluate_subset(
        evaluation_split,
        subset_version=version,
        base_model_path=instruct_lm.get_path(),
        fine_tune=fine_tune.trainer_for(instruct_lm.get_path()),
        settings=fine_tune.settings(),
        loss_params=fine_tune.to_params(),
        params=params,
        root=f"{fine_tune.output_root}/{GROUP}",
        answer_cache=ResponseCache(storage.asset_store(), ANSWERS_PREFIX),
        judge=llm_endpoint.get_client(storage.asset_store()),
        log=context.log,
    )
    return Output(result.to_dict(), metadata=subset_evaluation_metadata(result))
