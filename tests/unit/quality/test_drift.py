"""Feature drift: planted mean shifts are flagged, identical stats are not."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from scar_dagster.quality.drift import column_stats, feature_drift

STATS = {
    "ttr": {"mean": 0.6, "std": 0.05},
    "n_words": {"mean": 120.0, "std": 30.0},
}


def test_identical_stats_do_not_drift():
    results = feature_drift(STATS, STATS)
    assert [r.column for r in results] == ["n_words", "ttr"]
    assert not any(r.drifted for r in results)
    assert all(r.shift_in_std == 0.0 for r in results)


def test_planted_mean_shift_drifts():
    current = {**STATS, "n_words": {"mean": 180.0, "std": 30.0}}
    results = {r.column: r for r in feature_drift(STATS, current, max_shift_in_std=1.0)}
    assert results["n_words"].drifted
    assert results["n_words"].shift_in_std == 2.0
    assert not results["ttr"].drifted


def test_shift_below_threshold_is_quiet():
    current = {**STATS, "n_words": {"mean": 130.0, "std": 30.0}}
    assert not any(r.drifted for r in feature_drift(STATS, current, max_shift_in_std=0.5))


def test_zero_previous_std_and_missing_columns():
    previous = {"a": {"mean": 1.0, "std": 0.0}, "b": {"mean": 1.0, "std": 1.0}}
    current = {"a": {"mean": 2.0, "std": 0.0}}
    results = {r.column: r for r in feature_drift(previous, current, columns=["a", "b"])}
    assert results["a"].drifted and math.isinf(results["a"].shift_in_std)
    assert results["b"].shift_in_std is None and not results["b"].drifted
    json.dumps([r.to_dict() for r in results.values()], allow_nan=False)


def test_column_stats_round_trips_through_drift():
    df = pd.DataFrame(
        {"ttr": [0.5, 0.6, np.nan], "n_words": np.array([10, 20, 30], dtype=np.int64)}
    )
    stats = column_stats(df, ["ttr", "n_words", "absent"])
    assert set(stats) == {"ttr", "n_words"}
    assert stats["ttr"]["count"] == 2
    json.dumps(stats, allow_nan=False)
    assert not any(r.drifted for r in feature_drift(stats, column_stats(df)))
