"""Style consistency: mean, sample std and coefficient of variation per metric."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from scar_dagster.schema import STYLE_METRICS as CONSISTENCY_METRICS
from scar_dagster.style.consistency import style_consistency


def test_known_std_and_cv():
    df = pd.DataFrame(
        {
            "ttr": [0.5, 0.7, 0.9, float("nan")],
            "mtld": [10.0, 20.0, 30.0, 40.0],
            "perplexity": [2.0, 2.0, 2.0, float("inf")],
            "n_words": [1, 2, 3, 4],
        }
    )
    result = style_consistency(df)
    assert list(result) == list(CONSISTENCY_METRICS)
    assert result["ttr"]["count"] == 3
    assert result["ttr"]["mean"] == pytest.approx(0.7)
    assert result["ttr"]["std"] == pytest.approx(0.2)  # ddof=1
    assert result["ttr"]["cv"] == pytest.approx(0.2 / 0.7)
    assert result["mtld"]["std"] == pytest.approx(df["mtld"].std())
    assert result["perplexity"] == {"mean": 2.0, "std": 0.0, "cv": 0.0, "count": 3}
    assert result["n_words"]["std"] == pytest.approx(math.sqrt(5 / 3))


def test_degenerate_inputs_give_none_not_nan():
    empty = style_consistency(pd.DataFrame({"ttr": pd.Series([], dtype="float64")}), ["ttr"])
    assert empty == {"ttr": {"mean": None, "std": None, "cv": None, "count": 0}}
    one = style_consistency(pd.DataFrame({"ttr": [0.5, None]}), ["ttr"])
    assert one["ttr"] == {"mean": 0.5, "std": None, "cv": None, "count": 1}
    zero_mean = style_consistency(pd.DataFrame({"x": [-1.0, 1.0]}), ["x"])
    assert zero_mean["x"]["cv"] is None and zero_mean["x"]["std"] == pytest.approx(math.sqrt(2))
    json.dumps([empty, one, zero_mean], allow_nan=False)


def test_nullable_columns_and_missing_column():
    df = pd.DataFrame({"n_words": pd.array([3, None, 5], dtype="Int64")})
    assert style_consistency(df, ["n_words"])["n_words"]["count"] == 2
    with pytest.raises(KeyError, match="mtld"):
        style_consistency(df, ["n_words", "mtld"])
