"""Exact and near-duplicate detection; of each duplicate group the best-scored pair is kept.

Both passes visit candidates by score descending, then id ascending, so the kept copy is
the higher-scored one (the smaller id on ties) and every dropped id names the id it
duplicates. Results do not depend on input order.

Exact keys hash the normalised text (Unicode NFKC, case-folded, whitespace collapsed) of
the instruction and the response (``on="pair"``, as SCAR's reference) or of the response
alone (``on="response"``: one answer reused for different instructions counts once).

Near duplicates use seeded MinHash over word n-gram shingles with LSH banding (linear in
the number of pairs, unlike the reference's all-pairs loop). A band hit is confirmed by the
MinHash Jaccard estimate before a pair is dropped. Defaults follow the SCAR reference
(``ngram_size=2``, ``num_perm=128``, similarity threshold 0.5).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from scar_dagster.progress import Progress

DedupOn = Literal["pair", "response"]
DEFAULT_NUM_PERM = 128
DEFAULT_NGRAM_SIZE = 2
DEFAULT_NEAR_THRESHOLD = 0.5

_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def fold_for_dedup(text: str) -> str:
    """NFKC, case-folded, whitespace-collapsed text used for exact-duplicate keys."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return _WHITESPACE.sub(" ", text).strip()


def dedup_text(instruction: str, response: str, on: DedupOn = "pair") -> str:
    """The text compared for duplicates: instruction and response, or the response alone."""
    if on == "response":
        return response or ""
    return f"{instruction or ''}\n{response or ''}"


def exact_key(text: str) -> str:
    """sha256 hex of the normalised text."""
    return hashlib.sha256(fold_for_dedup(text).encode("utf-8")).hexdigest()


def priority_order(ids: Sequence[str], scores: Sequence[float]) -> list[int]:
    """Indices ordered by score descending, then id ascending."""
    return sorted(range(len(ids)), key=lambda i: (-float(scores[i]), ids[i]))


def exact_duplicates(
    ids: Sequence[str], scores: Sequence[float], texts: Sequence[str]
) -> dict[str, str]:
    """Map each dropped id to the kept id whose normalised text is identical."""
    kept: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for i in priority_order(ids, scores):
        key = exact_key(texts[i])
        if key in kept:
            dropped[ids[i]] = kept[key]
        else:
            kept[key] = ids[i]
    return dropped


def shingles(text: str, ngram_size: int = DEFAULT_NGRAM_SIZE) -> list[bytes]:
    """Sorted distinct word n-grams of the case-folded text (one shingle if it is shorter)."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text or "").casefold())
    if not words:
        return []
    if len(words) < ngram_size:
        return [" ".join(words).encode("utf-8")]
    grams = {" ".join(words[i : i + ngram_size]) for i in range(len(words) - ngram_size + 1)}
    return [gram.encode("utf-8") for gram in sorted(grams)]


def _signatures(
    texts: Sequence[str],
    order: Sequence[int],
    num_perm: int,
    ngram_size: int,
    seed: int,
    log: Any = None,
) -> tuple[list[int], np.ndarray]:
    """Seeded datasketch MinHash signatures of the texts with words, in ``order``."""
    from datasketch import MinHash

    template = MinHash(num_perm=num_perm, seed=seed)
    rows = np.empty((len(order), num_perm), dtype=template.hashvalues.dtype)
    kept: list[int] = []
    progress = Progress("selection: near-dedup signatures", len(order), log, unit="texts")
    for i in progress.track(order):
        tokens = shingles(texts[i], ngram_size)
        if tokens:
            minhash = template.copy()
            minhash.update_batch(tokens)
            rows[len(kept)] = minhash.hashvalues
            kept.append(i)
    return kept, rows[: len(kept)]


def _band_key(block: np.ndarray) -> np.ndarray:
    """A 64-bit FNV-style hash of each row (collisions only add candidates to verify)."""
    key = np.full(len(block), 0xCBF29CE484222325, dtype=np.uint64)
    for column in block.T.astype(np.uint64):
        key ^= column
        key *= np.uint64(0x100000001B3)
    return key


def _shared_buckets(signatures: np.ndarray, bands: int, rows: int) -> list[list[int]]:
    """For each signature, the ids of the LSH buckets it shares with another signature."""
    members, buckets, offset = [], [], 0
    for band in range(bands):
        keys = _band_key(signatures[:, band * rows : (band + 1) * rows])
        unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        shared = np.flatnonzero(counts[inverse] > 1)
        members.append(shared)
        buckets.append(inverse[shared] + offset)
        offset += len(unique)
    member, bucket = np.concatenate(members), np.concatenate(buckets)
    by_member = np.argsort(member, kind="stable")
    member, bucket = member[by_member], bucket[by_member]
    bounds = np.searchsorted(member, np.arange(len(signatures) + 1))
    return [bucket[bounds[p] : bounds[p + 1]].tolist() for p in range(len(signatures))]


def near_duplicates(
    ids: Sequence[str],
    scores: Sequence[float],
    texts: Sequence[str],
    *,
    threshold: float = DEFAULT_NEAR_THRESHOLD,
    num_perm: int = DEFAULT_NUM_PERM,
    ngram_size: int = DEFAULT_NGRAM_SIZE,
    seed: int = 1,
    log: Any = None,
) -> dict[str, str]:
    """Map each dropped id to the best-ranked kept id with estimated Jaccard >= threshold.

    Signatures are datasketch ``MinHash(num_perm, seed=seed)``; the band count and width are
    ``MinHashLSH(threshold, num_perm)``'s optimum. Bands are bucketed with numpy, keeping only
    buckets with two or more members (``MinHashLSH``'s own index costs ~10 KB per pair).
    Only kept pairs are compared against, so duplicates do not chain through a dropped pair.
    Texts without any word are never near duplicates (exact dedup covers them).
    ``log`` gets progress lines for the signatures (the slow part).
    """
    from datasketch import MinHashLSH

    bands = MinHashLSH(threshold=threshold, num_perm=num_perm)
    order, signatures = _signatures(
        texts, priority_order(ids, scores), num_perm, ngram_size, seed, log
    )
    if len(order) < 2:
        return {}
    shared = _shared_buckets(signatures, bands.b, bands.r)
    kept_in: dict[int, list[int]] = {}  # bucket -> kept positions, ascending
    dropped: dict[str, str] = {}
    for position, buckets in enumerate(shared):
        candidates = sorted({q for bucket in buckets for q in kept_in.get(bucket, ())})
        values = signatures[position]
        match = next((q for q in candidates if np.mean(signatures[q] == values) >= threshold), None)
        if match is not None:
            dropped[ids[order[position]]] = ids[order[match]]
            continue
        for bucket in buckets:
            kept_in.setdefault(bucket, []).append(position)
    return dropped
