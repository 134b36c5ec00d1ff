"""Ranker stage: ranker_training_data and style_ranker (champion/challenger, accuracy gate)."""

from pathlib import Path

import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetExecutionContext,
    AssetIn,
    MetadataValue,
    Output,
    asset,
    asset_check,
)

from scar_dagster.dagster.metadata import counts_table, frame_metadata
from scar_dagster.dagster.resources import (
    CheckThresholdsResource,
    EncoderResource,
    InstructLMResource,
    StorageResource,
)
from scar_dagster.dagster.run_config import RankerTrainingConfig, TrainingDataConfig

GROUP = "ranker"
BUNDLED_QUADRUPLES = Path(__file__).resolve().parents[1] / "data" / "ranker" / "quadruples.jsonl"


@asset(
    group_name=GROUP,
    kinds={"pandas", "parquet"},
    ins={"raw_pairs": AssetIn(metadata={"allow_missing_partitions": True})},
    description="Training quadruples (instruction, human, referenced = LM rewrite of the human "
    "answer, direct = LM answer) with 0-9 qualities: read from a file (default: the bundled set) "
    "or generated from a sample of raw_pairs with the local instruct LM.",
)
def ranker_training_data(
    context: AssetExecutionContext,
    config: TrainingDataConfig,
    raw_pairs: dict[str, pd.DataFrame] | None,
    instruct_lm: InstructLMResource,
) -> Output[pd.DataFrame]:
    """Load or generate quadruples; rows failing validation are dropped with their reason."""
    from scar_dagster.ranker.judge import HeuristicJudge
    from scar_dagster.ranker.training_data import (
        generate_quadruples,
        load_quadruples,
        rate_quadruples,
        sample_pairs_for_training,
    )

    if config.generate:
        frames = [f for f in (raw_pairs or {}).values() if f is not None]
        if not frames:
            raise ValueError("generate: true needs raw_pairs: ingest at least one source first")
        pool = pd.concat(frames, ignore_index=True)
        sample = sample_pairs_for_training(pool, config.sample_size, config.seed)
        tokenizer, model = instruct_lm.load()
        rows = generate_quadruples(
            sample[["instruction", "response"]].itertuples(index=False, name=None),
            tokenizer,
            model,
            max_new_tokens=config.max_new_tokens,
            seed=config.seed,
            judge=HeuristicJudge(),
        )
        rejected: list = []
        origin = f"generated from {len(sample)} raw pairs by {instruct_lm.model}"
    else:
        path = config.quadruples_path or str(BUNDLED_QUADRUPLES)
        rows, rejected = load_quadruples(path)
        rows, unrated = rate_quadruples(rows, HeuristicJudge())
        rejected += unrated
        origin = path
    frame = pd.DataFrame(rows)
    reasons: dict[str, int] = {}
    for row in rejected:
        reasons[row.reason] = reasons.get(row.reason, 0) + 1
    return Output(
        frame,
        metadata={
            **frame_metadata(frame, ["instruction", "human", "direct", "quality_direct"]),
            "origin": origin,
            "rejected": len(rejected),
            "rejected_by_reason": counts_table(dict(sorted(reasons.items()))),
        },
    )


@asset(
    group_name=GROUP,
    kinds={"pytorch", "safetensors"},
    io_manager_key="json_io_manager",
    description="A StyleRanker trained with SCAR's losses; its checkpoint (safetensors + config + "
    "metrics) is versioned by config, data and code. It becomes the champion that scoring uses "
    "only if it passes the accuracy bar and beats the current champion on this validation set.",
)
def style_ranker(
    context: AssetExecutionContext,
    config: RankerTrainingConfig,
    ranker_training_data: pd.DataFrame,
    storage: StorageResource,
    encoder: EncoderResource,
    instruct_lm: InstructLMResource,
    check_thresholds: CheckThresholdsResource,
) -> Output[dict]:
    """Train a challenger and run the champion/challenger decision."""
    from scar_dagster.plots import markdown_image, training_curves_png
    from scar_dagster.ranker.service import train_and_promote
    from scar_dagster.ranker.training_data import as_quadruples

    decision = train_and_promote(
        storage.asset_store(),
        as_quadruples(ranker_training_data.to_dict("records")),
        config=config.to_ranker_config(encoder.model),
        params=config.to_params(),
        cache_dir=instruct_lm.cache_dir,
        min_accuracy=check_thresholds.min_validation_accuracy,
        log=context.log.info,
    )
    png = training_curves_png(decision.metrics["history"])
    value = {
        "trained_version": decision.trained_version,
        "champion_version": decision.champion_version,
        "promoted": decision.promoted,
        "reason": decision.reason,
        "val_accuracy": decision.challenger_val_accuracy,
        "champion_val_accuracy": decision.champion_val_accuracy,
        "test": decision.metrics["test"],
        "uri": decision.uri,
        "split_seed": config.seed,
        "quality_threshold": config.quality_threshold,
    }
    return Output(
        value,
        metadata={
            "trained_version": decision.trained_version,
            "champion_version": decision.champion_version or "none",
            "promoted": decision.promoted,
            "decision": decision.reason,
            "val_accuracy": decision.challenger_val_accuracy,
            "test_accuracy": decision.metrics["test"]["overall"],
            "metrics": MetadataValue.json(decision.metrics),
            "checkpoint": MetadataValue.path(decision.uri),
            "training_curves": MetadataValue.md(markdown_image(png, "loss and accuracy")),
            **{f"training_{k}": v for k, v in decision.metrics["precision"].items()},
        },
    )


@asset_check(
    asset=style_ranker,
    name="style_ranker_validation_accuracy",
    blocking=True,
    description="Validation pairwise accuracy of the trained ranker is at least "
    "min_validation_accuracy (default 0.7).",
)
def style_ranker_validation_accuracy(
    context: AssetCheckExecutionContext,
    style_ranker: dict,
    check_thresholds: CheckThresholdsResource,
) -> AssetCheckResult:
    """Gate scoring on a ranker that ranks held-out pairs well enough."""
    accuracy = style_ranker["val_accuracy"]
    bound = check_thresholds.min_validation_accuracy
    return AssetCheckResult(
        passed=accuracy is not None and accuracy >= bound,
        metadata={
            "val_accuracy": accuracy,
            "min_validation_accuracy": bound,
            "promoted": style_ranker["promoted"],
        },
    )
