"""Pairs the feature stage flagged (``degenerate_reason`` set: empty, too short, ...)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scar_dagster import schema
from scar_dagster.selection.filters.base import ColumnFilter, Dropped


class DegenerateFilter(ColumnFilter):
    """Drops rows whose features are degenerate (the pool's ``_degenerate`` flag)."""

    reason = schema.FEATURES_DEGENERATE
    label = "degenerate features"

    def drop(self, pool: pd.DataFrame, rows: np.ndarray) -> Dropped:
        return Dropped(np.flatnonzero(pool["_degenerate"].to_numpy(dtype=bool)[rows]))
