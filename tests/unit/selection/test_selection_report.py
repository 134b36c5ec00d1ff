"""Selection report: counts, spread, diff, markdown, histogram."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from scar_dagster.selection.report import (
    build_report,
    diff_subsets,
    random_subset_ids,
    score_histogram_png,
    source_counts,
    spread,
    style_comparison,
)


def decisions() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "pair_id": ["a1", "a2", "b1", "b2", "b3", "c1"],
            "source": ["a", "a", "b", "b", "b", "c"],
            "selected": [True, False, True, True, False, False],
            "reason": [
                "selected",
                "select_below_cutoff",
                "selected",
                "selected",
                "dedup_exact",
                "language_non_english",
            ],
            "rank": pd.array([1, 4, 2, 3, None, None], dtype="Int64"),
            "score": [3.0, 0.0, 2.0, 1.0, 5.0, 4.0],
            "related_id": [None, None, None, None, "a1", None],
        }
    )
    frame.attrs["notes"] = ["a note"]
    return frame


def features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pair_id": ["a1", "a2", "b1", "b2", "b3", "c1"],
            "ttr": [0.5, 0.9, 0.5, 0.5, 0.1, 0.2],
            "mtld": [50.0, 10.0, 52.0, 48.0, 90.0, 5.0],
            "perplexity": [10.0, 30.0, 11.0, 9.0, None, 80.0],
            "n_words": [100, 10, 110, 90, 400, 3],
        }
    )


def test_spread_matches_pandas_ddof1() -> None:
    table = spread(features())
    assert table.loc["ttr", "std"] == pytest.approx(features()["ttr"].std(ddof=1))
    assert table.loc["perplexity", "count"] == 5
    cv = table.loc["mtld", "std"] / abs(table.loc["mtld", "mean"])
    assert table.loc["mtld", "cv"] == pytest.approx(cv)
    assert math.isnan(spread(features().head(1)).loc["ttr", "std"])
    assert math.isnan(spread(features(), ["absent"]).loc["absent", "std"])


def test_source_counts() -> None:
    counts = source_counts(decisions())
    assert counts.loc["b", ["pool", "eligible", "selected", "dedup_exact"]].tolist() == [3, 2, 2, 1]
    assert counts.loc["(all)", "pool"] == 6 and counts.loc["(all)", "selected"] == 3
    assert "selected" in counts.columns  # the count, not a reason column twice


def test_style_comparison_has_pool_subset_random() -> None:
    table = style_comparison(decisions(), features(), seed=0)
    assert list(table.columns) == [
        "pool_std",
        "pool_cv",
        "subset_std",
        "subset_cv",
        "random_std",
        "random_cv",
    ]
    assert table.loc["ttr", "subset_std"] == 0.0
    assert table.loc["ttr", "pool_std"] > 0


def test_random_subset_is_seeded_and_order_free() -> None:
    ids = [f"x{i}" for i in range(50)]
    assert random_subset_ids(ids, 5, 1) == random_subset_ids(ids[::-1], 5, 1)
    assert random_subset_ids(ids, 5, 1) != random_subset_ids(ids, 5, 2)
    assert random_subset_ids(ids, 0, 1) == [] and len(random_subset_ids(ids, 99, 1)) == 50
    same = random_subset_ids(ids, 5, 1)  # any iterable of ids, repeats counted once
    assert random_subset_ids(set(ids), 5, 1) == same == random_subset_ids(iter(ids + ids), 5, 1)
    assert random_subset_ids(pd.Series(ids, dtype="str"), 5, 1) == same


def test_diff_against_previous_ids_mapping_and_frame() -> None:
    diff = diff_subsets(decisions(), ["a1", "a2", "gone"])
    assert (diff.added, diff.removed, diff.kept) == (2, 2, 1)
    assert diff.added_sample == ["b1", "b2"] and diff.removed_sample == ["a2", "gone"]
    assert diff.per_source.loc["b", "added"] == 2
    assert diff.per_source.loc["(not a candidate)", "removed"] == 1
    mapped = diff_subsets(decisions(), {"gone": "old"})
    assert mapped.per_source.loc["old", "removed"] == 1
    same = diff_subsets(decisions(), decisions())
    assert (same.added, same.removed, same.kept) == (0, 0, 3)


def test_markdown_report() -> None:
    report = build_report(decisions(), features(), subset_version="v1", previous=["a1", "zz"])
    text = report.to_markdown()
    assert "## Selection `v1`" in text and "| b | 3 | 2 | 2 |" in text
    assert "added 2, removed 1, kept 1" in text and "`zz`" in text and "a note" in text
    assert build_report(decisions(), features(), subset_version="v0").diff is None


def test_histogram_png() -> None:
    data = score_histogram_png(decisions())
    assert data.startswith(b"\x89PNG") and len(data) > 1000
    assert score_histogram_png(decisions()) == data
    assert score_histogram_png(decisions().iloc[0:0]).startswith(b"\x89PNG")
