"""Near duplicates: pairs whose word n-gram Jaccard is at least the threshold.

Two ways to find the pairs: ``method="exact"`` finds every one (``set_join``: an exact
set-similarity join, the answer of comparing all pairs), ``method="lsh"`` confirms the exact
Jaccard only of the pairs seeded MinHash LSH proposes (``minhash``; it can miss a pair LSH
does not propose). Ours drops a row similar to a row kept before it in visiting order; with
``toolkit=True`` the SCAR toolkit's rules apply instead (its tokens, ``toolkit_tokens``; its
text ``instruction + " " + response``; every pair; its greedy groups, ``near_groups``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np

from scar_dagster import schema
from scar_dagster.progress import Progress
from scar_dagster.selection.filters.base import DedupOn, Dropped, PairText, TextsFilter, dedup_text
from scar_dagster.selection.filters.minhash import (
    DEFAULT_NEAR_THRESHOLD,
    DEFAULT_NGRAM_SIZE,
    DEFAULT_NUM_PERM,
    near_duplicates_in_order,
    word_ngrams,
)
from scar_dagster.selection.filters.near_groups import first_kept_matches, toolkit_groups
from scar_dagster.selection.filters.set_join import similar_pairs, token_sets
from scar_dagster.selection.filters.toolkit_tokens import toolkit_shingles

NearMethod = Literal["exact", "lsh"]
NEAR_METHODS: tuple[NearMethod, ...] = ("exact", "lsh")


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
    (word ``ngram_size``-grams; SCAR's reference: bigrams, 0.5); names the kept pair.
    ``method``: every similar pair (``exact``) or those MinHash LSH proposes (``lsh``,
    ``num_perm`` permutations, ``seed``, ``bands`` bands or MinHashLSH's optimum).
    ``toolkit``: the SCAR toolkit's tokens, text and grouping (always every pair, as its
    exhaustive pass)."""

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
        method: NearMethod = "exact",
        toolkit: bool = False,
        bands: int | None = None,
    ) -> None:
        if method not in NEAR_METHODS:
            raise ValueError(f"near-dedup method must be one of {NEAR_METHODS}, got {method!r}")
        self.on, self.threshold, self.num_perm = on, threshold, num_perm
        self.ngram_size, self.seed = ngram_size, seed
        self.method, self.toolkit, self.bands = method, toolkit, bands

    def drop(self, texts: Sequence[PairText], log: Any = None) -> Dropped:
        if self.method == "lsh" and not self.toolkit:
            return self._lsh(texts, log)
        sets = token_sets(self._shingled(texts, log))
        pairs = similar_pairs(sets, self.threshold)
        return toolkit_groups(pairs) if self.toolkit else first_kept_matches(pairs)

    def _shingled(self, texts: Sequence[PairText], log: Any) -> Iterator[Sequence[Any]]:
        """Each pair's shingles, the texts read once front to back."""
        progress = Progress("selection: near-dedup shingles", len(texts), log, unit="texts")
        for position in progress.track(range(len(texts))):
            text = texts[position]
            if self.toolkit:
                yield toolkit_shingles(f"{text.instruction} {text.response}", self.ngram_size)
            else:
                both = dedup_text(text.instruction, text.response, self.on)
                yield list(word_ngrams(both, self.ngram_size))

    def _lsh(self, texts: Sequence[PairText], log: Any) -> Dropped:
        found = near_duplicates_in_order(
            range(len(texts)),
            DedupTexts(texts, self.on),
            threshold=self.threshold,
            num_perm=self.num_perm,
            ngram_size=self.ngram_size,
            seed=self.seed,
            bands=self.bands,
            log=log,
        )
        rows = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
        return Dropped(rows, np.fromiter(found.values(), dtype=np.int64, count=len(found)))
