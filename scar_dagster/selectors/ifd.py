"""``ifd`` and ``superfiltering``: instruction-following difficulty, highest first.

IFD (Li et al. 2024, "From Quantity to Quality", Cherry LLM) = perplexity of the response
given the instruction / perplexity of the response alone, under the LM to be tuned: a high
IFD means the instruction helps little, so the pair teaches much. As in Cherry LLM, a pair with
IFD >= 1 (the instruction does not help at all) ranks below every pair with IFD < 1.
Superfiltering (Li et al. 2024) computes the same ratio with a small proxy LM (GPT-2 124M in
the paper, ~20x cheaper); here the proxy is the folder you give (its own LM version in the
perplexity store), by default the bundled SmolLM2-135M (then it equals ``ifd``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from scar_dagster.selectors.base import SelectorPool, floor_missing
from scar_dagster.selectors.perplexity import LMSelector, pool_perplexity
from scar_dagster.style.surprisal import RESPONSE_ONLY
from scar_dagster.style.surprisal_cache import PerplexityLM


def ifd_values(pool: SelectorPool, lm: PerplexityLM, store: Any = None) -> np.ndarray:
    """IFD of every valid row (NaN: degenerate, or a response without tokens): both
    perplexities through the store (``conditional`` / ``response_only``)."""
    given = pool_perplexity(pool, lm, store)
    alone = pool_perplexity(pool, lm, store, RESPONSE_ONLY)
    return given / alone


def ifd_scores(ifd: np.ndarray) -> np.ndarray:
    """Selection scores of IFD values: IFD itself below 1, ``1 - IFD`` (<= 0) from 1 on."""
    return floor_missing(np.where(ifd < 1.0, ifd, 1.0 - ifd))


class IFDSelector(LMSelector):
    """Highest IFD < 1 first, with the instruct LM."""

    name: ClassVar[str] = "ifd"

    def scores(self, pool: SelectorPool, budget: int) -> np.ndarray:
        return ifd_scores(ifd_values(pool, self.lm, self.store))


class SuperfilteringSelector(IFDSelector):
    """IFD with a proxy LM (``lm``: the folder given, else the instruct LM, as ``proxy``
    says)."""

    name: ClassVar[str] = "superfiltering"

    def __init__(self, lm: PerplexityLM, *, store: Any = None, proxy: str) -> None:
        super().__init__(lm, store=store)
        self.proxy = proxy

    def options(self) -> dict[str, Any]:
        return {**super().options(), "proxy": self.proxy}
