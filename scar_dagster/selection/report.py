"""Selection report: per-source counts, style spread before/after, diff, score histogram.

SCAR's evidence for a good subset is a lower standard deviation of TTR, MTLD and
perplexity than the full pool; the report puts pool, subset and a seeded random subset
of the same size (drawn from the eligible rows) side by side so the ranker's effect is
separated from the filters' and from plain subsampling.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster import schema
from scar_dagster.schema import STYLE_METRICS
from scar_dagster.selection.arrow_keys import sort_order, without_repeats
from scar_dagster.selection.decisions import PoolDecisions, decisions_frame
from scar_dagster.selection.reason_codes import REASON_CODES
from scar_dagster.style.consistency import style_consistency

UNKNOWN_SOURCE = "(not a candidate)"


def spread(frame: pd.DataFrame, columns: Sequence[str] = STYLE_METRICS) -> pd.DataFrame:
    """``style_consistency`` as a table: per metric count, mean, std (ddof=1), cv = std/|mean|.

    Undefined statistics (no value, one value for std, zero mean for cv) and metric columns
    absent from ``frame`` give NaN.
    """
    absent = {column: math.nan for column in columns if column not in frame.columns}
    stats = style_consistency(frame.assign(**absent) if absent else frame, columns)
    table = pd.DataFrame.from_dict(stats, orient="index", columns=["count", "mean", "std", "cv"])
    table.index.name = "metric"
    return table.astype({"count": "int64", "mean": "float64", "std": "float64", "cv": "float64"})


def _source_counts(
    source_code: np.ndarray,
    sources: Sequence[str],
    reason_code: np.ndarray,
    reasons: Sequence[str],
    eligible: np.ndarray,
    selected: np.ndarray,
) -> pd.DataFrame:
    """Per source: pool, eligible and selected rows plus one column per drop reason, from
    integer codes (a few bytes per row, no string per row)."""
    n_sources, n_reasons = len(sources), len(reasons)
    cells = np.bincount(
        source_code.astype(np.int64) * n_reasons + reason_code, minlength=n_sources * n_reasons
    ).reshape(n_sources, n_reasons)
    counts = pd.DataFrame(
        {
            "pool": cells.sum(axis=1),
            "eligible": np.bincount(source_code[eligible], minlength=n_sources),
            "selected": np.bincount(source_code[selected], minlength=n_sources),
        },
        index=pd.Index(list(sources), name="source"),
    )
    present = sorted(
        (name, code)
        for code, name in enumerate(reasons)
        if cells[:, code].any() and name != schema.SELECTED
    )
    for name, code in present:  # the drop reasons met, by name
        counts[name] = cells[:, code]
    counts = counts.astype("int64")
    counts.loc["(all)"] = counts.sum()
    return counts


def random_subset_ids(ids: Iterable[str] | pd.Series, size: int, seed: int) -> list[str]:
    """A seeded uniform sample of ``size`` ids (order-independent of the input)."""
    # a Series stays one (Arrow strings, no Python string per id); any other iterable as before
    population = ids if isinstance(ids, pd.Series) else pd.Series(list(ids), dtype=object)
    population = without_repeats(population).reset_index(drop=True)
    picks = random_picks(len(population), size, seed)
    if len(picks) == 0:
        return []
    # positions in the sorted population, without a sorted copy of every id
    order = sort_order(population.to_frame("id"), ["id"])
    return sorted(population.take(order[picks]).tolist())


def random_picks(population: int, size: int, seed: int) -> np.ndarray:
    """Positions of a seeded uniform sample of ``size`` out of ``population`` sorted items
    (``random_subset_ids`` over positions)."""
    size = min(size, population)
    if size <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.random.default_rng(seed).choice(population, size=size, replace=False)


def _style_table(
    table: pd.DataFrame, masks: Mapping[str, np.ndarray], columns: Sequence[str]
) -> pd.DataFrame:
    """Std and CV of ``columns`` over the rows of each mask of ``table``, side by side."""
    present = [c for c in columns if c in table.columns]  # only the metrics are copied
    parts = [
        spread(table.loc[mask, present], columns)[["std", "cv"]].add_prefix(f"{name}_")
        for name, mask in masks.items()
    ]
    return pd.concat(parts, axis=1)


@dataclass(frozen=True)
class SubsetDiff:
    """Added and removed ids against a previous subset, with per-source counts."""

    added: int
    removed: int
    kept: int
    per_source: pd.DataFrame
    added_sample: list[str] = field(default_factory=list)
    removed_sample: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        """Counts, per-source table and id samples as markdown."""
        lines = [f"added {self.added}, removed {self.removed}, kept {self.kept}", ""]
        if len(self.per_source):
            lines += [_markdown_table(self.per_source.reset_index()), ""]
        for label, ids in (("added", self.added_sample), ("removed", self.removed_sample)):
            if ids:
                lines.append(f"- {label} (sample): " + ", ".join(f"`{i}`" for i in ids))
        return "\n".join(lines)


def _previous_sources(previous: pd.DataFrame | Mapping[str, str] | Iterable[str]) -> dict:
    if isinstance(previous, pd.DataFrame):
        rows = previous[previous["selected"]] if "selected" in previous.columns else previous
        return dict(zip(rows["id"].astype(str), rows["source"].astype(str), strict=True))
    if isinstance(previous, Mapping):
        return {str(k): str(v) for k, v in previous.items()}
    return {str(pid): None for pid in previous}


def diff_subsets(
    decisions: pd.DataFrame,
    previous: pd.DataFrame | Mapping[str, str] | Iterable[str],
    *,
    sample: int = 10,
) -> SubsetDiff:
    """Compare the selected ids of ``decisions`` with a previous subset.

    ``previous`` is that version's decisions frame, a mapping id -> source, or plain ids
    (then sources come from the current candidates, ``(not a candidate)`` otherwise).
    """
    current = decisions[decisions["selected"]]
    now = dict(zip(current["id"], current["source"], strict=True))
    before = _previous_sources(previous)
    added = sorted(set(now) - set(before))
    removed = sorted(set(before) - set(now))
    unknown = [pid for pid in removed if not before[pid]]
    known = decisions[decisions["id"].isin(unknown)] if unknown else decisions.iloc[:0]
    candidates = dict(zip(known["id"], known["source"], strict=True))
    rows = [(now[pid], "added") for pid in added]
    rows += [(before[pid] or candidates.get(pid, UNKNOWN_SOURCE), "removed") for pid in removed]
    table = pd.DataFrame(rows, columns=["source", "change"])
    per_source = pd.crosstab(table["source"], table["change"]).reindex(
        columns=["added", "removed"], fill_value=0
    )
    per_source.columns.name = None
    return SubsetDiff(
        added=len(added),
        removed=len(removed),
        kept=len(set(now) & set(before)),
        per_source=per_source.astype("int64"),
        added_sample=added[:sample],
        removed_sample=removed[:sample],
    )


@dataclass(frozen=True)
class SelectionReport:
    """Everything the selection asset shows: counts, style spread, diff and notes."""

    subset_version: str
    counts: pd.DataFrame
    style: pd.DataFrame
    diff: SubsetDiff | None
    notes: list[str]

    def to_markdown(self) -> str:
        """The report as markdown (tables rendered without extra dependencies)."""
        lines = [f"## Selection `{self.subset_version}`", "", "### Rows per source", ""]
        lines += [_markdown_table(self.counts.reset_index()), "", "### Style spread", ""]
        lines += [_markdown_table(self.style.reset_index()), ""]
        if self.diff is not None:
            lines += ["### Diff with the previous subset", "", self.diff.to_markdown()]
        if self.notes:
            lines += ["", "### Notes", ""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


def build_report(
    pool: pd.DataFrame,
    rows: PoolDecisions,
    subset_version: str,
    *,
    previous: pd.DataFrame | Mapping[str, str] | Iterable[str] | None = None,
    seed: int = 0,
) -> SelectionReport:
    """The report of a decided pool (``pool.with_scores``' frame, sorted by id, and
    ``decide``'s arrays), from integer codes and row masks: no decision frame of the whole
    pool is made (``previous`` None: first version, no diff)."""
    source_code, sources = pd.factorize(pool["source"], sort=True)
    counts = _source_counts(
        source_code, list(sources), rows.reason, REASON_CODES, rows.eligible, rows.chosen
    )
    eligible = np.flatnonzero(rows.eligible)  # in pool order, i.e. by id
    random = np.zeros(len(pool), dtype=bool)
    random[eligible[random_picks(len(eligible), int(rows.chosen.sum()), seed)]] = True
    masks = {"pool": np.ones(len(pool), dtype=bool), "subset": rows.chosen, "random": random}
    chosen = decisions_frame(pool, rows, rows.selected_rows)
    return SelectionReport(
        subset_version=subset_version,
        counts=counts,
        style=_style_table(pool, masks, STYLE_METRICS),
        diff=None if previous is None else diff_subsets(chosen, previous),
        notes=list(rows.notes),
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value).replace("|", "\\|")


def _markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(_cell(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join([header, rule, *body])


def score_histogram_png(pool: pd.DataFrame, rows: PoolDecisions, *, bins: int = 30) -> bytes:
    """PNG bytes of the eligible pool's score histogram with the selected rows overlaid."""
    scores = pool["score"].to_numpy(dtype="float64")
    return _histogram_png(scores[rows.eligible], scores[rows.chosen], bins)


def _histogram_png(scores: np.ndarray, chosen: np.ndarray, bins: int) -> bytes:
    from scar_dagster.plots import figure_png

    edges = np.histogram_bin_edges(scores, bins=bins) if len(scores) else bins

    def draw(axes: Any) -> None:
        axes[0].hist(scores, bins=edges, color="#9aa5b1", label="eligible")
        axes[0].hist(chosen, bins=edges, color="#2f6fde", label="selected")
        axes[0].set_xlabel("style score")
        axes[0].set_ylabel("pairs")
        axes[0].legend()

    return figure_png(draw, 1, width=6.0)
