"""Seeded samples of pairs that agree with each other, so a value computed once serves them all.

Every pair id gets one fixed random number, a seeded 64-bit hash of the id (``sample_keys``);
the sample of ``k`` rows of any set of pairs is the ``k`` rows with the smallest numbers
(bottom-k sampling with "permanent random numbers", as survey statistics calls it). Each such
sample is a uniform random sample of its set, independent of how the set was chosen (a
selection by score never looks at the hash), and samples of overlapping sets share their rows:
the perplexity computed for a partition's drift sample in ``style_features`` serves the samples
of the subset and of its random reference subsets in ``selected_subset`` from the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

DEFAULT_SAMPLE_ROWS = 2000
DEFAULT_SAMPLE_SEED = 0


def sample_keys(ids: Sequence[str] | pd.Series, seed: int = DEFAULT_SAMPLE_SEED) -> np.ndarray:
    """The fixed random number (uint64) of each id under ``seed``."""
    key = hashlib.sha256(f"scar-sample-{int(seed)}".encode()).hexdigest()[:16]
    values = np.asarray(ids, dtype=object)
    return pd.util.hash_array(values, hash_key=key, categorize=False)


def bottom_k(
    ids: Sequence[str] | pd.Series,
    k: int,
    seed: int = DEFAULT_SAMPLE_SEED,
    among: np.ndarray | None = None,
) -> np.ndarray:
    """A bool mask of the ``k`` rows (of those ``among`` marks, default all) whose ids have the
    smallest ``sample_keys``: every marked row when there are at most ``k``."""
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    candidates = np.arange(len(ids)) if among is None else np.flatnonzero(among)
    mask = np.zeros(len(ids), dtype=bool)
    if len(candidates) <= k:
        mask[candidates] = True
        return mask
    values = np.asarray(ids, dtype=object)[candidates]
    order = np.argsort(sample_keys(values, seed), kind="stable")
    mask[candidates[order[:k]]] = True
    return mask
