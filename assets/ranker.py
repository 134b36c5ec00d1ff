"""Ranker stage: ranker_training_data and style_ranker (champion/challenger, accuracy gate)."""

from pathlib import Path
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetExecutionContext,
    AssetIn,
    Failure,
    MetadataValue,
    Output,
    asset,
    asset_check,
)

from scar_dagster.dagster.metadata import counts_table, frame_metadata, latest_metadata
from scar_dagster.dagster.partitions import concat_partitions
from scar_dagster.dagster.resources import (
    CheckThresholdsResource,
    EncoderResource,
    InstructLMResource,
    LLMEndpointResource,
    StorageResource,
)
from scar_dagster.dagster.run_config import RankerTrainingConfig, TrainingDataConfig

GROUP = "ranker"
BUNDLED_QUADRUPLES = Path(__file__).resolve().parents[1] / "data" / "ranker" / "quadruples.jsonl"


BUNDLED_NOTE = (
    "the bundled demo set (120 quadruples written by a 135M model, rated by a form heuristic): "
    "a ranker trained on it is a demo, not a real ranker"
)


@asset(
    group_name=GROUP,
    kinds={"pandas", "parquet"},
    ins={"raw_pairs": AssetIn(metadata={"allow_missing_partitions": True})},
    description="Ranker training data, read from `path` (local or s3://; default: the bundled "
    "demo set): quadruples (our JSONL), SCAR's released data folder, or preference pairs "
    "(instruction, chosen, rejected); or quadruples generated from a sample of raw_pairs "
    "(referenced = the LM's answer given the human answer as a reference, direct = its own "
    "answer) with the local instruct LM or any OpenAI-compatible endpoint (llm_endpoint), "
    "replies cached for reruns. Rejected rows are counted by reason.",
)
def ranker_training_data(
    context: AssetExecutionContext,
    config: TrainingDataConfig,
    raw_pairs: dict[str, pd.DataFrame] | None,
    instruct_lm: InstructLMResource,
    llm_endpoint: LLMEndpointResource,
    storage: StorageResource,
) -> Output[pd.DataFrame]:
    """Load (any of three formats) or generate the data; every rejected row has its reason."""
    from scar_dagster.dagster.training_backends import TrainingBackends, export_training_data
    from scar_dagster.ranker.data.sourcing import generate_training_data, load_training_data
    from scar_dagster.ranker.data.training_data import TooManyFailures, check_failure_share

    backends = TrainingBackends(config, instruct_lm, llm_endpoint, storage)
    extra: dict[str, Any] = {}
    if config.generate:
        data, build = generate_training_data(
            concat_partitions(raw_pairs),
            backends.chat(config.generation_backend),
            backends.judge,
            sample_size=config.sample_size,
            seed=config.seed,
            prompts=backends.prompts,
            log=context.log,
        )
        try:
            check_failure_share(build, config.max_failure_share)
        except TooManyFailures as error:
            raise Failure(str(error), metadata=backends.usage_metadata()) from error
        extra = {"failure_share": build.failure_share}
    else:
        location = config.location(str(BUNDLED_QUADRUPLES))
        client = storage.s3.get_client() if location.startswith("s3://") else None
        data = load_training_data(
            location, s3_client=client, quality=config.quality, judge=backends.judge
        )
    if config.export_scar_path:
        extra["scar_export"] = MetadataValue.json(export_training_data(config, data, storage))
    bundled = not config.generate and data.origin == str(BUNDLED_QUADRUPLES)
    frame, summary = data.frame(), data.summary()
    preview = (
        ["instruction", "chosen", "rejected"]
        if "chosen" in frame
        else ["instruction", "human", "direct"]
    )
    return Output(
        frame,
        metadata={
            **frame_metadata(frame, [c for c in preview if c in frame]),
            "format": data.format,
            "origin": data.origin,
            "provenance": BUNDLED_NOTE if bundled else data.describe(),
            "judge": backends.judge_label(),
            "judge_is_fallback": backends.judge_is_fallback,
            "rejected": len(data.rejected),
            "rejected_by_reason": counts_table(data.rejected_by_reason()),
            "allowed_pairs": MetadataValue.json(summary["allowed_pairs"]),
            **extra,
            **backends.judge_metadata(),
            **backends.usage_metadata(),
        },
    )


@asset(
    group_name=GROUP,
    kinds={"pytorch", "safetensors"},
    io_manager_key="json_io_manager",
    description="A StyleRanker trained with SCAR's losses on ranker_training_data, or a "
    "published SCAR ranker imported with `published_ranker`; its checkpoint is versioned (config, "
    "data and code; imported: weights and config). It becomes the champion that scoring uses "
    "only if its validation accuracy passes the bar and beats the current champion's on the "
    "same validation split (in-distribution; see ranker_evaluation.pairs_path).",
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
    """Train (or import) a challenger and run the champion/challenger decision."""
    from scar_dagster.plots import markdown_image, training_curves_png
    from scar_dagster.ranker.data.records import records_from_frame
    from scar_dagster.ranker.model import service

    records = records_from_frame(ranker_training_data)
    common = {
        "params": config.to_params(),
        "cache_dir": instruct_lm.cache_dir,
        "min_accuracy": check_thresholds.min_validation_accuracy,
        "log": context.log.info,
    }
    if config.published_ranker:
        decision = service.import_and_promote(
            storage.asset_store(),
            config.published_ranker,
            records,
            encoder=config.encoder,
            trust_remote_code=config.trust_remote_code,
            max_length=config.max_length,
            **common,
        )
    else:
        ranker_config = config.to_ranker_config(encoder.model)
        decision = service.train_and_promote(
            storage.asset_store(),
            records,
            config=ranker_config,
            trust_remote_code=config.trust_remote_code,
            **common,
        )
    value = service.decision_summary(
        decision, split_seed=config.seed, threshold=config.quality_threshold
    )
    upstream = latest_metadata(context.instance, "ranker_training_data") or {}
    origin = upstream.get("provenance", "unknown origin")
    metadata = {
        "trained_version": decision.trained_version,
        "champion_version": decision.champion_version or "none",
        "promoted": decision.promoted,
        "decision": decision.reason,
        "source": f"imported {config.published_ranker}" if config.published_ranker else "trained",
        "training_data" if not config.published_ranker else "validation_data": origin,
        "val_accuracy": decision.challenger_val_accuracy,
        "val_accuracy_quality_filtered": value["val_accuracy_quality_filtered"],
        "test_accuracy": decision.metrics["test"]["reference_accuracy"],
        "test_accuracy_quality_filtered": decision.metrics["test"]["overall"],
        "what_these_measure": service.evaluation_note(origin, config.published_ranker),
        "metrics": MetadataValue.json(decision.metrics),
        "checkpoint": MetadataValue.path(decision.uri),
        **{f"training_{k}": v for k, v in decision.metrics.get("precision", {}).items()},
    }
    if decision.metrics["history"]:
        png = training_curves_png(decision.metrics["history"])
        metadata["training_curves"] = MetadataValue.md(markdown_image(png, "loss and accuracy"))
    return Output(value, metadata=metadata)


@asset_check(
    asset=style_ranker,
    name="style_ranker_validation_accuracy",
    blocking=True,
    description="Validation accuracy of the trained or imported ranker (the reference's "
    "metric: all comparisons of the validation split, ties wrong) is at least "
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
