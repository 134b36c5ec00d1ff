"""The exact set-similarity join finds exactly the pairs brute force finds."""

from __future__ import annotations

import random

import numpy as np
import pytest

from benchmarks.near_dedup import real_like_texts
from scar_dagster.selection.filters import set_join
from scar_dagster.selection.filters.minhash import shingles
from scar_dagster.selection.filters.set_join import prefix_lengths, similar_pairs, token_sets
from tests.toolkit_rules import jaccard_pairs


def _join(sets: list[frozenset], threshold: float) -> list[tuple[int, int]]:
    found = similar_pairs(token_sets([sorted(s) for s in sets]), threshold)
    return [tuple(pair) for pair in found.tolist()]


def _random_sets(rng: random.Random) -> list[frozenset]:
    """Small random sets over a small vocabulary, a third of them edited copies of another."""
    vocab, sets = rng.randint(1, 30), []
    for _ in range(rng.randint(0, 40)):
        if sets and rng.random() < 0.35:
            copy = set(rng.choice(sets))
            for _ in range(rng.randint(0, 3)):
                if copy and rng.random() < 0.5:
                    copy.discard(rng.choice(sorted(copy)))
                else:
                    copy.add(f"w{rng.randint(0, vocab)}")
            sets.append(frozenset(copy))
        else:
            sets.append(frozenset(f"w{rng.randint(0, vocab)}" for _ in range(rng.randint(0, 12))))
    return sets


THRESHOLDS = (0.1, 0.2, 1 / 3, 0.4, 0.5, 0.6, 2 / 3, 0.7, 0.75, 0.8, 0.9, 1.0)


@pytest.mark.parametrize("seed", range(4))
def test_random_sets_match_brute_force_at_every_threshold(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        sets = _random_sets(rng)
        threshold = rng.choice((*THRESHOLDS, rng.uniform(0.05, 1.0)))
        assert _join(sets, threshold) == jaccard_pairs(sets, threshold)


def test_pairs_exactly_at_the_threshold_are_included() -> None:
    a, b = frozenset("ab"), frozenset("bc")  # 1 / 3
    c, d = frozenset("abcd"), frozenset("ab")  # 2 / 4: the length filter's edge
    e, f = frozenset("abc"), frozenset("abcdefghi")  # 3 / 9
    sets = [a, b, c, d, e, f]
    for threshold in (1 / 3, 0.5, 2 / 3, 1.0):
        assert _join(sets, threshold) == jaccard_pairs(sets, threshold)
    assert (0, 1) in _join(sets, 1 / 3) and (2, 3) in _join(sets, 0.5)
    assert (2, 3) not in _join(sets, 0.5 + 1e-12)


def test_empty_sets_match_nothing_and_identical_sets_match_at_one() -> None:
    sets = [frozenset(), frozenset(), frozenset("xy"), frozenset("xy")]
    assert _join(sets, 1.0) == [(2, 3)]
    assert _join(sets, 0.01) == [(2, 3)]


def test_prefix_is_never_shorter_than_the_exact_bound() -> None:
    sizes = np.arange(0, 500)
    for threshold in (0.1, 0.3, 0.5, 0.7, 0.9, 1.0):
        exact = [s - int(np.ceil(round(threshold * s, 9))) + 1 if s else 0 for s in sizes]
        assert (prefix_lengths(sizes, threshold) >= np.array(exact)).all()


def test_real_like_texts_match_brute_force_when_blocks_are_tiny(monkeypatch) -> None:
    texts = real_like_texts(400, seed=3, vocab=800, planted=0.2)
    sets = [frozenset(shingles(t)) for t in texts]
    similarity = {
        (i, j): len(sets[i] & sets[j]) / len(sets[i] | sets[j])
        for i in range(len(sets))
        for j in range(i + 1, len(sets))
    }
    expected = {t: [p for p, s in similarity.items() if s >= t] for t in (0.3, 0.5, 0.8)}
    assert len(expected[0.5]) > 50  # the planted copies spread over the threshold
    for t, pairs in expected.items():
        assert _join(sets, t) == pairs
    # blocks of a few probe entries and candidates: a probe set's entries must stay together
    monkeypatch.setattr(set_join, "PROBE_BLOCK", 3)
    monkeypatch.setattr(set_join, "CANDIDATE_BLOCK", 7)
    monkeypatch.setattr(set_join, "VERIFY_BLOCK", 5)
    monkeypatch.setattr(set_join, "RANK_CHUNK", 64)
    assert _join(sets, 0.5) == expected[0.5]


def test_threshold_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        similar_pairs(token_sets([["a"], ["a"]]), 0.0)
