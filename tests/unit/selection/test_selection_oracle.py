"""The selection decides every pair as the plain oracle of ``tests/selection_oracle.py``."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from scar_dagster.selection import SelectionParams
from tests.selection_oracle import oracle_decisions
from tests.selection_pool import decide_frame, planted_pairs, tied_pool


def production(candidates: pd.DataFrame, params: SelectionParams) -> pd.DataFrame:
    return decide_frame(candidates, params, chunk_rows=7).sort_values("id", ignore_index=True)


def planted_candidates() -> pd.DataFrame:
    """The planted pool as one frame: texts, origin, degenerate reason, metrics and score."""
    pairs, features, scores = planted_pairs()
    return pairs.merge(features, on="id").merge(scores[["id", "score"]], on="id")


CUTOFFS = [{"top_k": 12}, {"ratio": 0.3}, {"threshold": 0.2}, {"top_k": 0}, {"top_k": 500}]
QUOTAS = [
    {},
    {"min_per_source": {"c": 6}},
    {"max_per_source": {"a": 3}},
    {"min_per_source": {"b": 2}, "max_per_source": {"a": 2, "b": 4}},
]
FILTERS = list(
    itertools.product(
        [True, False], ["score", "first"], ["letters", "reference"], ["pair", "response"]
    )
)


def _cases() -> list:
    cases = []
    for i, (near, keep, rule, on) in enumerate(FILTERS):
        for j, cutoff in enumerate(CUTOFFS):
            quotas = QUOTAS[(i + j) % len(QUOTAS)]
            if cutoff == {"top_k": 0}:  # no room for a min quota
                quotas = {k: v for k, v in quotas.items() if k != "min_per_source"}
            english = {"english_threshold": 0.15} if rule == "reference" and j % 2 else {}
            cases.append(
                pytest.param(
                    {
                        **cutoff,
                        **quotas,
                        **english,
                        "near_dedup": near,
                        "dedup_keep": keep,
                        "english_rule": rule,
                        "dedup_on": on,
                    },
                    id=f"{near}-{keep}-{rule}-{on}-{next(iter(cutoff))}{j}",
                )
            )
    return cases


@pytest.fixture(scope="module")
def candidates() -> pd.DataFrame:
    return planted_candidates()


@pytest.mark.parametrize("options", _cases())
def test_the_planted_pool_is_decided_as_the_oracle_decides(candidates, options):
    params = SelectionParams(**options)
    pd.testing.assert_frame_equal(
        production(candidates, params), oracle_decisions(candidates, params)
    )


def test_the_oracle_comparison_is_not_vacuous(candidates):
    """Every filter and both quota reasons occur, and the options change the decisions."""
    counts = oracle_decisions(candidates, SelectionParams(top_k=20, max_per_source={"a": 3}))
    reasons = set(counts["reason"])
    assert {"dedup_exact", "dedup_near", "language_non_english", "features_degenerate"} <= reasons
    assert {"selected", "select_quota", "select_below_cutoff"} <= reasons
    first = oracle_decisions(candidates, SelectionParams(top_k=20, dedup_keep="first"))
    assert not first.equals(oracle_decisions(candidates, SelectionParams(top_k=20)))


@pytest.mark.parametrize(
    "options",
    [
        {"top_k": 25},
        {"threshold": 0.5, "dedup_on": "response"},
        {"ratio": 0.5, "max_per_source": {"a": 3}, "min_per_source": {"d": 9}},
        {"top_k": 1000, "english_rule": "reference", "english_threshold": 0.1},
        {"top_k": 40, "dedup_keep": "first", "near_dedup": False},
    ],
)
def test_ties_and_a_non_english_best_copy_are_decided_as_the_oracle_decides(options):
    """Ties broken by id across chunks; an English copy of a non-English pair is its exact
    duplicate, not eligible."""
    candidates = tied_pool()
    params = SelectionParams(**options)
    expected = oracle_decisions(candidates, params)
    pd.testing.assert_frame_equal(production(candidates, params), expected)
    assert (expected["score"] == 0.5).sum() > 20
