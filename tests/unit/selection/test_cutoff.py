"""One meaning of "ratio -> rows" for the asset, the toolkit, the CLI and the benchmarks."""

from __future__ import annotations

import math
from fractions import Fraction

import pandas as pd
import pytest

from scar_dagster.evaluation.consistency import select_ratio
from scar_dagster.ranker.inference.toolkit import filter_ranked
from scar_dagster.selection import SelectionParams
from scar_dagster.selection.cutoff import max_rows, rows_for_ratio
from tests.selection_pool import decide_frame


@pytest.mark.parametrize(
    "n_rows, ratio, rows",
    [
        (0, 0.5, 0),  # no rows: nothing to keep
        (0, 1.0, 0),
        (7, 0.0, 0),
        (7, 1.0, 7),  # ratio 1 keeps every row
        (1, 1.0, 1),
        (50, 0.01, 0),  # tiny ratios round down to nothing
        (99, 0.01, 0),
        (100, 0.01, 1),
        (10, 1e-12, 0),
        (10, 0.3, 3),  # float fuzz: 0.3 * 10 and 0.1 * 3 * 10
        (10, 0.1 * 3, 3),
        (100, 0.29, 29),  # 0.29 * 100 == 28.999999999999996
        (3, 1 / 3, 1),  # (1/3) * 3 == 1.0 only after rounding
        (5, 0.5, 2),  # rounded down, never half up
        (9, 0.999, 8),
        (10_000_003, 0.333, 3_330_000),  # large counts: the tolerance stays far below one row
    ],
)
def test_rows_for_ratio_edges(n_rows: int, ratio: float, rows: int) -> None:
    assert rows_for_ratio(n_rows, ratio) == rows


def test_rows_for_ratio_is_the_floor_of_the_written_decimal() -> None:
    for n_rows in (0, 1, 7, 99, 100, 1000, 12_345):
        for thousandths in range(1001):
            ratio = thousandths / 1000
            assert rows_for_ratio(n_rows, ratio) == math.floor(Fraction(str(ratio)) * n_rows)


@pytest.mark.parametrize("ratio", [-0.1, 1.5, math.nan, True, "0.5", None])
def test_rows_for_ratio_rejects_bad_ratios(ratio) -> None:
    with pytest.raises(ValueError, match="ratio"):
        rows_for_ratio(10, ratio)


@pytest.mark.parametrize("n_rows", [-1, 2.0, True])
def test_rows_for_ratio_rejects_bad_counts(n_rows) -> None:
    with pytest.raises(ValueError, match="n_rows"):
        rows_for_ratio(n_rows, 0.5)


@pytest.mark.parametrize("n_rows, ratio", [(10, 0.3), (100, 0.29), (7, 0.5), (30, 0.05)])
def test_every_selection_path_keeps_the_same_count(n_rows: int, ratio: float) -> None:
    expected = rows_for_ratio(n_rows, ratio)
    ids = [f"p{i:03d}" for i in range(n_rows)]
    scores = [float(n_rows - i) for i in range(n_rows)]
    pool = pd.DataFrame(
        {
            "id": ids,
            "source": "s",
            "instruction": [f"instruction number {i}" for i in range(n_rows)],
            "response": [f"a distinct english answer number {i} here" for i in range(n_rows)],
            "score": scores,
        }
    )
    params = SelectionParams(ratio=ratio, near_dedup=False)
    decisions = decide_frame(pool, params)
    assert int(decisions["selected"].sum()) == expected
    assert max_rows(params, n_rows) == expected
    ranked = [(i, i, s) for i, s in zip(ids, scores, strict=True)]
    assert len(filter_ranked(ranked, ratio=ratio)) == expected
    assert len(select_ratio(pool, ratio)) == max(1, expected)
