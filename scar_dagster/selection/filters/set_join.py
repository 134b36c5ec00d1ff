"""Every pair of token sets with Jaccard similarity >= a threshold: an exact set-similarity join.

All-Pairs prefix filtering (Bayardo, Ma and Srikant, WWW 2007) with the length filter and the
positional filter of PPJoin (Xiao et al., WWW 2008), vectorised with numpy: tokens are ordered
by global frequency (rarest first); a pair with Jaccard >= t shares a token among the first
``|x| - ceil(t |x|) + 1`` tokens of each set (its prefix), so only pairs sharing a prefix token
are candidates. A candidate's first shared token bounds its overlap (positional filter); the
rest are verified by their exact overlap (a sparse row product), the test being the toolkit's
``|x & y| / |x | y| >= t`` in float64. The filters are conservative, so the answer is the
brute-force answer: tests compare the two on random and real-like sets, threshold edges
included. Nothing here is O(n^2) unless the sets are: the work is the candidates sharing a
rare token.

Sets are given as ``TokenSets`` (CSR: offsets and sorted unique 64-bit token hashes per set);
``token_sets`` hashes shingle strings with pandas' fixed-key SipHash, so a pair's answer could
change only if two different shingles of its two texts shared a 64-bit hash (odds about
``|x| |y| / 2^64``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# A product within this of an integer counts as that integer when a bound is rounded, so the
# filters never drop a pair the float test keeps (they are only ever made looser).
_SLACK = 1e-9
CANDIDATE_BLOCK = 2_000_000  # candidate (probe, indexed) entries expanded at a time
PROBE_BLOCK = 200_000  # probe entries looked up at a time
VERIFY_BLOCK = 50_000  # candidate pairs whose overlaps are computed at a time


@dataclass(frozen=True)
class TokenSets:
    """Sets of 64-bit tokens in CSR form: set ``i`` is ``tokens[offsets[i]:offsets[i + 1]]``,
    sorted and unique."""

    offsets: np.ndarray  # int64, n + 1
    tokens: np.ndarray  # uint64

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def sizes(self) -> np.ndarray:
        """Each set's size (int64)."""
        return np.diff(self.offsets)


def hash_shingles(shingles: Sequence[str]) -> np.ndarray:
    """Stable 64-bit hashes of shingle strings (pandas' SipHash with its fixed key)."""
    import pandas as pd

    if not shingles:
        return np.empty(0, dtype=np.uint64)
    return pd.util.hash_array(np.asarray(shingles, dtype=object), categorize=False)


def token_sets(shingle_lists: Iterable[Sequence[str]], batch: int = 2048) -> TokenSets:
    """The ``TokenSets`` of each text's shingles (strings), hashed ``batch`` texts at a time."""
    parts: list[np.ndarray] = []
    sizes: list[int] = []
    pending: list[str] = []
    bounds: list[int] = []

    def flush() -> None:
        hashed = hash_shingles(pending)
        start = 0
        for end in bounds:
            unique = np.unique(hashed[start:end])
            parts.append(unique)
            sizes.append(len(unique))
            start = end
        pending.clear()
        bounds.clear()

    for shingles in shingle_lists:
        pending.extend(shingles)
        bounds.append(len(pending))
        if len(bounds) >= batch:
            flush()
    flush()
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    tokens = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    return TokenSets(offsets, tokens.astype(np.uint64, copy=False))


def prefix_lengths(sizes: np.ndarray, threshold: float) -> np.ndarray:
    """How many of a set's rarest tokens are its prefix: ``|x| - ceil(t |x|) + 1`` (0 for an
    empty set), rounded so that it is never shorter than the exact bound."""
    needed = np.ceil(threshold * sizes - _SLACK)
    return np.where(sizes > 0, sizes - needed + 1, 0).clip(0, sizes).astype(np.int64)


def similar_pairs(sets: TokenSets, threshold: float) -> np.ndarray:
    """Every pair ``(i, j)``, ``i < j``, whose sets have ``|i & j| / |i | j| >= threshold``,
    as an ``(k, 2)`` int64 array sorted by ``i`` then ``j``. Empty sets match nothing."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    sizes = sets.sizes
    if len(sets) < 2 or not len(sets.tokens):
        return np.empty((0, 2), dtype=np.int64)
    shared = _shared_ranks(sets)
    index = _PrefixIndex(shared, prefix_lengths(sizes, threshold))
    matrix = shared.incidence()
    found = [
        _verified(matrix, sizes, probe, indexed, threshold)
        for probe, indexed in index.candidates(sizes, threshold)
    ]
    pairs = np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


@dataclass(frozen=True)
class _SharedRanks:
    """The tokens of each set that another set also has, as ranks in the global order (rarest
    first, ties by hash; int32), sorted within the set (CSR), and the count of the set's other
    tokens (``hapax``: they occur in no other set, rank before every shared token and never
    add to an overlap)."""

    offsets: np.ndarray  # int64, n + 1
    ranks: np.ndarray  # int32
    hapax: np.ndarray  # int64 per set
    columns: int

    def incidence(self):
        """The shared tokens as a sparse 0/1 matrix (rows: sets, columns: ranks)."""
        from scipy.sparse import csr_matrix

        data = np.ones(len(self.ranks), dtype=np.int32)
        shape = (len(self.offsets) - 1, max(self.columns, 1))
        return csr_matrix((data, self.ranks, self.offsets), shape=shape)


RANK_CHUNK = 1 << 22  # tokens looked up and sorted at a time


def _shared_ranks(sets: TokenSets) -> _SharedRanks:
    """Each set's shared tokens as global ranks (``_SharedRanks``), a chunk of sets at a time."""
    unique, counts = np.unique(sets.tokens, return_counts=True)
    repeated = counts > 1
    tokens, counts = unique[repeated], counts[repeated]
    del unique, repeated
    rank_of = np.empty(len(tokens), dtype=np.int32)
    rank_of[np.lexsort((tokens, counts))] = np.arange(len(tokens), dtype=np.int32)
    del counts
    n, offsets = len(sets), sets.offsets
    kept = np.zeros(n, dtype=np.int64)
    parts: list[np.ndarray] = []
    first = 0
    while first < n:
        last = int(np.searchsorted(offsets, offsets[first] + RANK_CHUNK, side="right")) - 1
        last = min(n, max(last, first + 1))
        chunk = sets.tokens[offsets[first] : offsets[last]]
        row = np.repeat(np.arange(last - first, dtype=np.int64), np.diff(offsets[first : last + 1]))
        at = np.searchsorted(tokens, chunk).clip(max=max(len(tokens) - 1, 0))
        hit = tokens[at] == chunk if len(tokens) else np.zeros(len(chunk), dtype=bool)
        key = row[hit] * max(len(tokens), 1) + rank_of[at[hit]]
        key.sort()
        kept[first:last] = np.bincount(row[hit], minlength=last - first)
        parts.append((key % max(len(tokens), 1)).astype(np.int32))
        first = last
    shared_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(kept, out=shared_offsets[1:])
    ranks = np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)
    return _SharedRanks(shared_offsets, ranks, sets.sizes - kept, len(tokens))


class _PrefixIndex:
    """The shared prefix tokens of every set, sorted by (token rank, set)."""

    def __init__(self, shared: _SharedRanks, prefix: np.ndarray) -> None:
        offsets = shared.offsets
        n = len(offsets) - 1
        row = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
        # a shared token's position in its set's order: after the set's hapax tokens
        position = np.arange(len(shared.ranks), dtype=np.int64) - offsets[row] + shared.hapax[row]
        keep = position < prefix[row]
        self.n = n
        self.row = row[keep].astype(np.int32)
        self.position = position[keep].astype(np.int32)
        self.rank = shared.ranks[keep]
        del row, position, keep
        self.key = self.rank.astype(np.int64) * n + self.row
        order = np.argsort(self.key, kind="stable")
        self.key = self.key[order]
        self.sorted_row, self.sorted_position = self.row[order], self.position[order]

    def candidates(self, sizes: np.ndarray, threshold: float):
        """Blocks of candidate pairs ``(probe, indexed)`` with ``indexed < probe``, each pair
        once with the positions of its first shared token, after the length and positional
        filters. A block is whole probe sets of at most ``CANDIDATE_BLOCK`` entries met."""
        start = 0
        while start < len(self.row):
            stop = self._block_end(start, min(len(self.row), start + PROBE_BLOCK))
            low, count = self._matches(slice(start, stop))
            bounds = np.cumsum(count)
            if len(bounds) and bounds[-1] > CANDIDATE_BLOCK:  # fewer probe sets, same rule
                cut = int(np.searchsorted(bounds, CANDIDATE_BLOCK, side="right"))
                stop = self._block_end(start, start + max(cut, 1))
                low, count = low[: stop - start], count[: stop - start]
            block = self._expand(slice(start, stop), low, count)
            start = stop
            if block is not None:
                kept = _filtered(*block, sizes, threshold)
                if len(kept[0]):
                    yield kept

    def _block_end(self, start: int, stop: int) -> int:
        """``stop`` moved to the end of its probe set (a set's entries stay in one block, so
        each pair is met once, its first shared token first)."""
        return int(np.searchsorted(self.row, self.row[stop - 1], side="right"))

    def _matches(self, entries: slice) -> tuple[np.ndarray, np.ndarray]:
        """For probe entries, the first index entry of the same token and how many entries of
        earlier sets have it."""
        rank, row = self.rank[entries].astype(np.int64), self.row[entries]
        low = np.searchsorted(self.key, rank * self.n)
        return low, np.searchsorted(self.key, rank * self.n + row) - low

    def _expand(self, entries: slice, low: np.ndarray, repeats: np.ndarray):
        """Every (probe entry, indexed entry) of a slice of probe entries (``low``, ``repeats``:
        their ``_matches``): probe set, indexed set, and both positions."""
        total = int(repeats.sum())
        if not total:
            return None
        first = np.repeat(low - np.cumsum(repeats) + repeats, repeats)
        at = first + np.arange(total, dtype=np.int64)
        probe = np.repeat(self.row[entries].astype(np.int64), repeats)
        probe_position = np.repeat(self.position[entries], repeats)
        indexed = self.sorted_row[at].astype(np.int64)
        return probe, indexed, probe_position, self.sorted_position[at]


def _filtered(
    probe: np.ndarray,
    indexed: np.ndarray,
    probe_position: np.ndarray,
    indexed_position: np.ndarray,
    sizes: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate pair once (its first shared token: the probe's entries come in token
    order), kept when the length and positional filters allow Jaccard >= threshold."""
    n = len(sizes)
    _, first = np.unique(probe * n + indexed, return_index=True)
    probe, indexed = probe[first], indexed[first]
    size_p, size_i = sizes[probe], sizes[indexed]
    short, long = np.minimum(size_p, size_i), np.maximum(size_p, size_i)
    overlap_needed = threshold / (1.0 + threshold) * (size_p + size_i) - _SLACK
    reachable = np.minimum(size_p - probe_position[first], size_i - indexed_position[first])
    keep = (short >= threshold * long - _SLACK) & (reachable >= overlap_needed)
    return probe[keep], indexed[keep]


def _verified(
    matrix, sizes: np.ndarray, probe: np.ndarray, indexed: np.ndarray, threshold: float
) -> np.ndarray:
    """The candidate pairs whose exact Jaccard is >= threshold, as ``(indexed, probe)`` rows."""
    overlap = np.concatenate(
        [
            np.asarray(
                matrix[probe[at : at + VERIFY_BLOCK]]
                .multiply(matrix[indexed[at : at + VERIFY_BLOCK]])
                .sum(axis=1)
            ).reshape(-1)
            for at in range(0, len(probe), VERIFY_BLOCK)
        ]
    )
    union = sizes[probe] + sizes[indexed] - overlap
    similar = overlap / np.maximum(union, 1) >= threshold
    return np.stack([indexed[similar], probe[similar]], axis=1).astype(np.int64)
