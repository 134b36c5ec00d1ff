"""``random``: a seeded random subset of the same size, the baseline every selector must beat
(Ivison et al. 2025 found many selectors lose to it on pools of millions).

Each pair's score is a hash of the seed and its id, uniform in [0, 1): the same pair gets the
same score whatever else is in the pool, so the subset is stable and a new pair does not
reshuffle the others."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import numpy as np

from scar_dagster.selectors.base import Selector, SelectorPool

_SCALE = float(2**64)


def hashed_uniform(pair_id: str, seed: int) -> float:
    """A uniform number in [0, 1) fixed by ``seed`` and ``pair_id``."""
    digest = hashlib.blake2b(f"{seed}\x1f{pair_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


class RandomSelector(Selector):
    """Seeded uniform scores by id."""

    name: ClassVar[str] = "random"

    def __init__(self, seed: int = 0) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"random selector: seed must be an int >= 0, got {seed!r}")
        self.seed = seed

    def options(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def scores(self, pool: SelectorPool, budget: int) -> np.ndarray:
        return np.array([hashed_uniform(str(i), self.seed) for i in pool.ids], dtype=np.float64)
