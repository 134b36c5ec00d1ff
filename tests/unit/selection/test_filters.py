"""Each filter step drops rows with its own reason code; one driver runs them in order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scar_dagster import schema
from scar_dagster.selection import SelectionParams
from scar_dagster.selection.filtering import filters_for, run_filters
from scar_dagster.selection.filters import (
    DegenerateFilter,
    ExactDedupFilter,
    LanguageFilter,
    NearDedupFilter,
)
from scar_dagster.selection.filters.base import dedup_text
from scar_dagster.selection.filters.exact_dedup import exact_digest, fold_for_dedup
from scar_dagster.selection.reason_codes import REASON_CODES
from tests.selection_pool import frame_pool

ESSAY = " ".join(f"word{i}" for i in range(40))


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Candidates from ``(id, source, score, instruction, response[, degenerate_reason])``."""
    rows = [row if len(row) == 6 else (*row, None) for row in rows]
    columns = ["id", "source", "score", "instruction", "response", "degenerate_reason"]
    return pd.DataFrame(rows, columns=columns).astype({"degenerate_reason": object})


def dropped(candidates: pd.DataFrame, steps, keep="score", chunk_rows=2) -> dict[str, tuple]:
    """Pair id -> (reason, related id) of the rows ``steps`` drop, run by the driver."""
    pool, lookup = frame_pool(candidates)
    reason, related = run_filters(pool, lookup, steps, keep=keep, chunk_rows=chunk_rows)
    ids = pool["id"].tolist()
    return {
        ids[row]: (REASON_CODES[reason[row]], ids[related[row]] if related[row] >= 0 else None)
        for row in np.flatnonzero(reason)
    }


def test_degenerate_rows_are_dropped_with_their_reason() -> None:
    rows = frame([("a", "s", 1.0, "Q", "A"), ("b", "s", 2.0, "Q", "", "features_empty_response")])
    assert dropped(rows, [DegenerateFilter()]) == {"b": (schema.FEATURES_DEGENERATE, None)}


def test_exact_dedup_keeps_the_first_visited_copy_and_names_it() -> None:
    rows = frame(
        [
            ("b", "s", 1.0, "Same", "text"),
            ("a", "s", 1.0, "same ", " TEXT"),  # the same after folding; tie: id a first
            ("c", "s", 5.0, "same", "text"),  # best score: kept
            ("d", "s", 0.0, "other", "text"),
        ]
    )
    by_score = {"a": (schema.DEDUP_EXACT, "c"), "b": (schema.DEDUP_EXACT, "c")}
    assert dropped(rows, [ExactDedupFilter()]) == by_score
    first = dropped(rows, [ExactDedupFilter()], keep="first")  # input order: b first
    assert first == {"a": (schema.DEDUP_EXACT, "b"), "c": (schema.DEDUP_EXACT, "b")}
    on_response = dropped(rows, [ExactDedupFilter("response")])
    assert on_response["d"] == (schema.DEDUP_EXACT, "c")


def test_exact_key_folds_case_space_and_unicode() -> None:
    assert fold_for_dedup("Hello   World\n") == "hello world"
    assert exact_digest("Hello   World\n") == exact_digest("hello world")
    assert exact_digest("ﬁle") == exact_digest("file")  # NFKC ligature
    assert exact_digest("hello") != exact_digest("hello!") and len(exact_digest("x")) == 16
    assert dedup_text("Q", "A", "response") == "A" and dedup_text("Q", "A", "pair") == "Q\nA"


@pytest.mark.parametrize(
    ("rule", "threshold", "expected"),
    [("letters", 0.7, {"ru"}), ("reference", 0.7, {"ru", "digits"}), ("letters", 0.1, {"ru"})],
)
def test_language_filter_drops_non_english_pairs(rule, threshold, expected) -> None:
    rows = frame(
        [
            ("en", "s", 1.0, "What is this?", "Cats sit on mats"),
            ("ru", "s", 1.0, "What is this?", "Это кошка."),
            ("digits", "s", 1.0, "Sum", "1234 + 5678"),
        ]
    )
    got = dropped(rows, [LanguageFilter(threshold, rule)])
    assert got == {pid: (schema.LANGUAGE_NON_ENGLISH, None) for pid in expected}


def test_near_dedup_names_the_kept_pair() -> None:
    edited = ESSAY.replace("word20", "changed")
    rows = frame([("orig", "s", 1.0, "Q", ESSAY), ("copy", "s", 2.0, "Q", edited)])
    assert dropped(rows, [NearDedupFilter(seed=3)]) == {"orig": (schema.DEDUP_NEAR, "copy")}
    assert dropped(rows, [NearDedupFilter(seed=3, threshold=0.95)]) == {}  # Jaccard 37/41


def test_the_driver_runs_steps_in_order_over_the_survivors() -> None:
    """A degenerate row is not a duplicate's kept copy; an exact duplicate of a non-English
    row is an exact duplicate; near dedup compares only rows still eligible."""
    edited = ESSAY.replace("word20", "changed")
    rows = frame(
        [
            ("deg", "s", 9.0, "Q", ESSAY, "features_too_short"),
            ("top", "s", 5.0, "Q", ESSAY),
            ("dup", "s", 4.0, "q", ESSAY.upper()),
            ("ru1", "s", 3.0, "Вопрос", "Это кошка."),
            ("ru2", "s", 2.0, "Вопрос", "Это кошка."),
            ("near", "s", 1.0, "Q", edited),
        ]
    )
    got = dropped(rows, filters_for(SelectionParams(top_k=1, seed=3)))
    assert got == {
        "deg": (schema.FEATURES_DEGENERATE, None),
        "dup": (schema.DEDUP_EXACT, "top"),
        "ru1": (schema.LANGUAGE_NON_ENGLISH, None),
        "ru2": (schema.DEDUP_EXACT, "ru1"),
        "near": (schema.DEDUP_NEAR, "top"),
    }


def test_exact_dedup_and_language_share_one_pass_over_the_texts() -> None:
    rows = frame([(f"p{i}", "s", float(i), f"Question {i}", f"answer {i}") for i in range(10)])
    pool, base = frame_pool(rows)
    calls: list[int] = []

    def lookup(ids):
        calls.append(len(ids))
        return base(ids)

    steps = [ExactDedupFilter(), LanguageFilter()]
    run_filters(pool, lookup, steps, keep="score", chunk_rows=4)
    assert calls == [4, 4, 2]


def test_filters_follow_the_params() -> None:
    every = filters_for(SelectionParams(top_k=1, dedup_on="response", english_rule="reference"))
    assert [type(step) for step in every] == [
        DegenerateFilter,
        ExactDedupFilter,
        LanguageFilter,
        NearDedupFilter,
    ]
    assert every[1].on == every[3].on == "response" and every[2].rule == "reference"
    fewer = filters_for(SelectionParams(top_k=1, english_threshold=None, near_dedup=False))
    assert [type(step) for step in fewer] == [DegenerateFilter, ExactDedupFilter]
    reasons = {step.reason for step in every}
    assert reasons <= set(REASON_CODES) and all(r == r.lower() and " " not in r for r in reasons)
