"""What a ``selected_subset`` materialization shows in the Dagster UI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dagster import MetadataValue

from scar_dagster.dagster.metadata import frame_metadata
from scar_dagster.plots import markdown_image
from scar_dagster.selection import CurationResult

if TYPE_CHECKING:
    import pandas as pd

    from scar_dagster.dagster.selector_stage import ChosenScores

PREVIEW_COLUMNS = ("id", "source", "score", "rank", "response")


def subset_metadata(
    result: CurationResult, ranker_version: str, chosen: ChosenScores | None = None
) -> dict[str, Any]:
    """Rows, preview and schema of the subset, its version and ranker, the selector that
    ranked it and why (``chosen``), where it was exported, the report's tables (per source,
    style spread, diff), the score histogram and the decisions per reason;
    ``pool_style_stats``, ``perplexity_reads`` and ``max_rows`` feed the asset checks."""
    report = result.report
    return {
        **({} if chosen is None else selector_metadata(chosen)),
        **frame_metadata(result.subset_head, PREVIEW_COLUMNS),
        "dagster/row_count": result.subset_rows,
        "subset_version": result.version,
        "ranker_version": ranker_version,
        "dagster/uri": MetadataValue.path(result.uri),
        "report_path": MetadataValue.path(result.report_uri),
        "per_source": MetadataValue.md(report.counts.reset_index().to_markdown(index=False)),
        "style_spread": MetadataValue.md(report.style.reset_index().to_markdown(index=False)),
        "pool_style_stats": MetadataValue.json(result.pool_stats),
        "perplexity_reads": MetadataValue.json(result.perplexity),
        "max_rows": result.max_rows,
        "diff": MetadataValue.md(report.diff.to_markdown() if report.diff else "first version"),
        "score_histogram": MetadataValue.md(markdown_image(result.histogram_png, "scores")),
        "decisions_by_reason": MetadataValue.json(result.reason_counts),
        "selection_path": result.path,
    }


def style_gate_specs(subset: pd.DataFrame, metadata: Mapping[str, Any], thresholds: Any) -> list:
    """The style-consistency gate's expectations for a subset (its style metric columns),
    from its materialization's ``metadata`` (``pool_style_stats``, ``perplexity_reads``) and
    the ``check_thresholds`` resource: every style metric but perplexity when it was off,
    each with the rows its stds are computed on and the ratio's sampling error."""
    from scar_dagster.quality.expectations import figure_rows, style_consistency_specs
    from scar_dagster.schema import STYLE_METRICS

    stats = metadata["pool_style_stats"]
    mode = (metadata.get("perplexity_reads") or {}).get("mode")
    columns = [c for c in STYLE_METRICS if not (c == "perplexity" and mode == "off")]
    return style_consistency_specs(
        {metric: values["std"] for metric, values in stats.items()},
        max_ratio=thresholds.max_std_ratio,
        absolute_max=thresholds.absolute_max_std or None,
        columns=columns,
        meta=figure_rows(stats, subset, columns),
    )


def subset_summary(result: CurationResult, chosen: ChosenScores) -> str:
    """One log line: the subset's version, size, where it is and what ranked it, and why."""
    return (
        f"subset {result.version}: {result.subset_rows} rows at {result.uri} "
        f"({result.path} path), ranked by {chosen.scored_by.selector}: {chosen.reason}"
    )


def selector_metadata(chosen: ChosenScores) -> dict[str, Any]:
    """The selector, its version, why it was chosen, and what scoring it cost."""
    run = chosen.run
    return {
        "selector": chosen.scored_by.selector,
        "selector_requested": chosen.requested,
        "selector_version": chosen.scored_by.version,
        "selector_reason": chosen.reason,
        "selector_description": run.description,
        "selector_scored": run.computed,
        "selector_reused": run.reused,
        "selector_seconds": round(run.seconds, 3),
    }
