"""The subset evaluation as one PNG: win rates with their intervals, held-out losses."""

from __future__ import annotations

from typing import Any

from scar_dagster.plots import figure_png


def subset_evaluation_png(result: Any) -> bytes:
    """Win rate of SCAR against each other model (Wilson 95% bars, 0.5 = no difference) and
    each model's held-out loss, side by side."""
    names = list(result.comparisons)
    rates = [result.comparisons[n].win_rate for n in names]
    bounds = [result.comparisons[n].interval for n in names]
    losses = result.losses()

    def draw(axes: Any) -> None:
        ax = axes[0]
        errors = [
            [max(0.0, r - low) for r, (low, _) in zip(rates, bounds, strict=True)],
            [max(0.0, high - r) for r, (_, high) in zip(rates, bounds, strict=True)],
        ]
        ax.bar(names, rates, yerr=errors, capsize=6, color="#4f6bed")
        ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
        ax.set_ylim(0, 1)
        ax.set_title("SCAR win rate (ties = 1/2), 95% CI")
        axes[1].bar(list(losses), list(losses.values()), color="#e8a33d")
        axes[1].set_title(f"held-out loss (n={result.heldout_rows})")

    return figure_png(draw, 2)
