"""``diversity``: k-center greedy over sentence embeddings of instruction + response (the
diversity idea of DEITA and RDS): each pick is the pair farthest from every pair picked so far,
so the picked set covers the pool within the smallest radius greedy finds (at most twice the
optimum, Gonzalez 1985).

The greedy starts from the pair nearest the pool's mean embedding; ties go to the lowest row
(the pool is sorted by id), so the order is the same for the same pool in any input order.
Memory is the embeddings (4 bytes x dimension per pair) and one distance per pair; time is
``budget x pool x dimension``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from scar_dagster.selectors.base import TEXTS, ModelRef, Selector, SelectorPool, order_scores

DEFAULT_MAX_TOKENS = 256


def k_center_greedy(points: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """``(order, radius)``: ``k`` rows of ``points`` picked greedily (farthest first) and the
    largest distance from any row to its nearest picked row (0 when every row is picked)."""
    points = np.asarray(points, dtype=np.float32)
    n = len(points)
    k = max(0, min(int(k), n))
    if k == 0:
        return np.zeros(0, dtype=np.int64), float("inf") if n else 0.0
    center = points.mean(axis=0, keepdims=True)
    first = int(np.argmin(_distances(points, center[0])))
    order = [first]
    nearest = _distances(points, points[first])
    nearest[first] = -1.0  # a picked row is never picked again (duplicates are at distance 0)
    for _ in range(1, k):
        pick = int(np.argmax(nearest))  # first of the ties: the lowest row
        order.append(pick)
        np.minimum(nearest, _distances(points, points[pick]), out=nearest)
        nearest[pick] = -1.0
    return np.asarray(order, dtype=np.int64), max(0.0, float(nearest.max()))


def _distances(points: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Euclidean distance of every row of ``points`` to ``point`` (float32)."""
    return np.sqrt(np.maximum(((points - point) ** 2).sum(axis=1), 0.0))


def pair_embeddings(
    encoder: ModelRef, instructions: Sequence[str], responses: Sequence[str]
) -> np.ndarray:
    """L2-normalised embeddings of ``instruction + blank line + response``, one row per pair."""
    from scar_dagster.style.surprisal import embed_texts

    tokenizer, model = encoder.load()
    texts = [f"{x}\n\n{y}" for x, y in zip(instructions, responses, strict=True)]
    limit = getattr(model.config, "max_position_embeddings", None) or DEFAULT_MAX_TOKENS
    return embed_texts(tokenizer, model, texts, max_tokens=min(DEFAULT_MAX_TOKENS, int(limit)))


class DiversitySelector(Selector):
    """k-center greedy picks of ``budget`` pairs first, then the rest farthest first."""

    name: ClassVar[str] = "diversity"
    reads: ClassVar[frozenset[str]] = frozenset({TEXTS})
    pool_dependent: ClassVar[bool] = True

    def __init__(self, encoder: ModelRef) -> None:
        self.encoder = encoder
        self.radius: float | None = None  # of the last call's picks

    def options(self) -> dict[str, Any]:
        return {"encoder": self.encoder.label, "max_tokens": DEFAULT_MAX_TOKENS}

    def scores(self, pool: SelectorPool, budget: int) -> np.ndarray:
        points = pair_embeddings(self.encoder, *pool.texts())
        order, self.radius = k_center_greedy(points, budget)
        return order_scores(order, len(pool), _nearest_pick(points, order))


def _nearest_pick(points: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Each row's distance to its nearest row of ``order`` (0 for the picks themselves)."""
    nearest = np.full(len(points), np.inf, dtype=np.float32)
    for pick in order.tolist():
        np.minimum(nearest, _distances(points, points[pick]), out=nearest)
    return np.where(np.isfinite(nearest), nearest, 0.0)
