"""What the fine-tune assets show in the Dagster UI: the run record and the subset evaluation."""

from __future__ import annotations

from typing import Any

from dagster import MetadataValue

_HEADLINE_METRICS = (
    "steps",
    "train_tokens",
    "eval_loss_before",
    "eval_loss_after",
    "train_time_s",
    "output_format",
)


def fine_tune_metadata(record: Any, rows: int) -> dict[str, Any]:
    """Lineage, headline numbers and every metric of one ``FineTuneRecord``."""
    metrics = record.metrics
    headline = {name: metrics[name] for name in _HEADLINE_METRICS if metrics.get(name) is not None}
    return {
        "subset_version": record.subset_version,
        "mode": record.mode,
        "base_model": record.base_model,
        "output_dir": MetadataValue.path(str(record.output_dir)),
        "metrics": MetadataValue.json(metrics),
        "rows": rows,
        **headline,
        **metrics.get("precision", {}),
    }
