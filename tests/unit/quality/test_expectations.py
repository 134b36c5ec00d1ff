"""GX suites on small frames: style bounds, uniqueness, nulls, row counts, JSON safety."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scar_dagster.quality.expectations import (
    STYLE_METRICS,
    ExpectationSpec,
    json_safe,
    row_count_between,
    run_expectations,
    stdev_between,
    style_consistency_specs,
    values_between,
    values_not_null,
    values_unique,
)

POOL_STD = {"ttr": 0.10, "mtld": 20.0, "perplexity": 8.0, "n_words": 150.0}


def _style_frame(n_words: np.ndarray, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(n_words)
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "response": [f"answer {i}" for i in range(n)],
            "ttr": rng.normal(0.6, 0.02, n),
            "mtld": rng.normal(70.0, 3.0, n),
            "perplexity": rng.normal(12.0, 1.0, n),
            "n_words": n_words,
        }
    )


@pytest.fixture(scope="module")
def consistent() -> pd.DataFrame:
    return _style_frame(np.random.default_rng(1).normal(120.0, 10.0, 60))


@pytest.fixture(scope="module")
def mixed_styles() -> pd.DataFrame:
    # planted mixed styles: half terse (~20 words), half verbose (~400 words)
    return _style_frame(np.r_[np.full(30, 20.0), np.full(30, 400.0)])


def _by_label(outcome, label):
    return next(r for r in outcome.results if r.label == label)


def test_consistent_frame_passes_style_gate(consistent):
    outcome = run_expectations(consistent, style_consistency_specs(POOL_STD), "style")
    assert outcome.success, outcome.to_markdown()
    assert [r.label for r in outcome.results] == [f"std_{c}" for c in STYLE_METRICS]


def test_mixed_styles_fail_with_observed_std_and_bound(mixed_styles):
    outcome = run_expectations(mixed_styles, style_consistency_specs(POOL_STD), "style")
    assert not outcome.success
    assert [r.label for r in outcome.failed] == ["std_n_words"]
    failed = _by_label(outcome, "std_n_words")
    assert failed.observed_value == pytest.approx(mixed_styles["n_words"].std())  # ddof=1
    assert failed.kwargs["max_value"] == pytest.approx(0.8 * 150.0)
    assert failed.meta["pool_std"] == 150.0
    assert "**FAIL**" in outcome.to_markdown()


def test_style_bound_is_min_of_ratio_and_absolute():
    specs = style_consistency_specs(
        {"ttr": 0.1, "n_words": 100.0},
        max_ratio=0.5,
        absolute_max={"ttr": 0.01, "mtld": 5.0},
        columns=("ttr", "mtld", "n_words"),
    )
    bounds = {s.kwargs["column"]: s.kwargs["max_value"] for s in specs}
    assert bounds == {"ttr": 0.01, "mtld": 5.0, "n_words": 50.0}


def test_style_metric_without_any_bound_is_an_error():
    with pytest.raises(ValueError, match="perplexity"):
        style_consistency_specs({"ttr": 0.1, "mtld": 1.0, "n_words": 1.0, "perplexity": np.nan})


def test_table_expectations_fail_when_they_should():
    df = pd.DataFrame(
        {
            "id": ["a", "a", "b", "c"],
            "instruction": ["i1", "i1", "i2", "i3"],
            "response": ["r1", "r1", None, "r3"],
            "score": [0.5, 0.7, 1.5, 0.1],
        }
    )
    specs = [
        values_unique("id"),
        values_not_null("response"),
        values_not_null("response", mostly=0.7),
        values_between("score", 0.0, 1.0),
        row_count_between(min_value=5),
        row_count_between(min_value=1, max_value=10),
    ]
    outcome = run_expectations(df, specs, "table")
    verdicts = [r.success for r in outcome.results]
    assert verdicts == [False, False, True, False, False, True]
    assert outcome.results[0].observed_value["unexpected_count"] == 2
    assert outcome.results[1].observed_value["unexpected_count"] == 1
    assert outcome.results[4].observed_value == 4


def test_missing_column_fails_with_error_instead_of_raising():
    outcome = run_expectations(pd.DataFrame({"a": [1.0, 2.0]}), [stdev_between("ttr", 1.0)], "m")
    assert not outcome.success
    assert "ttr" in outcome.results[0].error


def test_empty_frame_fails_row_count_and_std():
    empty = pd.DataFrame({"n_words": pd.Series([], dtype="float64")})
    specs = [row_count_between(min_value=1), stdev_between("n_words", 10.0)]
    outcome = run_expectations(empty, specs, "empty")
    assert [r.success for r in outcome.results] == [False, False]
    assert outcome.results[1].observed_value is None


def test_outcome_is_json_serializable_with_numpy_and_nan():
    df = pd.DataFrame({"x": np.array([1, 1, 2], dtype=np.int64), "y": [np.nan, 1.0, 2.0]})
    specs = [
        values_unique("x"),
        values_not_null("y"),
        stdev_between("y", max_value=np.float64(0.1), min_value=np.float32(0.0)),
        row_count_between(np.int64(1), np.int64(10)),
    ]
    payload = run_expectations(df, specs, "json").to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert json.loads(text)["results"][2]["kwargs"]["max_value"] == pytest.approx(0.1)


def test_json_safe_casts_scalars():
    value = {"a": np.float64("nan"), "b": np.int64(3), "c": [np.bool_(True), pd.NA, float("inf")]}
    assert json_safe(value) == {"a": None, "b": 3, "c": [True, None, None]}
    assert type(json_safe(np.float64(1.5))) is float


def test_no_specs_passes_without_gx():
    assert run_expectations(pd.DataFrame(), [], "none").success


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown GX expectation"):
        run_expectations(pd.DataFrame({"a": [1]}), [ExpectationSpec("ExpectNothing", {})], "bad")


def test_constructors_reject_open_bounds():
    with pytest.raises(ValueError):
        stdev_between("ttr", None)
