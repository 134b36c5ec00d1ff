"""``scar``: the StyleRanker's score (SCAR, arXiv 2406.10882), read from ``scored_pairs``: the
selector whose scores the scoring stage already stores, under the ranker's version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from scar_dagster.selectors.base import SCAR_SCORES, ModelRef, Selector, SelectorPool


class ScarSelector(Selector):
    """The champion StyleRanker's scores as they are; its version is the ranker's."""

    name: ClassVar[str] = "scar"
    reads: ClassVar[frozenset[str]] = frozenset({SCAR_SCORES})

    def __init__(self, ranker_version: str, ranker: ModelRef | None = None) -> None:
        """``ranker`` (loads ``(model, tokenizer)``) scores pairs outside the pool."""
        self.ranker_version, self.ranker = ranker_version, ranker

    def options(self) -> dict[str, Any]:
        return {"ranker_version": self.ranker_version}

    def version(self, pool: SelectorPool | None = None, budget: int | None = None) -> str:
        return self.ranker_version

    def scores(self, pool: SelectorPool, budget: int) -> np.ndarray:
        if pool.scar_scores is None:
            raise ValueError("scar reads the StyleRanker's scores; the pool has none")
        return np.asarray(pool.scar_scores, dtype=np.float64)

    def text_scores(
        self, instructions: Sequence[str], responses: Sequence[str]
    ) -> np.ndarray | None:
        """The ranker's scores of any pairs (None without a ``ranker`` to load)."""
        if self.ranker is None:
            return None
        from scar_dagster.ranker.inference.scoring import score_pairs

        model, tokenizer = self.ranker.load()
        return score_pairs(model, tokenizer, list(instructions), list(responses)).astype("float64")
