"""Near duplicates by seeded MinHash LSH, each candidate confirmed by the exact Jaccard.

Texts are visited in a priority order and each is compared only with the texts kept before it;
the first kept match names the copy kept. Signatures are seeded datasketch ``MinHash`` over
word n-gram shingles, reduced to LSH band keys with numpy (linear in the number of texts, unlike
SCAR's all-pairs loop). A band hit only proposes a candidate: it is confirmed by the exact
Jaccard similarity of the two shingle sets (the MinHash estimate alone flips borderline pairs
either way). Defaults follow the SCAR reference (``ngram_size=2``, ``num_perm=128``,
similarity threshold 0.5).
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from scar_dagster.progress import Progress

DEFAULT_NUM_PERM = 128
DEFAULT_NGRAM_SIZE = 2
DEFAULT_NEAR_THRESHOLD = 0.5
SHINGLE_CACHE = 4096  # shingle sets kept for confirming candidates (~10 KB each for long texts)
CONFIRM_BLOCK = 2048  # rows whose near-duplicate candidates are confirmed with one text read
_SIGNATURE_BATCH = 1024  # MinHash signatures held at once before they are reduced to band keys

_WORD = re.compile(r"\w+")


def word_ngrams(text: str, ngram_size: int = DEFAULT_NGRAM_SIZE) -> set[str]:
    """Distinct word n-grams of the NFKC, case-folded text (one shingle if it is shorter)."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text or "").casefold())
    if len(words) < ngram_size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + ngram_size]) for i in range(len(words) - ngram_size + 1)}


def shingles(text: str, ngram_size: int = DEFAULT_NGRAM_SIZE) -> list[bytes]:
    """``word_ngrams`` sorted, as UTF-8 bytes (MinHash's input)."""
    return [gram.encode("utf-8") for gram in sorted(word_ngrams(text, ngram_size))]


def _band_rows(threshold: float, num_perm: int, bands: int | None = None) -> tuple[int, int]:
    """``MinHashLSH(threshold, num_perm)``'s optimal band count and rows per band, or
    ``bands`` bands of ``num_perm // bands`` rows (the SCAR toolkit's ``num_bands``)."""
    if bands is not None:
        if not 1 <= bands <= num_perm:
            raise ValueError(f"bands must be in [1, num_perm={num_perm}], got {bands}")
        return bands, num_perm // bands
    from datasketch import MinHashLSH

    bands = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return bands.b, bands.r


def _band_key(block: np.ndarray) -> np.ndarray:
    """A 64-bit FNV-style hash of each row (collisions only add candidates to verify)."""
    key = np.full(len(block), 0xCBF29CE484222325, dtype=np.uint64)
    for column in block.T.astype(np.uint64):
        key ^= column
        key *= np.uint64(0x100000001B3)
    return key


def _band_keys(
    texts: Sequence[str],
    num_perm: int,
    ngram_size: int,
    seed: int,
    bands: tuple[int, int],
    log: Any = None,
) -> tuple[list[int], np.ndarray]:
    """Positions of the texts with words, and their LSH band keys (one row per such text).

    Texts are read once, in order (a lazy sequence fetches them chunk by chunk). Signatures
    are seeded datasketch ``MinHash(num_perm, seed=seed)`` reduced to ``b`` band keys per
    batch, so memory is ``8 * b`` bytes per text, not ``8 * num_perm``.
    """
    from datasketch import MinHash

    n_bands, width = bands
    template = MinHash(num_perm=num_perm, seed=seed)
    keys = np.empty((len(texts), n_bands), dtype=np.uint64)
    batch = np.empty((_SIGNATURE_BATCH, num_perm), dtype=template.hashvalues.dtype)
    kept: list[int] = []
    filled = 0

    def flush() -> None:
        rows = batch[:filled]
        start = len(kept) - filled
        for band in range(n_bands):
            keys[start : len(kept), band] = _band_key(rows[:, band * width : (band + 1) * width])

    progress = Progress("selection: near-dedup signatures", len(texts), log, unit="texts")
    for position in progress.track(range(len(texts))):
        tokens = shingles(texts[position], ngram_size)
        if not tokens:
            continue
        minhash = template.copy()
        minhash.update_batch(tokens)
        batch[filled] = minhash.hashvalues
        kept.append(position)
        filled += 1
        if filled == _SIGNATURE_BATCH:
            flush()
            filled = 0
    flush()
    return kept, keys[: len(kept)]


def _shared_buckets(keys: np.ndarray) -> list[list[int]]:
    """For each row of band keys, the ids of the LSH buckets it shares with another row."""
    members, buckets, offset = [], [], 0
    for band in range(keys.shape[1]):
        unique, inverse, counts = np.unique(keys[:, band], return_inverse=True, return_counts=True)
        shared = np.flatnonzero(counts[inverse] > 1)
        members.append(shared)
        buckets.append(inverse[shared] + offset)
        offset += len(unique)
    member, bucket = np.concatenate(members), np.concatenate(buckets)
    by_member = np.argsort(member, kind="stable")
    member, bucket = member[by_member], bucket[by_member]
    bounds = np.searchsorted(member, np.arange(len(keys) + 1))
    return [bucket[bounds[p] : bounds[p + 1]].tolist() for p in range(len(keys))]


def jaccard_at_least(a: frozenset[bytes], b: frozenset[bytes], threshold: float) -> bool:
    """True when the exact Jaccard similarity ``|a & b| / |a | b|`` is >= ``threshold``."""
    return bool(a or b) and len(a & b) >= threshold * len(a | b)


def near_duplicates_in_order(
    ids: Sequence[Any],
    texts: Sequence[str],
    *,
    threshold: float = DEFAULT_NEAR_THRESHOLD,
    num_perm: int = DEFAULT_NUM_PERM,
    ngram_size: int = DEFAULT_NGRAM_SIZE,
    seed: int = 1,
    bands: int | None = None,
    log: Any = None,
) -> dict[Any, Any]:
    """Map each dropped key to the first kept key (in the order given) with Jaccard >=
    ``threshold``; ``ids`` are any keys (pair ids, positions), ``texts`` in the same order.

    Signatures are datasketch ``MinHash(num_perm, seed=seed)``; the band count and width are
    ``MinHashLSH(threshold, num_perm)``'s optimum (or ``bands`` bands), bucketed with numpy
    keeping only buckets with two or more members (``MinHashLSH``'s own index costs ~10 KB
    per pair). Only kept texts are compared against, so duplicates do not chain through a
    dropped one; texts without any word are never near duplicates. ``log`` gets progress
    lines for the signatures (the slow part).

    ``texts`` is read once front to back for the signatures, then only at the positions of
    LSH candidates, ``CONFIRM_BLOCK`` rows at a time: a sequence with ``read_many(positions)``
    (``ChunkedTexts``, ``DedupTexts``) serves each block in one batched read, so the reads
    are O(rows / CONFIRM_BLOCK), not O(candidates).
    """
    if len(ids) != len(texts):
        raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
    banding = _band_rows(threshold, num_perm, bands)
    positions, keys = _band_keys(texts, num_perm, ngram_size, seed, banding, log)
    if len(positions) < 2:
        return {}
    shared = _shared_buckets(keys)
    reader = getattr(texts, "read_many", None)

    def read(rows: Sequence[int]) -> list[str]:
        wanted = [positions[row] for row in rows]
        return reader(wanted) if reader else [texts[p] for p in wanted]

    cache: OrderedDict[int, frozenset[bytes]] = OrderedDict()  # kept rows' shingles, LRU
    kept_in: dict[int, list[int]] = {}  # bucket -> kept rows, ascending
    dropped: dict[Any, Any] = {}
    for start in range(0, len(shared), CONFIRM_BLOCK):
        block = range(start, min(start + CONFIRM_BLOCK, len(shared)))
        # rows that may need a comparison: a bucket shared with a kept row or an earlier row
        # of the block; their texts and those of their kept candidates are read in one batch
        in_block: dict[int, list[int]] = {}  # bucket -> earlier rows of this block
        need: set[int] = set()
        for row in block:
            candidates = {q for b in shared[row] for q in kept_in.get(b, ())}
            candidates.update(q for b in shared[row] for q in in_block.get(b, ()))
            if candidates:
                need.add(row)
                need.update(candidates)
            for bucket in shared[row]:
                in_block.setdefault(bucket, []).append(row)
        missing = sorted(r for r in need if r not in cache)
        local = dict(cache)
        local.update(
            (r, frozenset(shingles(t, ngram_size)))
            for r, t in zip(missing, read(missing), strict=True)
        )
        for row in block:
            buckets = shared[row]
            candidates = sorted({q for bucket in buckets for q in kept_in.get(bucket, ())})
            match = None
            if candidates:
                mine = local[row]
                similar = (q for q in candidates if jaccard_at_least(mine, local[q], threshold))
                match = next(similar, None)
            if match is not None:
                dropped[ids[positions[row]]] = ids[positions[match]]
                continue
            for bucket in buckets:
                kept_in.setdefault(bucket, []).append(row)
            if row in local:  # a kept row read now may be a candidate of later blocks
                cache[row] = local[row]
        for row in need:
            if row in cache:
                cache.move_to_end(row)
        while len(cache) > SHINGLE_CACHE:
            cache.popitem(last=False)
    return dropped
