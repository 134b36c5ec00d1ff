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


def latest_subset_version(instance: Any) -> str:
    """The subset version ``selected_subset`` last materialized (a clear error without one)."""
    from scar_dagster.dagster.metadata import latest_metadata

    metadata = latest_metadata(instance, "selected_subset")
    if not metadata or not metadata.get("subset_version"):
        raise ValueError("selected_subset has no materialization to evaluate: materialize it first")
    return metadata["subset_version"]


def subset_evaluation_metadata(result: Any) -> dict[str, Any]:
    """Win rates with intervals, ties and exclusions, held-out losses, answer lengths, a plot."""
    from scar_dagster.evaluation.subset_plot import subset_evaluation_png
    from scar_dagster.plots import markdown_image

    out: dict[str, Any] = {
        "subset_version": result.subset_version,
        "heldout": f"{result.heldout_rows} instructions: {result.heldout_origin}",
        "pool_rows": result.pool_rows,
        "removed_for_heldout": result.removed_for_heldout,
        "judge": result.judge,
        "judge_requests": result.judge_requests,
        "training_rows": MetadataValue.json({a: r.rows for a, r in result.arms.items()}),
        "heldout_loss": MetadataValue.md(_table(result.losses(), "model", "held-out loss")),
        "answer_lengths": MetadataValue.md(_lengths_table(result.arms)),
        "plot": MetadataValue.md(markdown_image(subset_evaluation_png(result), "win rates")),
        "notes": MetadataValue.md("\n".join(f"- {n}" for n in result.notes) or "_none_"),
    }
    for name, rate in result.comparisons.items():
        low, high = rate.interval
        out[f"{name}_win_rate"] = rate.win_rate
        out[f"{name}_ci95"] = f"[{low:.3f}, {high:.3f}]"
        out[f"{name}_counts"] = MetadataValue.json(rate.to_dict())
    for model, loss in result.losses().items():
        out[f"heldout_loss_{model}"] = loss
    return out


def _table(values: dict[str, float], key: str, column: str) -> str:
    lines = [f"| {key} | {column} |", "| --- | ---: |"]
    return "\n".join(lines + [f"| {k} | {v:.4f} |" for k, v in values.items()])


def _lengths_table(arms: dict[str, Any]) -> str:
    lines = ["| model | mean words | median words | at token cap |", "| --- | ---: | ---: | ---: |"]
    for arm, r in arms.items():
        n = r.lengths
        lines.append(
            f"| {arm} | {n['mean_words']:.1f} | {n['median_words']:.1f} | {n['capped_share']:.0%} |"
        )
    return "\n".join(lines)
