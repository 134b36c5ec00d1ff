"""Ranker stage: ranker_training_data and style_ranker (champion/challenger, accuracy gate)."""

from pathlib import Path

import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetExecutionContext,
    AssetIn,
    Output,
    asset,
    asset_check,
)

from scar_dagster.dagster.ranker_metadata import (
    latest_training_data_kind,
    style_ranker_metadata,
    training_data_kind,
    training_data_metadata,
    training_data_origin,
)
from scar_dagster.dagster.ranker_stage import read_or_generate_training_data, train_or_import_ranker
from scar_dagster.dagster.resources import (
    CheckThresholdsResource,
    EncoderResource,
    InstructLMResource,
    LLMEndpointResource,
    StorageResource,
)
from scar_dagster.dagster.run_config import RankerTrainingConfig, TrainingDataConfig
from scar_dagster.dagster.training_backends import TrainingBackends, export_training_data

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
    "replies cached for reruns. Quarantined rows are counted by reason.",
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
    backends = TrainingBackends(config, instruct_lm, llm_endpoint, storage)
    data, failure_share = read_or_generate_training_data(
        config,
        raw_pairs,
        backends,
        default_location=str(BUNDLED_QUADRUPLES),
        log=context.log,
    )
    export = export_training_data(config, data, storage) if config.export_scar_path else None
    bundled = not config.generate and data.origin == str(BUNDLED_QUADRUPLES)
    frame = data.frame()
    return Output(
        frame,
        metadata=training_data_metadata(
            data,
            frame,
            backends,
            provenance=BUNDLED_NOTE if bundled else data.describe(),
            kind=training_data_kind(
                data,
                bundled=bundled,
                generated_by=config.generation_backend if config.generate else None,
            ),
            failure_share=failure_share,
            scar_export=export,
        ),
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
    from scar_dagster.ranker.data.records import records_from_frame
    from scar_dagster.ranker.model.service import decision_summary

    decision = train_or_import_ranker(
        config,
        records_from_frame(ranker_training_data),
        storage.asset_store(),
        encoder_model=encoder.model,
        cache_dir=instruct_lm.cache_dir,
        min_accuracy=check_thresholds.min_validation_accuracy,
        log=context.log,
    )
    value = decision_summary(decision, split_seed=config.seed, threshold=config.quality_threshold)
    metadata = style_ranker_metadata(
        decision,
        value,
        origin=training_data_origin(context.instance),
        published_ranker=config.published_ranker,
        data_kind=latest_training_data_kind(context.instance),
    )
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
