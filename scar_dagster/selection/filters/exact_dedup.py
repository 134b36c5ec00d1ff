"""Exact duplicates: the same normalised text; the first pair visited with it is kept.

The key hashes the normalised text (Unicode NFKC, case-folded, whitespace collapsed) of the
instruction and the response (``on="pair"``, as SCAR's reference) or of the response alone
(``on="response"``: one answer reused for different instructions counts once). With
``toolkit=True`` the key is the SCAR toolkit's: the pair's two texts stripped of surrounding
whitespace, otherwise as they are (``deduplicate_data`` in its ``filter_pipeline.py``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

from scar_dagster import schema
from scar_dagster.selection.filters.base import (
    DedupOn,
    Dropped,
    MeasureFilter,
    PairText,
    dedup_text,
)

_WHITESPACE = re.compile(r"\s+")


def fold_for_dedup(text: str) -> str:
    """NFKC, case-folded, whitespace-collapsed text used for exact-duplicate keys."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return _WHITESPACE.sub(" ", text).strip()


def exact_digest(text: str) -> bytes:
    """A 16-byte BLAKE2b digest of the normalised text (a collision among 10^9 texts has odds
    of about 10^-21)."""
    return hashlib.blake2b(fold_for_dedup(text).encode("utf-8"), digest_size=16).digest()


def toolkit_digest(instruction: str, response: str) -> bytes:
    """A 16-byte BLAKE2b digest of the toolkit's key ``(instruction.strip(), response.strip())``
    (the instruction's length first, so no two keys run together)."""
    first, second = (instruction or "").strip(), (response or "").strip()
    key = f"{len(first)}:{first}{second}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(key, digest_size=16).digest()


class ExactDedupFilter(MeasureFilter):
    """Drops every pair whose normalised text (``toolkit``: stripped texts) a pair visited
    earlier has; names that pair."""

    reason = schema.DEDUP_EXACT
    label = "exact dedup"
    dtype = "S16"

    def __init__(self, on: DedupOn = "pair", *, toolkit: bool = False) -> None:
        self.on, self.toolkit = on, toolkit

    def measure(self, text: PairText) -> bytes:
        if self.toolkit:
            return toolkit_digest(text.instruction, text.response)
        return exact_digest(dedup_text(text.instruction, text.response, self.on))

    def drop(self, measures: np.ndarray) -> Dropped:
        _, first, group = np.unique(measures, return_index=True, return_inverse=True)
        kept = first[group.reshape(-1)]
        duplicate = np.flatnonzero(kept != np.arange(len(measures)))
        return Dropped(duplicate, kept[duplicate])
