"""Is the subset more style-consistent than chance? Its std of each style metric against
same-size seeded random subsets of the same pool (``ratio < 1``: more consistent)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster.schema import STYLE_METRICS
from scar_dagster.selection.cutoff import rows_for_ratio
from scar_dagster.selection.report import random_subset_ids
from scar_dagster.style.consistency import style_consistency

DEFAULT_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)


def _std(stats: dict[str, dict[str, Any]], metric: str) -> float:
    value = stats[metric]["std"]
    return math.nan if value is None else float(value)


def consistency_vs_random(
    pool: pd.DataFrame,
    subset_ids: Iterable[str],
    *,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    columns: Sequence[str] = STYLE_METRICS,
    id_column: str = "id",
) -> pd.DataFrame:
    """Std of each style metric in the subset against same-size seeded random pool subsets.

    Returns a frame indexed by ``metric`` with ``subset_std``, ``random_std_mean`` (mean over the
    seeds), ``random_std_sd`` (sample std over the seeds, NaN with one seed) and
    ``ratio = subset_std / random_std_mean`` (NaN when undefined). Random subsets are drawn from
    all distinct pool ids, subset included, with ``random_subset_ids`` — deterministic for given
    seeds and independent of row order. Stds are ``style_consistency``'s (ddof=1, finite values).
    Subset ids absent from the pool raise ValueError.
    """
    if id_column not in pool.columns:
        raise KeyError(f"consistency_vs_random: pool has no {id_column!r} column")
    if not seeds:
        raise ValueError("consistency_vs_random: need at least one seed")
    table = pool.assign(**{id_column: pool[id_column].astype(str)}).drop_duplicates(id_column)
    table = table.set_index(id_column)
    chosen = sorted({str(i) for i in subset_ids})
    unknown = [i for i in chosen if i not in table.index]
    if unknown:
        raise ValueError(
            f"consistency_vs_random: {len(unknown)} subset id(s) not in the pool, "
            f"e.g. {unknown[:3]}"
        )
    subset_stats = style_consistency(table.loc[chosen], columns)
    random_stats = [
        style_consistency(table.loc[random_subset_ids(table.index, len(chosen), seed)], columns)
        for seed in seeds
    ]
    rows = []
    for metric in columns:
        stds = np.array([_std(stats, metric) for stats in random_stats], dtype=np.float64)
        finite = stds[np.isfinite(stds)]
        mean = float(finite.mean()) if finite.size else math.nan
        sd = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
        subset_std = _std(subset_stats, metric)
        ratio = subset_std / mean if mean and math.isfinite(mean) else math.nan
        rows.append(
            {
                "metric": metric,
                "subset_std": subset_std,
                "random_std_mean": mean,
                "random_std_sd": sd,
                "ratio": ratio,
            }
        )
    return pd.DataFrame(rows).set_index("metric").astype("float64")


def select_ratio(
    pool: pd.DataFrame,
    ratio: float,
    *,
    scores_column: str = "score",
    id_column: str = "id",
) -> list[str]:
    """Ids of the top ``ratio`` of the pool by score (desc), ties by id (asc).

    Takes ``rows_for_ratio(n, ratio)`` distinct ids (rounded down, as the selection asset), but
    at least one when the pool is non-empty: an empty subset has no spread to compare. Rows with
    a NaN score rank last. ``ratio`` must be in (0, 1].
    """
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    for column in (scores_column, id_column):
        if column not in pool.columns:
            raise KeyError(f"select_ratio: pool has no {column!r} column")
    frame = pd.DataFrame(
        {
            "id": pool[id_column].astype(str),
            "score": pd.to_numeric(pool[scores_column], errors="coerce").astype("float64"),
        }
    )
    frame = frame.sort_values(
        ["score", "id"], ascending=[False, True], na_position="last", kind="mergesort"
    ).drop_duplicates("id")
    if frame.empty:
        return []
    k = max(1, rows_for_ratio(len(frame), ratio))
    return frame["id"].head(k).tolist()


def read_table(path: str | Path) -> pd.DataFrame:
    """A Parquet (``.parquet``/``.pq``) or CSV file as a DataFrame."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype={"id": str})
    raise ValueError(f"{path}: expected a .parquet or .csv file")
