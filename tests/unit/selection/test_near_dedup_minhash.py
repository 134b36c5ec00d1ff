"""Seeded MinHash near-dedup: LSH candidates confirmed by the exact Jaccard, first kept wins."""

from __future__ import annotations

import random

import numpy as np

from scar_dagster.selection.filters.minhash import near_duplicates_in_order, shingles


def near_duplicates(ids, scores, texts, *, order=None, **options) -> dict[str, str]:
    """``near_duplicates_in_order`` with the texts visited best score first, then id (or in
    ``order``): dropped id -> kept id."""
    walk = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i])) if order is None else order
    return near_duplicates_in_order([ids[i] for i in walk], [texts[i] for i in walk], **options)


def essay(seed: int, n_words: int = 50) -> str:
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(2000)]
    return " ".join(rng.choice(vocabulary) for _ in range(n_words))


def test_near_dedup_finds_one_word_change_and_keeps_higher_score() -> None:
    base = essay(1)
    words = base.split()
    words[25] = "changed"
    others = [essay(seed) for seed in range(2, 12)]
    ids = ["orig", "edit"] + [f"o{i}" for i in range(10)]
    texts = [base, " ".join(words), *others]
    scores = [1.0, 2.0] + [0.5] * 10
    found = near_duplicates(ids, scores, texts, seed=7)
    assert found == {"orig": "edit"}
    assert near_duplicates(ids, scores, texts, seed=7) == found  # deterministic


def test_near_dedup_is_seeded_and_order_independent() -> None:
    texts = [essay(s) for s in range(30)]
    for i in range(0, 30, 3):  # plant a near-copy of every third text
        words = texts[i].split()
        words[10] = "planted"
        texts.append(" ".join(words))
    ids = [f"id{i:02d}" for i in range(len(texts))]
    scores = [float(i % 7) for i in range(len(texts))]
    first = near_duplicates(ids, scores, texts, seed=3, threshold=0.8)
    order = list(range(len(texts)))
    random.Random(0).shuffle(order)
    shuffled = near_duplicates(
        [ids[i] for i in order],
        [scores[i] for i in order],
        [texts[i] for i in order],
        seed=3,
        threshold=0.8,
    )
    assert first == shuffled
    assert len(first) == 10
    for dropped, kept in first.items():
        assert scores[ids.index(kept)] >= scores[ids.index(dropped)]


def test_near_dedup_does_not_chain_through_dropped_pairs() -> None:
    def words(lo: int, hi: int) -> str:
        return " ".join(f"t{i}" for i in range(lo, hi))

    # Unigram sets: J(a, b) = J(b, c) = 0.6 but J(a, c) = 0.33.
    a, b, c = words(1, 41), words(11, 51), words(21, 61)
    options = {"threshold": 0.45, "num_perm": 256, "ngram_size": 1, "seed": 1}
    assert near_duplicates(["b", "c"], [2.0, 1.0], [b, c], **options) == {"c": "b"}
    found = near_duplicates(["a", "b", "c"], [3.0, 2.0, 1.0], [a, b, c], **options)
    assert found == {"b": "a"}  # c is kept: its only match, b, was dropped


def test_borderline_pairs_follow_the_exact_jaccard_not_the_estimate() -> None:
    from datasketch import MinHash

    def words(lo: int, hi: int) -> str:
        return " ".join(f"t{i}" for i in range(lo, hi))

    def estimate(a: str, b: str, seed: int) -> float:
        x, y = MinHash(num_perm=128, seed=seed), MinHash(num_perm=128, seed=seed)
        x.update_batch(shingles(a, 1))
        y.update_batch(shingles(b, 1))
        return float(np.mean(x.hashvalues == y.hashvalues))

    options = {"threshold": 0.5, "ngram_size": 1}
    below = (words(1, 51), words(18, 68))  # exact 33 / 67 = 0.49; seed 1 estimates 0.56
    assert estimate(*below, seed=1) >= 0.5
    assert near_duplicates(["a", "b"], [2.0, 1.0], list(below), seed=1, **options) == {}
    above = (words(1, 51), words(16, 66))  # exact 35 / 65 = 0.54; seed 9 estimates 0.48
    assert estimate(*above, seed=9) < 0.5
    found = near_duplicates(["a", "b"], [2.0, 1.0], list(above), seed=9, **options)
    assert found == {"b": "a"}


def test_texts_without_words_are_never_near_duplicates() -> None:
    assert shingles("!!! ???") == []
    assert shingles("one") == [b"one"]
    assert near_duplicates(["a", "b"], [1.0, 0.0], ["", "..."]) == {}


def _jaccard(a: str, b: str) -> float:
    x, y = set(shingles(a)), set(shingles(b))
    return len(x & y) / len(x | y)


def _reference_with_minhash_lsh(ids, scores, texts, threshold, num_perm, seed):
    """The straightforward datasketch MinHashLSH loop (candidates confirmed by exact Jaccard)
    that the compact banding must reproduce."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    kept, position, dropped = {}, {}, {}
    for step, i in enumerate(sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))):
        tokens = shingles(texts[i])
        if not tokens:
            continue
        minhash = MinHash(num_perm=num_perm, seed=seed)
        minhash.update_batch(tokens)
        hits = [k for k in lsh.query(minhash) if _jaccard(kept[k], texts[i]) >= threshold]
        if hits:
            dropped[ids[i]] = min(hits, key=position.__getitem__)
            continue
        lsh.insert(ids[i], minhash)
        kept[ids[i]], position[ids[i]] = texts[i], step
    return dropped


def test_compact_banding_matches_minhash_lsh() -> None:
    rng = random.Random(4)
    texts = [essay(s, 30) for s in range(60)]
    for i in range(0, 60, 4):  # near copies with one to four words changed
        words = texts[i].split()
        for j in rng.sample(range(30), rng.randint(1, 4)):
            words[j] = f"edit{j}"
        texts.append(" ".join(words))
    texts += ["", "!!!"]
    ids = [f"id{i:03d}" for i in range(len(texts))]
    scores = [float(rng.randint(0, 5)) for _ in texts]
    for threshold in (0.5, 0.8):
        expected = _reference_with_minhash_lsh(ids, scores, texts, threshold, 128, 9)
        assert near_duplicates(ids, scores, texts, threshold=threshold, seed=9) == expected
        assert expected  # the planted copies are found


def test_keep_first_keeps_the_earlier_pair_in_input_order() -> None:
    base = essay(3)
    edited = base.replace(base.split()[7], "changed", 1)
    ids, scores, texts = ["late", "early"], [9.0, 1.0], [base, edited]
    first = [1, 0]  # "early" comes first in the input although it scores lower
    assert near_duplicates(ids, scores, texts, seed=3) == {"early": "late"}
    assert near_duplicates(ids, scores, texts, seed=3, order=first) == {"late": "early"}


def test_near_duplicates_reads_texts_front_to_back_then_only_candidates() -> None:
    texts = [essay(s) for s in range(20)]
    texts.append(texts[4].replace(texts[4].split()[3], "edited", 1))
    reads: list[int] = []

    class Recording(list):
        def __getitem__(self, i):
            reads.append(i)
            return super().__getitem__(i)

    ids = [f"p{i}" for i in range(len(texts))]
    assert near_duplicates_in_order(ids, Recording(texts), seed=1) == {"p20": "p4"}
    assert reads[: len(texts)] == list(range(len(texts)))  # the signature pass, in order
    assert set(reads[len(texts) :]) == {4, 20}  # the one confirmation
