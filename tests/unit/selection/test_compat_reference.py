"""``compat="reference"``: each of the SCAR toolkit's rules on planted inputs, and its grouping
against a plain re-implementation of the toolkit's loop."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from scar_dagster import schema
from scar_dagster.selection import SelectionParams
from scar_dagster.selection.decisions import filter_pool
from scar_dagster.selection.filters import ExactDedupFilter, NearDedupFilter, PairText
from scar_dagster.selection.filters.near_groups import first_kept_matches, toolkit_groups
from scar_dagster.selection.filters.toolkit_tokens import toolkit_shingles
from scar_dagster.selection.reason_codes import REASON_CODES
from scar_dagster.selection.texts import frame_lookup
from tests.toolkit_rules import toolkit_clusters, toolkit_distinct


def _pool(rows: list[tuple[str, str]]) -> tuple[pd.DataFrame, object]:
    """A scored pool of ``rows`` in input order (ids p00, p01, ...: sorted as given)."""
    ids = [f"p{i:02d}" for i in range(len(rows))]
    pool = pd.DataFrame(
        {
            "id": ids,
            "source": "s",
            "score": np.linspace(0, 1, len(rows)),  # the last row scores best
            "_degenerate": False,
            "_order": np.arange(len(rows)),
        }
    )
    texts = pd.DataFrame(
        {"id": ids, "instruction": [r[0] for r in rows], "response": [r[1] for r in rows]}
    )
    return pool, frame_lookup(texts)


def _reasons(rows: list[tuple[str, str]], **params) -> list[str]:
    pool, lookup = _pool(rows)
    reason, _ = filter_pool(pool, lookup, SelectionParams(ratio=1.0, **params))
    return [REASON_CODES[code] or "kept" for code in reason]


def test_compat_sets_the_toolkits_choices_and_versions_them() -> None:
    params = SelectionParams(ratio=0.5, compat="reference", dedup_keep="score")
    chosen = (params.english_rule, params.dedup_keep, params.dedup_on)
    assert chosen == ("reference", "first", "pair")
    assert params.near_method == "exact"
    assert '"compat":"reference"' in params.to_json()
    default = SelectionParams(ratio=0.5)
    assert "compat" not in default.to_json() and "near_method" not in default.to_json()
    with pytest.raises(ValueError, match="compat"):
        SelectionParams(ratio=0.5, compat="toolkit")


def test_exact_dedup_compares_stripped_texts_as_they_are() -> None:
    rows = [
        ("Name a fruit", "An apple."),
        ("  Name a fruit\n", "An apple.  "),  # the same once stripped
        ("name a FRUIT", "an apple."),  # case: the same for ours, not for the toolkit
        ("Name a  fruit", "An apple."),  # inner whitespace: likewise
    ]
    ours = _reasons(rows, english_threshold=None, near_dedup=False, dedup_keep="first")
    toolkit = _reasons(rows, english_threshold=None, near_dedup=False, compat="reference")
    assert ours == ["kept", schema.DEDUP_EXACT, schema.DEDUP_EXACT, schema.DEDUP_EXACT]
    assert toolkit == ["kept", schema.DEDUP_EXACT, "kept", "kept"]
    key = ExactDedupFilter(toolkit=True).measure
    assert key(PairText("ab", "c")) != key(PairText("a", "bc"))  # no two keys run together


def test_english_rule_counts_ascii_letters_over_all_characters() -> None:
    rows = [
        ("Sum the list", "def f(x):\n    return sum(x)  # 42"),  # code: under 70% letters
        ("Translate", "Привет, мир"),
        ("Say hi", "Hello there, friend"),
    ]
    ours = _reasons(rows, near_dedup=False)
    toolkit = _reasons(rows, near_dedup=False, compat="reference")
    assert ours == ["kept", schema.LANGUAGE_NON_ENGLISH, "kept"]
    assert toolkit == [schema.LANGUAGE_NON_ENGLISH, schema.LANGUAGE_NON_ENGLISH, "kept"]


def test_toolkit_tokens_keep_punctuation_and_split_contractions() -> None:
    assert toolkit_shingles("Don't stop") == ["do n't", "n't stop"]
    assert toolkit_shingles("One") == []  # fewer tokens than the n-gram: no shingle
    assert toolkit_shingles("A b. C", 2) == ["a b.", "b. c"]  # no sentence split offline
    # "a , b , c" and "a b c" share no bigram under nltk's tokens; \w+ words make them equal
    rows = [("List", "a , b , c , d , e , f"), ("List", "a b c d e f")]
    ours = _reasons(rows, english_threshold=None, dedup_keep="first", near_method="exact")
    toolkit = _reasons(rows, english_threshold=None, compat="reference")
    assert ours == ["kept", schema.DEDUP_NEAR]
    assert toolkit == ["kept", "kept"]


CHAIN = [  # A ~ B and B ~ C (bigram Jaccard >= 0.5), A and C apart (< 0.5)
    ("Q", "alpha beta gamma delta epsilon zeta eta theta iota kappa"),
    ("Q", "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi"),
    ("Q", "delta epsilon zeta eta theta iota kappa lambda mu nu xi"),
]


def test_a_chain_keeps_both_ends_for_us_and_only_the_first_for_the_toolkit() -> None:
    ours = _reasons(CHAIN, english_threshold=None, dedup_keep="first", near_method="exact")
    toolkit = _reasons(CHAIN, english_threshold=None, compat="reference")
    assert ours == ["kept", schema.DEDUP_NEAR, "kept"]
    assert toolkit == ["kept", schema.DEDUP_NEAR, schema.DEDUP_NEAR]


def test_grouping_matches_the_toolkits_loop_on_random_graphs() -> None:
    rng = random.Random(5)
    for _ in range(300):
        n = rng.randint(2, 14)
        pairs = sorted(
            {tuple(sorted(rng.sample(range(n), 2))) for _ in range(rng.randint(0, 2 * n))}
        )
        dropped = toolkit_groups(np.array(pairs, dtype=np.int64).reshape(-1, 2))
        clusters = toolkit_clusters(pairs)
        kept = sorted(set(range(n)) - set(dropped.rows.tolist()))
        assert kept == toolkit_distinct(clusters, n)
        for row, named in zip(dropped.rows.tolist(), dropped.kept.tolist(), strict=True):
            first = next(c for c in clusters if row in c)
            assert named == min(first) < row


def test_first_kept_matches_never_chains_through_a_dropped_row() -> None:
    pairs = np.array([(0, 1), (1, 2), (2, 3), (0, 4)], dtype=np.int64)
    dropped = first_kept_matches(pairs)
    assert dict(zip(dropped.rows.tolist(), dropped.kept.tolist(), strict=True)) == {
        1: 0,
        3: 2,
        4: 0,
    }


def test_near_dedup_methods_agree_where_lsh_finds_every_pair() -> None:
    texts = [PairText("Q", t) for _, t in CHAIN] + [PairText("Q", "unrelated words here now")]
    exact = NearDedupFilter(method="exact").drop(texts)
    lsh = NearDedupFilter(method="lsh").drop(texts)
    assert exact.rows.tolist() == lsh.rows.tolist() == [1]
