"""``scar+diversity``: the StyleRanker's best candidates thinned by k-center greedy.

The ``candidate_factor x budget`` best-scored pairs are the candidates; k-center greedy over
their embeddings (``diversity``) picks ``budget`` of them. The picks come first, in greedy
order, then every other pair by its StyleRanker score. Consistency comes from the ranker's
shortlist, coverage from the thinning: a combination none of the compared tools offers.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from scar_dagster.selectors.base import (
    SCAR_SCORES,
    TEXTS,
    ModelRef,
    Selector,
    SelectorPool,
    floor_missing,
    order_scores,
)
from scar_dagster.selectors.diversity import DEFAULT_MAX_TOKENS, k_center_greedy, pair_embeddings

DEFAULT_CANDIDATE_FACTOR = 2.0


class ScarDiversitySelector(Selector):
    """k-center greedy over the StyleRanker's top ``candidate_factor x budget`` pairs."""

    name: ClassVar[str] = "scar+diversity"
    reads: ClassVar[frozenset[str]] = frozenset({TEXTS, SCAR_SCORES})
    pool_dependent: ClassVar[bool] = True

    def __init__(
        self,
        encoder: ModelRef,
        ranker_version: str,
        *,
        candidate_factor: float = DEFAULT_CANDIDATE_FACTOR,
    ) -> None:
        if not candidate_factor >= 1.0:
            raise ValueError(f"candidate_factor must be >= 1, got {candidate_factor!r}")
        self.encoder, self.ranker_version = encoder, ranker_version
        self.candidate_factor = float(candidate_factor)
        self.radius: float | None = None

    def options(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder.label,
            "max_tokens": DEFAULT_MAX_TOKENS,
            "ranker_version": self.ranker_version,
            "candidate_factor": self.candidate_factor,
        }

    def scores(self, pool: SelectorPool, budget: int) -> np.ndarray:
        if pool.scar_scores is None:
            raise ValueError("scar+diversity reads the StyleRanker's scores; the pool has none")
        scar = floor_missing(pool.scar_scores)
        n_candidates = min(len(pool), int(np.ceil(self.candidate_factor * budget)))
        ranked = np.lexsort((np.arange(len(pool)), -scar))  # score desc, then id
        candidates = np.sort(ranked[:n_candidates])  # by id: the greedy's tie order
        instructions, responses = pool.texts()
        points = pair_embeddings(
            self.encoder,
            [instructions[i] for i in candidates],
            [responses[i] for i in candidates],
        )
        picks, self.radius = k_center_greedy(points, budget)
        return order_scores(candidates[picks], len(pool), scar)
