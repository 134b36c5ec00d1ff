"""What a ``ranker_evaluation`` materialization shows in the UI: the champion's pairwise accuracy
with its interval and what it measures, and the subset's style spread against random subsets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagster import MetadataValue

if TYPE_CHECKING:
    from scar_dagster.evaluation.champion import ChampionEvaluation


def ranker_evaluation_metadata(
    result: ChampionEvaluation, *, version: str, subset_rows: int
) -> dict[str, Any]:
    """The metadata of an evaluation of ranker ``version`` against a subset of ``subset_rows``."""
    accuracy = result.accuracy
    spread = result.spread.reset_index().to_markdown(index=False, floatfmt=".4f")
    return {
        "ranker_version": version,
        "pairs_origin": result.pairs_origin,
        "in_distribution": result.in_distribution,
        "what_it_measures": result.what_it_measures,
        "pairs": accuracy.n,
        "pairwise_accuracy": accuracy.accuracy,
        "accuracy_ci95_low": accuracy.ci_low,
        "accuracy_ci95_high": accuracy.ci_high,
        "subset_rows": subset_rows,
        "subset_vs_random": MetadataValue.md(spread),
        **{f"std_ratio_{m}": float(r) for m, r in result.spread["ratio"].items()},
    }
