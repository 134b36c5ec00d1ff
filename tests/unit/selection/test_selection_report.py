"""Selection report: counts, spread, diff, markdown, histogram of a decided pool."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scar_dagster.schema import STYLE_METRICS
from scar_dagster.selection import SelectionParams
from scar_dagster.selection.decisions import PoolDecisions, decisions_frame
from scar_dagster.selection.reason_codes import reason_code
from scar_dagster.selection.report import (
    build_report,
    diff_subsets,
    random_picks,
    random_subset_ids,
    score_histogram_png,
    spread,
)
from tests.selection_pool import decided_pool, planted_pairs


def decisions() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "id": ["a1", "a2", "b1", "b2", "b3", "c1"],
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
            "id": ["a1", "a2", "b1", "b2", "b3", "c1"],
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


def decided() -> tuple[pd.DataFrame, PoolDecisions]:
    """``decisions()`` as a decided pool: the pool frame (sorted by id) and its arrays."""
    frame = decisions()
    pool = features()
    pool = pool.assign(source=frame["source"], score=frame["score"], _degenerate=False)
    reasons = np.array([reason_code(r) for r in frame["reason"]], dtype=np.int8)
    rank = frame["rank"].fillna(0).to_numpy(dtype=np.int64)
    chosen = frame["selected"].to_numpy(dtype=bool)
    related = np.array([-1, -1, -1, -1, 0, -1], dtype=np.int64)  # b3 duplicates a1
    order = np.array([0, 2, 3, 1, 4, 5])
    return pool, PoolDecisions(order, reasons, related, rank, chosen, ["a note"])


def test_decided_pool_fixture_is_the_decision_frame() -> None:
    pool, rows = decided()
    frame = decisions_frame(pool, rows).sort_values("id", ignore_index=True)
    expected = decisions().astype({"id": "str", "source": "str", "reason": "str"})
    expected["related_id"] = pd.Series([None] * 4 + ["a1", None], dtype=object)
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)


def test_counts_per_source_and_reason() -> None:
    counts = build_report(*decided(), "v1").counts
    assert counts.loc["b", ["pool", "eligible", "selected", "dedup_exact"]].tolist() == [3, 2, 2, 1]
    assert counts.loc["(all)", "pool"] == 6 and counts.loc["(all)", "selected"] == 3
    assert "selected" in counts.columns  # the count, not a reason column twice
    assert list(counts.columns) == [
        "pool",
        "eligible",
        "selected",
        "dedup_exact",
        "language_non_english",
        "select_below_cutoff",
    ]


def test_style_has_pool_subset_random() -> None:
    table = build_report(*decided(), "v1", seed=0).style
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


@pytest.mark.parametrize("dedup_keep", ["score", "first"])
def test_the_report_of_the_planted_pool_is_that_of_its_decision_frame(dedup_keep) -> None:
    """Counts, style spread and diff from codes and masks equal plain pandas over the
    decision frame and the metrics."""
    pairs, features, scores = planted_pairs()
    candidates = pairs.merge(features, on="id").merge(scores[["id", "score"]], on="id")
    params = SelectionParams(ratio=0.3, max_per_source={"a": 4}, dedup_keep=dedup_keep)
    pool, rows = decided_pool(candidates, params, chunk_rows=5)
    frame = decisions_frame(pool, rows)
    previous = frame.loc[frame["selected"]].iloc[2:].assign(id=lambda f: f["id"] + "x")
    report = build_report(pool, rows, "v", previous=previous, seed=3)
    cells = pd.crosstab(frame["source"], frame["reason"])
    expected = pd.DataFrame(
        {
            "pool": frame.groupby("source").size(),
            "eligible": frame.groupby("source")["rank"].count(),
            "selected": frame.groupby("source")["selected"].sum(),
            **{r: cells[r] for r in sorted(cells.columns) if r != "selected"},
        }
    ).astype("int64")
    expected.loc["(all)"] = expected.sum()
    pd.testing.assert_frame_equal(report.counts, expected, check_names=False)
    metrics = candidates.set_index("id")[list(STYLE_METRICS)]
    eligible = sorted(frame.loc[frame["rank"].notna(), "id"])
    chosen = frame.loc[frame["selected"], "id"]
    picks = random_picks(len(eligible), len(chosen), 3)
    for name, ids in {
        "pool": frame["id"],
        "subset": chosen,
        "random": [eligible[i] for i in picks],
    }.items():
        std = spread(metrics.loc[list(ids)])["std"]
        pd.testing.assert_series_equal(
            report.style[f"{name}_std"], std, check_names=False, rtol=1e-12
        )
    diff = diff_subsets(frame, previous)
    assert (report.diff.added, report.diff.removed) == (diff.added, diff.removed) != (0, 0)
    assert report.notes == frame.attrs["notes"]
    assert rows.reason_counts() == frame["reason"].value_counts().to_dict()


def test_markdown_report() -> None:
    report = build_report(*decided(), "v1", previous=["a1", "zz"])
    text = report.to_markdown()
    assert "## Selection `v1`" in text and "| b | 3 | 2 | 2 |" in text
    assert "added 2, removed 1, kept 1" in text and "`zz`" in text and "a note" in text
    assert build_report(*decided(), "v0").diff is None


def test_histogram_png() -> None:
    data = score_histogram_png(*decided())
    assert data.startswith(b"\x89PNG") and len(data) > 1000
    assert score_histogram_png(*decided()) == data
    pool, rows = decided()
    nothing = PoolDecisions(
        rows.order[:0], rows.reason[:0], rows.related[:0], rows.rank[:0], rows.chosen[:0], []
    )
    assert score_histogram_png(pool.iloc[:0], nothing).startswith(b"\x89PNG")
