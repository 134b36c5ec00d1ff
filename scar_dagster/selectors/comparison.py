"""Selectors side by side on one pool: each one's subset made by the same ``curate`` (same
dedup, language filter, quotas, cut, report), then one table: rows selected, style spread
against a same-size random subset (the report's ``subset_std / random_std`` of TTR, MTLD,
perplexity and length; a ratio above 1 is flagged), source and origin mix, cost, the pairwise
overlap of the selected ids (Jaccard), and with held-out pairs each selector's preference
accuracy with a Wilson 95% interval."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster.schema import STYLE_METRICS
from scar_dagster.selection import CurationResult, SelectionParams, SelectionRun, curate
from scar_dagster.selection.cutoff import max_rows
from scar_dagster.selection.perplexity import PerplexityReads
from scar_dagster.selectors.base import Selector
from scar_dagster.selectors.pool_input import selector_pool
from scar_dagster.selectors.run import SelectorRun, score_and_store

RATIO_COLUMNS = tuple(f"std_ratio_{metric}" for metric in STYLE_METRICS)


@dataclass(frozen=True)
class SelectorOutcome:
    """One selector's run, subset and (with held-out pairs) preference accuracy."""

    name: str
    run: SelectorRun
    result: CurationResult
    ids: frozenset[str]
    origins: dict[str, int]
    preference: Any = None  # evaluation.accuracy.AccuracyResult, or None

    def ratios(self) -> dict[str, float]:
        """``subset_std / random_std`` per style metric, from the subset's own report."""
        style = self.result.report.style
        return {
            f"std_ratio_{metric}": _ratio(
                style.loc[metric, "subset_std"], style.loc[metric, "random_std"]
            )
            for metric in STYLE_METRICS
        }

    def row(self, extra_seconds: float = 0.0) -> dict[str, Any]:
        """This selector's row of the comparison table."""
        ratios = self.ratios()
        counts = self.result.report.counts
        sources = counts.loc[counts.index != "(all)", "selected"]
        seconds = self.run.seconds + extra_seconds
        computed = self.run.computed or (self.run.reused if extra_seconds else 0)
        row: dict[str, Any] = {
            "selector": self.name,
            "selector_version": self.run.scored_by.version,
            "subset_version": self.result.version,
            "rows_selected": self.result.subset_rows,
            **ratios,
            "above_random": ",".join(m for m in STYLE_METRICS if ratios[f"std_ratio_{m}"] > 1.0)
            or "none",
            "sources": _mix(sources.to_dict()),
            "origins": _mix(self.origins),
            "seconds": round(seconds, 3) if computed else math.nan,
            "pairs_per_s": round(computed / seconds, 2) if computed and seconds > 0 else math.nan,
        }
        if self.preference is not None:
            row.update(
                preference_accuracy=self.preference.accuracy,
                preference_ci95_low=self.preference.ci_low,
                preference_ci95_high=self.preference.ci_high,
                preference_pairs=self.preference.n,
            )
        return row


@dataclass(frozen=True)
class Comparison:
    """The comparison table (one row per selector) and the overlaps of their subsets."""

    table: pd.DataFrame
    overlap: pd.DataFrame
    outcomes: tuple[SelectorOutcome, ...]

    def to_markdown(self) -> str:
        """The table and the overlap matrix as markdown."""
        shown = self.table.drop(columns=["selector_version", "subset_version"], errors="ignore")
        return (
            shown.to_markdown(index=False, floatfmt=".3g")
            + "\n\nOverlap of the selected ids (Jaccard):\n\n"
            + self.overlap.to_markdown(floatfmt=".2f")
        )

    def plot_png(self) -> bytes:
        """PNG: the style spreads vs random per selector, and the overlap matrix."""
        from scar_dagster.plots import figure_png

        names = list(self.table["selector"])

        def draw(axes: Any) -> None:
            width = 0.8 / len(RATIO_COLUMNS)
            for k, column in enumerate(RATIO_COLUMNS):
                positions = np.arange(len(names)) + k * width
                axes[0].bar(positions, self.table[column], width, label=column[10:])
            axes[0].axhline(1.0, color="#c0392b", linewidth=1, linestyle="--")
            axes[0].set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, rotation=30)
            axes[0].set_ylabel("subset std / random std")
            axes[0].legend(fontsize=7)
            image = axes[1].imshow(self.overlap.to_numpy(dtype=float), vmin=0, vmax=1)
            axes[1].set_xticks(range(len(names)), names, rotation=30)
            axes[1].set_yticks(range(len(names)), names)
            axes[1].set_title("overlap (Jaccard)")
            axes[1].figure.colorbar(image, ax=axes[1])

        return figure_png(draw, 2, width=max(5.0, 0.9 * len(names) + 2))


def compare_selectors(
    selectors: Sequence[Selector],
    *,
    pairs: pd.DataFrame | Mapping[str, Any],
    quarantine: pd.DataFrame,
    features: pd.DataFrame | Mapping[str, Any],
    params: SelectionParams,
    engine: Any,
    store: Any,
    prefix: str,
    folder: Path,
    ranker_version: str | None = None,
    heldout: Sequence[Mapping[str, str]] | None = None,
    scar_seconds: float = 0.0,
    run: SelectionRun | None = None,
    perplexity: PerplexityReads | None = None,
    log: Any = None,
) -> Comparison:
    """Score, select and report each of ``selectors`` on the same pool (see the module).

    ``scar_seconds``: what scoring the pool with the StyleRanker cost (its scores come from
    ``scored_pairs``), shown as scar's cost; ``heldout``: rows ``{instruction, preferred,
    other}`` each selector scores on both sides; ``perplexity``: which perplexities each
    report reads and how (``curate``'s; through the perplexity store the LM selectors share).
    """
    outcomes = []
    for selector in selectors:
        pool = selector_pool(
            selector, pairs, features, engine=engine, ranker_version=ranker_version
        )
        budget = max_rows(params, len(pool))
        scored = score_and_store(selector, pool, budget, engine)
        if log is not None:
            log.info(f"{selector.describe()}: {scored.computed} scored, {scored.reused} reused")
        result = curate(
            pairs=pairs,
            quarantine=quarantine,
            features=features,
            scored_by=scored.scored_by,
            params=params,
            engine=engine,
            store=store,
            prefix=prefix,
            folder=Path(folder) / selector.name.replace("+", "_"),
            run=run,
            perplexity=perplexity,
            log=log,
        )
        ids = frozenset(result.subset["id"].astype(str))
        outcomes.append(
            SelectorOutcome(
                name=selector.name,
                run=scored,
                result=result,
                ids=ids,
                origins=_origin_mix(pairs, ids),
                preference=_preference(selector, heldout),
            )
        )
    rows = [o.row(scar_seconds if o.name == "scar" else 0.0) for o in outcomes]
    return Comparison(pd.DataFrame(rows), overlap_matrix(outcomes), tuple(outcomes))


def overlap_matrix(outcomes: Sequence[SelectorOutcome]) -> pd.DataFrame:
    """Jaccard of the selected ids, selector by selector (1 on the diagonal; NaN: both empty)."""
    names = [o.name for o in outcomes]
    table = pd.DataFrame(index=names, columns=names, dtype="float64")
    for a in outcomes:
        for b in outcomes:
            union = len(a.ids | b.ids)
            table.loc[a.name, b.name] = len(a.ids & b.ids) / union if union else math.nan
    return table


def _preference(selector: Selector, heldout: Sequence[Mapping[str, str]] | None) -> Any:
    """The share of held-out pairs whose preferred side the selector scores higher."""
    if not heldout:
        return None
    from scar_dagster.evaluation.accuracy import pairwise_accuracy_from_scores

    instructions = [row["instruction"] for row in heldout] * 2
    responses = [row["preferred"] for row in heldout] + [row["other"] for row in heldout]
    scores = selector.text_scores(instructions, responses)
    if scores is None:
        return None
    n = len(heldout)
    return pairwise_accuracy_from_scores(scores[:n], scores[n:])


def _origin_mix(pairs: pd.DataFrame | Mapping[str, Any], ids: frozenset[str]) -> dict[str, int]:
    """Selected rows per ``origin`` label of the pairs (``(none)`` without one)."""
    from scar_dagster.storage.parquet_parts import read_parts

    if isinstance(pairs, pd.DataFrame):
        frame = pairs[[c for c in ("id", "origin") if c in pairs.columns]]
    else:
        frame = read_parts(pairs, ["id", "origin"])
    frame = frame.assign(id=frame["id"].astype(str)).drop_duplicates("id")
    chosen = frame[frame["id"].isin(ids)]
    labels = chosen["origin"] if "origin" in chosen.columns else pd.Series([None] * len(chosen))
    return dict(sorted(labels.fillna("(none)").astype(str).value_counts().to_dict().items()))


def _mix(counts: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}: {int(v)}" for k, v in sorted(counts.items()) if int(v)) or "-"


def _ratio(subset: Any, random: Any) -> float:
    subset, random = float(subset), float(random)
    return (
        subset / random if random and math.isfinite(random) and math.isfinite(subset) else math.nan
    )
