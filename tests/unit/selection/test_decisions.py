"""The pool's decisions: cutoffs, quotas, reasons, determinism and edge cases."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from scar_dagster import schema
from scar_dagster.schema import DECISION_COLUMNS
from scar_dagster.selection import SelectionParams, subset_version
from tests.selection_pool import decide_frame


def essay(seed: int, n_words: int = 30) -> str:
    rng = random.Random(seed)
    return " ".join(f"w{rng.randrange(5000)}" for _ in range(n_words))


def pool(n: int = 20, sources: tuple[str, ...] = ("a", "b"), seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    return pd.DataFrame(
        {
            "id": [f"p{i:03d}" for i in range(n)],
            "source": [sources[i % len(sources)] for i in range(n)],
            "score": [round(rng.uniform(-2, 2), 6) for _ in range(n)],
            "instruction": [f"Question number {i}?" for i in range(n)],
            "response": [essay(1000 * seed + i) for i in range(n)],
        }
    )


def chosen(decisions: pd.DataFrame) -> list[str]:
    return decisions.loc[decisions["selected"], "id"].tolist()


def best(frame: pd.DataFrame, n: int, source: str | None = None) -> list[str]:
    if source is not None:
        frame = frame[frame["source"] == source]
    ranked = frame.sort_values(["score", "id"], ascending=[False, True])
    return ranked["id"].head(n).tolist()


def test_top_k_selects_the_k_best_in_rank_order() -> None:
    frame = pool()
    out = decide_frame(frame, SelectionParams(top_k=5))
    assert chosen(out) == best(frame, 5)
    assert out["rank"].tolist() == list(range(1, 21))
    assert set(out["reason"]) == {schema.SELECTED, schema.SELECT_BELOW_CUTOFF}
    assert list(out.columns) == list(DECISION_COLUMNS)


@pytest.mark.parametrize(("ratio", "n", "expected"), [(0.29, 100, 29), (0.5, 7, 3), (1.0, 7, 7)])
def test_ratio_rounds_down_exactly(ratio: float, n: int, expected: int) -> None:
    frame = pool(n)
    assert len(chosen(decide_frame(frame, SelectionParams(ratio=ratio, near_dedup=False)))) == (
        expected
    )


def test_threshold_is_inclusive() -> None:
    frame = pool()
    cut = sorted(frame["score"])[-4]
    out = decide_frame(frame, SelectionParams(threshold=cut))
    assert chosen(out) == best(frame, 4)


def test_max_cap_keeps_the_size_and_backfills_in_rank_order() -> None:
    frame = pool(30)
    out = decide_frame(frame, SelectionParams(top_k=10, max_per_source={"a": 2}))
    picked = chosen(out)
    assert len(picked) == 10
    assert set(picked) == set(best(frame, 2, "a") + best(frame, 8, "b"))
    last = out.loc[out["selected"], "rank"].max()  # the walk stopped here
    dropped_a = out[(out["source"] == "a") & ~out["selected"]]
    expected = dropped_a["rank"].map(
        lambda r: schema.SELECT_QUOTA if r <= last else schema.SELECT_BELOW_CUTOFF
    )
    assert (dropped_a["reason"] == expected).all()
    assert (expected == schema.SELECT_QUOTA).any() and (
        out["reason"] == "select_below_cutoff"
    ).any()


def test_min_quota_reserves_the_best_of_a_source_below_the_cutoff() -> None:
    frame = pool(30).assign(score=lambda f: f["score"] + (f["source"] == "a") * 10)
    out = decide_frame(frame, SelectionParams(top_k=6, min_per_source={"b": 2}))
    picked = chosen(out)
    assert len(picked) == 6
    assert set(picked) == set(best(frame, 4, "a") + best(frame, 2, "b"))
    reasons = out.set_index("id")["reason"]
    displaced = best(frame, 6, "a")[4:]
    assert all(reasons[pid] == schema.SELECT_QUOTA for pid in displaced)
    assert any("below the cutoff" in note for note in out.attrs["notes"])


def test_quotas_with_threshold() -> None:
    frame = pool(30)
    cut = 0.0
    above = frame[frame["score"] >= cut]
    out = decide_frame(
        frame, SelectionParams(threshold=cut, max_per_source={"a": 1}, min_per_source={"c": 1})
    )
    assert set(chosen(out)) == set(best(above, 1, "a") + above[above.source == "b"].id.tolist())
    assert any("'c'" in note and "only 0" in note for note in out.attrs["notes"])
    low = decide_frame(frame, SelectionParams(threshold=100.0, min_per_source={"a": 2}))
    assert chosen(low) == best(frame, 2, "a")  # min quotas fill from below the threshold


def test_shuffled_input_gives_identical_decisions_and_version() -> None:
    frame = pool(40, sources=("a", "b", "c"))
    frame.loc[5, "response"] = frame.loc[3, "response"]  # an exact duplicate
    params = SelectionParams(ratio=0.3, max_per_source={"b": 3})
    first = decide_frame(frame, params)
    again = decide_frame(frame.sample(frac=1.0, random_state=11), params)
    pd.testing.assert_frame_equal(first, again)
    assert subset_version(chosen(first), "rv", params) == subset_version(
        chosen(again)[::-1], "rv", params
    )


def test_edge_cases() -> None:
    frame = pool(8)
    empty = decide_frame(frame, SelectionParams(top_k=0))
    assert chosen(empty) == [] and len(empty) == 8
    assert any("0 rows" in note for note in empty.attrs["notes"])
    everything = decide_frame(frame, SelectionParams(top_k=50))
    assert len(chosen(everything)) == 8 and "all 8 eligible" in everything.attrs["notes"][0]
    tied = decide_frame(frame.assign(score=1.0), SelectionParams(top_k=3))
    assert chosen(tied) == ["p000", "p001", "p002"]
    no_rows = decide_frame(frame.iloc[0:0], SelectionParams(top_k=3))
    assert no_rows.empty and list(no_rows.columns) == list(DECISION_COLUMNS)
    one_source = decide_frame(frame, SelectionParams(top_k=3, max_per_source={"zzz": 0}))
    assert chosen(one_source) == best(frame, 3)


def test_filters_give_one_reasoned_row_per_candidate() -> None:
    frame = pool(12)
    near = frame.loc[0, "response"].split()
    near[15] = "changed"
    extra = pd.DataFrame(
        {
            "id": ["xdup", "xnear", "xru", "xdeg"],
            "source": ["other", "other", "a", "b"],
            "score": [9.0, -9.0, 9.0, 9.0],
            "instruction": [
                frame.loc[4, "instruction"],
                frame.loc[0, "instruction"],
                "Вопрос",
                "Q",
            ],
            "response": [frame.loc[4, "response"].upper(), " ".join(near), "Ответ тут", "x"],
            "degenerate_reason": [None, None, None, "features_too_short"],
        }
    )
    out = decide_frame(pd.concat([frame, extra]), SelectionParams(top_k=100)).set_index("id")
    assert len(out) == 16 and out.index.is_unique
    assert out.loc["p004", ["reason", "related_id"]].tolist() == [schema.DEDUP_EXACT, "xdup"]
    assert out.loc["xnear", ["reason", "related_id"]].tolist() == [schema.DEDUP_NEAR, "p000"]
    assert out.loc["xru", "reason"] == schema.LANGUAGE_NON_ENGLISH
    assert out.loc["xdeg", "reason"] == schema.FEATURES_DEGENERATE
    assert out.loc[["p004", "xnear", "xru", "xdeg"], "rank"].isna().all()
    assert out["selected"].sum() == 12
    relaxed = SelectionParams(top_k=100, near_dedup=False, english_threshold=None)
    kept = decide_frame(pd.concat([frame, extra]), relaxed).set_index("id")
    assert kept.loc["xnear", "selected"] and kept.loc["xru", "selected"]


def test_response_mode_dedups_a_reused_answer() -> None:
    frame = pool(4)
    frame.loc[1, "response"] = frame.loc[0, "response"]
    pair_mode = decide_frame(frame, SelectionParams(top_k=4, near_dedup=False))
    assert pair_mode["selected"].all()
    response_mode = decide_frame(frame, SelectionParams(top_k=4, dedup_on="response"))
    assert set(response_mode["reason"]) == {schema.SELECTED, schema.DEDUP_EXACT}


def test_near_dedup_is_seeded() -> None:
    frame = pool(30)
    for i in range(0, 30, 5):
        words = frame.loc[i, "response"].split()
        words[3] = "edited"
        frame.loc[i + 1, "response"] = " ".join(words)
        frame.loc[i + 1, "instruction"] = frame.loc[i, "instruction"]
    params = SelectionParams(top_k=10, seed=5)
    first, second = decide_frame(frame, params), decide_frame(frame, params)
    pd.testing.assert_frame_equal(first, second)
    assert (first["reason"] == schema.DEDUP_NEAR).sum() == 6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of top_k, ratio or threshold"),
        ({"top_k": 3, "ratio": 0.5}, "exactly one"),
        ({"top_k": -1}, "top_k must be a non-negative int"),
        ({"top_k": True}, "top_k must be"),
        ({"ratio": 1.5}, r"ratio must be a number in \[0, 1\]"),
        ({"threshold": float("nan")}, "threshold must be a finite number"),
        ({"top_k": 3, "max_per_source": {"a": -1}}, r"max_per_source\['a'\]"),
        ({"top_k": 9, "min_per_source": {"a": 3}, "max_per_source": {"a": 2}}, "exceeds"),
        ({"top_k": 2, "min_per_source": {"a": 3}}, "reserves 3 rows but top_k is 2"),
        ({"top_k": 2, "english_threshold": 1.0}, "english_threshold"),
        ({"top_k": 2, "dedup_on": "text"}, "dedup_on"),
        ({"top_k": 2, "num_perm": 1}, "num_perm"),
    ],
)
def test_params_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SelectionParams(**kwargs)


def test_params_are_frozen_hashable_and_canonical() -> None:
    one = SelectionParams(ratio=1, max_per_source={"b": 1, "a": 2})
    two = SelectionParams(ratio=1.0, max_per_source={"a": 2, "b": 1})
    assert one == two and hash(one) == hash(two) and one.to_json() == two.to_json()
    with pytest.raises(AttributeError):
        one.top_k = 3  # type: ignore[misc]


def test_min_quota_larger_than_a_ratio_cutoff_fails_clearly() -> None:
    with pytest.raises(ValueError, match="reserves 2 rows but the cutoff allows 1"):
        decide_frame(pool(4), SelectionParams(ratio=0.25, min_per_source={"a": 2}))


def test_scores_must_be_finite_and_a_nan_score_is_no_score() -> None:
    frame = pool(3)
    with pytest.raises(ValueError, match="finite"):
        decide_frame(frame.assign(score=[1.0, float("inf"), 0.0]), SelectionParams(top_k=1))
    unscored = decide_frame(frame.assign(score=[1.0, float("nan"), 0.0]), SelectionParams(top_k=1))
    assert unscored["id"].tolist() == ["p000", "p002"]  # p001 leaves as select_unscored


def test_subset_version_depends_on_ids_ranker_and_params() -> None:
    params = SelectionParams(top_k=2)
    version = subset_version(["b", "a"], "rv1", params)
    assert len(version) == 16 and int(version, 16) >= 0
    assert version == subset_version(["a", "b"], "rv1", params)
    assert version != subset_version(["a", "c"], "rv1", params)
    assert version != subset_version(["a", "b"], "rv2", params)
    assert version != subset_version(["a", "b"], "rv1", SelectionParams(top_k=2, seed=2))
