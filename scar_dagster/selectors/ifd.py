"""``ifd`` and ``superfiltering``: instruction-following difficulty, highest first.

IFD (Li et al. 2024, "From Quantity to Quality", Cherry LLM) = perplexity of the response
given the instruction / perplexity of the response alone, under the LM to be tuned: a high
IFD means the instruction helps little, so the pair teaches much. As in Cherry LLM, a pair with
IFD >= 1 (the instruction does not help at all) ranks below every pair with IFD < 1.
Superfiltering (Li et al. 2024) computes the same ratio with a small proxy LM (GPT-2 124M in
the paper, ~20x cheaper); here the proxy is the folder you give, by default the bundled
SmolLM2-135M (then it equals ``ifd`` except that it never reuses the pool's features).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from scar_dagster.selectors.base import (
    ModelRef,
    SelectorPool,
    floor_missing,
)
from scar_dagster.selectors.lm_scores import lm_perplexities
from scar_dagster.selectors.perplexity import LMSelector, conditional_perplexity, valid_rows


def ifd_values(
    pool: SelectorPool, lm: ModelRef, *, reuse_features: bool, max_tokens: int
) -> np.ndarray:
    """IFD of every valid row (NaN: degenerate, or a response without tokens)."""
    conditional = conditional_perplexity(
        pool, lm, reuse_features=reuse_features, max_tokens=max_tokens
    )
    alone = np.full(len(pool), np.nan)
    todo = np.flatnonzero(valid_rows(pool))
    if len(todo):
        _, responses = pool.texts()
        alone[todo] = lm_perplexities(
            lm.load(),
            [""] * len(todo),
            [responses[i] for i in todo],
            conditional=False,
            max_tokens=max_tokens,
        )
    return conditional / alone


def ifd_scores(ifd: np.ndarray) -> np.ndarray:
    """Selection scores of IFD values: IFD itself below 1, ``1 - IFD`` (<= 0) from 1 on."""
    return floor_missing(np.where(ifd < 1.0, ifd, 1.0 - ifd))


class IFDSelector(LMSelector):
    """Highest IFD < 1 first, with the instruct LM (its perplexity feature reused)."""

    name: ClassVar[str] = "ifd"
    reuse_features: ClassVar[bool] = True

    def scores(self, pool: SelectorPool, budget: int) -> np.ndarray:
        values = ifd_values(
            pool, self.lm, reuse_features=self.reuse_features, max_tokens=self.max_tokens
        )
        return ifd_scores(values)


class SuperfilteringSelector(IFDSelector):
    """IFD with a proxy LM (``lm``: the folder given, else the bundled SmolLM2)."""

    name: ClassVar[str] = "superfiltering"
    reuse_features: ClassVar[bool] = False
