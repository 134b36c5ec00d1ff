"""Spread of style metrics over a table: the operational meaning of style consistency.

SCAR (arXiv 2406.10882) shows that selected subsets have a markedly lower standard deviation
of TTR, MTLD and perplexity than the full data; the GX checks and the selection report
compare these numbers between a subset and its pool.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from scar_dagster.schema import STYLE_METRICS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def style_consistency(
    df: pd.DataFrame, columns: Sequence[str] = STYLE_METRICS, *, errors: bool = False
) -> dict[str, dict[str, float | int | None]]:
    """Return ``{metric: {"mean", "std", "cv", "count"}}`` over the finite values of each column.

    ``std`` uses ddof=1 like pandas; ``cv`` is ``std / |mean|``. NaN and infinite values are
    ignored and counted out; a statistic that is undefined (no values, one value for ``std``,
    zero mean for ``cv``) is None, so the result is JSON-friendly with no NaN. ``errors`` adds
    ``std_error`` (the standard error of ``std`` were the values a random sample of a larger
    set, ``std_error``) and ``rows`` (the frame's rows, with a value or not: the set the
    figure stands for).
    """
    missing = [column for column in columns if column not in df.columns]
    if missing:
        raise KeyError(f"style_consistency: missing column(s) {missing}")
    out = {}
    for column in columns:
        values = _finite(df[column].to_numpy(dtype="float64", na_value=math.nan))
        extra = {"std_error": std_error(values), "rows": len(df)} if errors else {}
        out[column] = {**_spread(values), **extra}
    return out


def _finite(values: object) -> np.ndarray:
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    return array[np.isfinite(array)]


def _spread(finite: np.ndarray) -> dict[str, float | int | None]:
    """Mean, sample std, coefficient of variation and count of finite values."""
    count = int(finite.size)
    mean = float(finite.mean()) if count else None
    std = float(finite.std(ddof=1)) if count > 1 else None
    cv = std / abs(mean) if std is not None and mean else None
    return {"mean": mean, "std": std, "cv": cv, "count": count}


def std_error(values: object) -> float | None:
    """The asymptotic standard error of the sample std of ``values`` (finite ones) drawn at
    random from a larger set: ``sqrt((m4 - s**4 (n-3)/(n-1)) / n) / (2 s)``, with ``m4`` the
    fourth central moment (heavy tails, as perplexity has, widen it). None below 4 values or
    for a zero std."""
    finite = _finite(values)
    n = int(finite.size)
    if n < 4:
        return None
    s = float(finite.std(ddof=1))
    if s == 0:
        return None
    m4 = float(((finite - finite.mean()) ** 4).mean())
    variance_of_var = max(m4 - s**4 * (n - 3) / (n - 1), 0.0) / n
    return math.sqrt(variance_of_var) / (2 * s)
