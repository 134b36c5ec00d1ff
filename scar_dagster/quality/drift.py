"""Feature drift between two versions of a table, from per-column mean and std summaries.

The summaries are small JSON dicts (`column_stats`) that an asset records in its materialization
metadata; the next version is compared against them without re-reading the old data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from scar_dagster.quality.expectations import json_safe
from scar_dagster.schema import STYLE_METRICS

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_MAX_SHIFT_IN_STD = 0.5
"""A mean moving by more than half the previous std counts as drift."""

ColumnStats = Mapping[str, Mapping[str, float | None]]


@dataclass(frozen=True)
class DriftResult:
    """Mean shift of one column, in units of the previous std."""

    column: str
    previous_mean: float | None
    current_mean: float | None
    previous_std: float | None
    shift_in_std: float | None
    drifted: bool

    def to_dict(self) -> dict[str, float | str | bool | None]:
        """JSON-safe dict (an infinite shift becomes None)."""
        return json_safe(asdict(self))


def column_stats(df: pd.DataFrame, columns: Sequence[str] = STYLE_METRICS) -> dict[str, dict]:
    """Mean, sample std (ddof=1) and count of each present column's finite values; NaN -> None."""
    from scar_dagster.style.consistency import style_consistency

    present = [column for column in columns if column in df.columns]
    return {
        column: {key: stats[key] for key in ("mean", "std", "count")}
        for column, stats in style_consistency(df, present).items()
    }


def feature_drift(
    previous: ColumnStats,
    current: ColumnStats,
    *,
    max_shift_in_std: float = DEFAULT_MAX_SHIFT_IN_STD,
    columns: Sequence[str] | None = None,
) -> list[DriftResult]:
    """Compare column means: drifted when |current - previous| / previous std > max_shift_in_std.

    Columns default to those present in both summaries (sorted). A column missing on either
    side, or with a missing mean, is reported with `shift_in_std=None` and not drifted. A zero
    previous std makes any change of mean an infinite shift.
    """
    if max_shift_in_std < 0:
        raise ValueError(f"max_shift_in_std must be >= 0, got {max_shift_in_std}")
    names = list(columns) if columns is not None else sorted(set(previous) & set(current))
    results = []
    for column in names:
        prev, cur = previous.get(column) or {}, current.get(column) or {}
        prev_mean, cur_mean = _num(prev.get("mean")), _num(cur.get("mean"))
        prev_std = _num(prev.get("std"))
        shift = _shift(prev_mean, cur_mean, prev_std)
        results.append(
            DriftResult(
                column=column,
                previous_mean=prev_mean,
                current_mean=cur_mean,
                previous_std=prev_std,
                shift_in_std=shift,
                drifted=shift is not None and shift > max_shift_in_std,
            )
        )
    return results


def _shift(prev_mean: float | None, cur_mean: float | None, prev_std: float | None) -> float | None:
    if prev_mean is None or cur_mean is None or prev_std is None:
        return None
    delta = abs(cur_mean - prev_mean)
    if prev_std == 0:
        return 0.0 if delta == 0 else math.inf
    return delta / prev_std


def _num(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None
