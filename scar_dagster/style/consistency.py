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
    import pandas as pd


def style_consistency(
    df: pd.DataFrame, columns: Sequence[str] = STYLE_METRICS
) -> dict[str, dict[str, float | int | None]]:
    """Return ``{metric: {"mean", "std", "cv", "count"}}`` over the finite values of each column.

    ``std`` uses ddof=1 like pandas; ``cv`` is ``std / |mean|``. NaN and infinite values are
    ignored and counted out; a statistic that is undefined (no values, one value for ``std``,
    zero mean for ``cv``) is None, so the result is JSON-friendly with no NaN.
    """
    missing = [column for column in columns if column not in df.columns]
    if missing:
        raise KeyError(f"style_consistency: missing column(s) {missing}")
    return {
        column: _spread(df[column].to_numpy(dtype="float64", na_value=math.nan))
        for column in columns
    }


def _spread(values: object) -> dict[str, float | int | None]:
    """Mean, sample std, coefficient of variation and count of the finite values."""
    import numpy as np

    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    count = int(finite.size)
    mean = float(finite.mean()) if count else None
    std = float(finite.std(ddof=1)) if count > 1 else None
    cv = std / abs(mean) if std is not None and mean else None
    return {"mean": mean, "std": std, "cv": cv, "count": count}
