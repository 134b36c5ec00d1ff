"""Evaluation stage: held-out ranking accuracy of the champion and the subset's consistency."""

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetIn,
    MetadataValue,
    Output,
    asset,
)

from scar_dagster.dagster.automation import when_inputs_settle
from scar_dagster.dagster.resources import InstructLMResource, StorageResource
from scar_dagster.dagster.run_config import EvaluationConfig

GROUP = "evaluation"


@asset(
    group_name=GROUP,
    kinds={"pytorch", "pandas"},
    io_manager_key="json_io_manager",
    ins={
        "style_ranker": AssetIn(input_manager_key="json_io_manager"),
        "style_features": AssetIn(metadata={"allow_missing_partitions": True}),
    },
    automation_condition=when_inputs_settle(
        triggers=["selected_subset"],
        required=["ranker_training_data", "style_ranker", "selected_subset"],
    ),
    description="The champion ranker's pairwise accuracy (Wilson 95% interval) on held-out or "
    "user-provided preference pairs, and the subset's style spread against random subsets of "
    "the same size from the same pool (std ratio < 1: more consistent than chance).",
)
def ranker_evaluation(
    context: AssetExecutionContext,
    config: EvaluationConfig,
    style_ranker: dict,
    ranker_training_data: pd.DataFrame,
    selected_subset: pd.DataFrame,
    style_features: dict[str, pd.DataFrame],
    storage: StorageResource,
    instruct_lm: InstructLMResource,
) -> Output[dict]:
    """Score the evaluation pairs with the champion; compare the subset with random subsets."""
    from scar_dagster.evaluation import (
        consistency_vs_random,
        evaluate_pair_rows,
        heldout_pairs,
        read_pairs,
    )
    from scar_dagster.ranker.service import load_from_store
    from scar_dagster.ranker.training_data import as_quadruples

    version = style_ranker["champion_version"]
    if config.pairs_path:
        rows, origin = read_pairs(config.pairs_path), config.pairs_path
    else:
        quads = as_quadruples(ranker_training_data.to_dict("records"))
        rows = heldout_pairs(
            quads,
            seed=style_ranker.get("split_seed", 42),
            threshold=style_ranker.get("quality_threshold", 5.0),
        )
        origin = "held-out test split of ranker_training_data"
    model, tokenizer = load_from_store(storage.asset_store(), version, instruct_lm.cache_dir)
    accuracy = evaluate_pair_rows(rows, model, tokenizer, batch_size=config.batch_size)
    frames = [f for _, f in sorted(style_features.items()) if f is not None]
    pool = pd.concat(frames, ignore_index=True)
    pool = pool[pool["degenerate_reason"].isna()]
    spread = consistency_vs_random(pool, selected_subset["id"], seeds=config.seeds)
    context.log.info(f"ranker {version}: pairwise accuracy {accuracy.accuracy} on {accuracy.n}")
    value = {
        "ranker_version": version,
        "pairs_origin": origin,
        "accuracy": accuracy.to_frame().iloc[0].to_dict(),
        "subset_vs_random": spread.reset_index().to_dict("records"),
        "seeds": list(config.seeds),
    }
    return Output(
        value,
        metadata={
            "ranker_version": version,
            "pairs_origin": origin,
            "pairs": accuracy.n,
            "pairwise_accuracy": accuracy.accuracy,
            "accuracy_ci95_low": accuracy.ci_low,
            "accuracy_ci95_high": accuracy.ci_high,
            "subset_rows": len(selected_subset),
            "subset_vs_random": MetadataValue.md(
                spread.reset_index().to_markdown(index=False, floatfmt=".4f")
            ),
            **{f"std_ratio_{m}": float(r) for m, r in spread["ratio"].items()},
        },
    )
