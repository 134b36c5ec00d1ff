"""The selection decides every pair as the plain oracle of ``tests/selection_oracle.py``."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from scar_dagster.selection.select import SelectionParams, select_pairs
from tests.selection_oracle import oracle_decisions
from tests.selection_pool import planted_pairs


def production(candidates: pd.DataFrame, params: SelectionParams) -> pd.DataFrame:
    decided = select_pairs(candidates, params)
    return decided.sort_values("pair_id", ignore_index=True)


def planted_candidates() -> pd.DataFrame:
    """The planted pool as one frame: texts, origin, degenerate reason, metrics and score."""
    pairs, features, scores = planted_pairs()
    return pairs.merge(features, on="id").merge(
        scores[["pair_id", "score"]].rename(columns={"pair_id": "id"}), on="id"
    )


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
