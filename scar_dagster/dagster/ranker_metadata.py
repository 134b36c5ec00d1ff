"""What the ranker stage shows in the UI: the training data's format, provenance, judge and
quarantined rows (``ranker_training_data``); the champion/challenger decision, accuracies, what they
measure and the training curves (``style_ranker``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from dagster import MetadataValue

from scar_dagster.dagster.metadata import counts_table, frame_metadata, latest_metadata
from scar_dagster.dagster.training_backends import TrainingBackends

if TYPE_CHECKING:
    from scar_dagster.ranker.data.sourcing import TrainingData
    from scar_dagster.ranker.model.service import RankerDecision

QUADRUPLE_PREVIEW = ("instruction", "human", "direct")
PREFERENCE_PREVIEW = ("instruction", "chosen", "rejected")
UNKNOWN_ORIGIN = "unknown origin"


def training_data_kind(data: TrainingData, *, bundled: bool, generated_by: str | None) -> str:
    """What kind of ranker this training data makes (``selectors.auto.RANKER_KINDS``):
    ``generated_by`` is the generation backend (``local``/``endpoint``) when generated."""
    from scar_dagster.ranker.data.sourcing import PREFERENCE_PAIRS, SCAR_FOLDER
    from scar_dagster.selectors import auto

    if bundled:
        return auto.BUNDLED_DEMO
    if generated_by is not None:
        return auto.ENDPOINT_GENERATED if generated_by == "endpoint" else auto.LOCAL_GENERATED
    return {SCAR_FOLDER: auto.SCAR_DATA, PREFERENCE_PAIRS: auto.PREFERENCE_PAIRS}.get(
        data.format, auto.QUADRUPLE_FILE
    )


def training_data_metadata(
    data: TrainingData,
    frame: pd.DataFrame,
    backends: TrainingBackends,
    *,
    provenance: str,
    kind: str,
    failure_share: float | None = None,
    scar_export: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The metadata of ``ranker_training_data``: ``frame`` is ``data.frame()``, ``provenance``
    what the UI says the data is, ``failure_share`` the share of generation requests lost (only
    when generated), ``scar_export`` the summary of its export in SCAR's layout (if any)."""
    preview = PREFERENCE_PREVIEW if "chosen" in frame else QUADRUPLE_PREVIEW
    optional: dict[str, Any] = {} if failure_share is None else {"failure_share": failure_share}
    if scar_export is not None:
        optional["scar_export"] = MetadataValue.json(scar_export)
    return {
        **frame_metadata(frame, [c for c in preview if c in frame]),
        "format": data.format,
        "origin": data.origin,
        "provenance": provenance,
        "training_data_kind": kind,
        "judge": backends.judge_label(),
        "judge_is_fallback": backends.judge_is_fallback,
        "quarantined": len(data.quarantined),
        "quarantined_by_reason": counts_table(data.quarantined_by_reason()),
        "allowed_pairs": MetadataValue.json(data.summary()["allowed_pairs"]),
        **optional,
        **backends.judge_metadata(),
        **backends.usage_metadata(),
    }


def training_data_origin(instance: Any) -> str:
    """The ``provenance`` of the latest ``ranker_training_data`` (``unknown origin`` without)."""
    upstream = latest_metadata(instance, "ranker_training_data") or {}
    return upstream.get("provenance", UNKNOWN_ORIGIN)


def latest_training_data_kind(instance: Any) -> str:
    """The ``training_data_kind`` of the latest ``ranker_training_data`` (``unknown``)."""
    upstream = latest_metadata(instance, "ranker_training_data") or {}
    return upstream.get("training_data_kind", "unknown")


def champion_kind(instance: Any, version: str, *, limit: int = 200) -> str:
    """The ``ranker_kind`` of the ``style_ranker`` materialization that trained or imported
    ranker ``version`` (the newest of the last ``limit``; ``unknown`` when none says)."""
    from dagster import AssetKey, AssetRecordsFilter

    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey("style_ranker")), limit=limit
    ).records
    for record in records:
        metadata = record.asset_materialization.metadata if record.asset_materialization else {}
        trained = metadata.get("trained_version")
        if trained is not None and trained.value == version and "ranker_kind" in metadata:
            return str(metadata["ranker_kind"].value)
    return "unknown"


def style_ranker_metadata(
    decision: RankerDecision,
    value: dict,
    *,
    origin: str,
    published_ranker: str | None,
    data_kind: str = "unknown",
) -> dict[str, Any]:
    """The metadata of ``style_ranker``: ``value`` is the asset's value
    (``service.decision_summary``), ``origin`` the training data's provenance and ``data_kind``
    its kind, ``published_ranker`` the published ranker imported (None: trained); its
    ``ranker_kind`` is what ``selector: auto`` reads."""
    from scar_dagster.plots import markdown_image, training_curves_png
    from scar_dagster.ranker.model.service import evaluation_note

    metrics = decision.metrics
    metadata = {
        "trained_version": decision.trained_version,
        "champion_version": decision.champion_version or "none",
        "promoted": decision.promoted,
        "decision": decision.reason,
        "source": f"imported {published_ranker}" if published_ranker else "trained",
        "ranker_kind": "published" if published_ranker else data_kind,
        "training_data" if not published_ranker else "validation_data": origin,
        "val_accuracy": decision.challenger_val_accuracy,
        "val_accuracy_quality_filtered": value["val_accuracy_quality_filtered"],
        "test_accuracy": metrics["test"]["reference_accuracy"],
        "test_accuracy_quality_filtered": metrics["test"]["overall"],
        "what_these_measure": evaluation_note(origin, published_ranker),
        "metrics": MetadataValue.json(metrics),
        "checkpoint": MetadataValue.path(decision.uri),
        **{f"training_{k}": v for k, v in metrics.get("precision", {}).items()},
    }
    if metrics["history"]:
        png = training_curves_png(metrics["history"])
        metadata["training_curves"] = MetadataValue.md(markdown_image(png, "loss and accuracy"))
    return metadata
