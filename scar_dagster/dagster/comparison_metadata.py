"""What a ``selector_comparison`` materialization shows in the Dagster UI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagster import MetadataValue

from scar_dagster.dagster.metadata import column_schema
from scar_dagster.plots import markdown_image

if TYPE_CHECKING:
    from scar_dagster.selectors.comparison import Comparison

READING = (
    "std_ratio_<metric> = the subset's std / a same-size random subset's std, from each "
    "selector's own selection report (below 1: more style-consistent than chance; above 1 is "
    "listed in above_random); overlap = Jaccard of the selected ids; seconds and pairs_per_s = "
    "the selector's scoring on this machine (scar: scored by scored_pairs, not timed here); "
    "preference_* (with pairs_path) = the share of held-out pairs whose preferred side the "
    "selector scores higher, Wilson 95% interval."
)


def comparison_metadata(comparison: Comparison) -> dict[str, Any]:
    """The table, the overlap matrix, the plot of spreads and overlaps, and how to read them."""
    table = comparison.table
    return {
        "dagster/row_count": len(table),
        "dagster/column_schema": column_schema(table),
        "comparison": MetadataValue.md(comparison.to_markdown()),
        "plot": MetadataValue.md(markdown_image(comparison.plot_png(), "spread and overlap")),
        "selectors": ", ".join(table["selector"]),
        "how_to_read": READING,
    }
