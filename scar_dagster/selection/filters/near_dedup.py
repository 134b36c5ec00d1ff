"""Near duplicates: MinHash LSH candidates confirmed by the exact word n-gram Jaccard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scar_dagster import schema
from scar_dagster.selection.filters.base import DedupOn, Dropped, PairText, TextsFilter, dedup_text
from scar_dagster.selection.filters.minhash import (
    DEFAULT_NEAR_THRESHOLD,
    DEFAULT_NGRAM_SIZE,
    DEFAULT_NUM_PERM,
    near_duplicates_in_order,
)


class DedupTexts(Sequence[str]):
    """The dedup text (``dedup_text``) of each pair of a ``PairText`` sequence, made on read;
    ``read_many`` reads a batch of positions at once where the rows allow it."""

    def __init__(self, rows: Sequence[PairText], on: DedupOn) -> None:
        self._rows, self._on = rows, on

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, position):  # type: ignore[override]
        row = self._rows[position]
        return dedup_text(row.instruction, row.response, self._on)

    def read_many(self, positions: Sequence[int]) -> list[str]:
        """The dedup texts at ``positions``, read in one batch from the rows."""
        reader = getattr(self._rows, "read_many", None)
        rows = reader(positions) if reader else [self._rows[p] for p in positions]
        return [dedup_text(row.instruction, row.response, self._on) for row in rows]


class NearDedupFilter(TextsFilter):
    """Drops every pair whose text has Jaccard >= ``threshold`` with a pair kept before it
    (seeded MinHash over word ``ngram_size``-grams; SCAR's reference: bigrams, 128
    permutations, 0.5); names the kept pair."""

    reason = schema.DEDUP_NEAR
    label = "near dedup"

    def __init__(
        self,
        on: DedupOn = "pair",
        *,
        threshold: float = DEFAULT_NEAR_THRESHOLD,
        num_perm: int = DEFAULT_NUM_PERM,
        ngram_size: int = DEFAULT_NGRAM_SIZE,
        seed: int = 1,
    ) -> None:
        self.on, self.threshold, self.num_perm = on, threshold, num_perm
        self.ngram_size, self.seed = ngram_size, seed

    def drop(self, texts: Sequence[PairText], log: Any = None) -> Dropped:
        found = near_duplicates_in_order(
            range(len(texts)),
            DedupTexts(texts, self.on),
            threshold=self.threshold,
            num_perm=self.num_perm,
            ngram_size=self.ngram_size,
            seed=self.seed,
            log=log,
        )
        rows = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
        return Dropped(rows, np.fromiter(found.values(), dtype=np.int64, count=len(found)))
