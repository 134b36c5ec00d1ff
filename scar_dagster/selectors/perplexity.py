"""``perplexity``: the responses the instruct LM finds most predictable given their
instruction first (low perplexity of the response given the instruction: the instructional
surprisal feature of ``style_features``, reused where the pool has it)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from scar_dagster.selectors.base import (
    FEATURES,
    TEXTS,
    ModelRef,
    Selector,
    SelectorPool,
    floor_missing,
)
from scar_dagster.selectors.lm_scores import DEFAULT_MAX_TOKENS, lm_perplexities


def valid_rows(pool: SelectorPool) -> np.ndarray:
    """A mask of the rows the feature stage did not mark degenerate (all without features)."""
    if pool.features is None or "degenerate_reason" not in pool.features.columns:
        return np.ones(len(pool), dtype=bool)
    reason = pool.features["degenerate_reason"].fillna("").astype(str)
    return (reason.str.len() == 0).to_numpy()


def conditional_perplexity(
    pool: SelectorPool, lm: ModelRef, *, reuse_features: bool, max_tokens: int
) -> np.ndarray:
    """Perplexity of each valid row's response given its instruction (NaN: degenerate): the
    pool's ``perplexity`` feature where ``reuse_features`` and it has one, the rest computed."""
    valid = valid_rows(pool)
    values = np.full(len(pool), np.nan)
    known = pool.feature("perplexity") if reuse_features else None
    if known is not None:
        values[valid] = known[valid]
    todo = np.flatnonzero(valid & ~np.isfinite(values))
    if len(todo):
        instructions, responses = pool.texts()
        values[todo] = lm_perplexities(
            lm.load(),
            [instructions[i] for i in todo],
            [responses[i] for i in todo],
            conditional=True,
            max_tokens=max_tokens,
        )
    return values


class LMSelector(Selector):
    """A selector scored with a causal LM (``lm``, responses cut to ``max_tokens``)."""

    reads: ClassVar[frozenset[str]] = frozenset({FEATURES, TEXTS})

    def __init__(self, lm: ModelRef, *, max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        self.lm, self.max_tokens = lm, max_tokens

    def options(self) -> dict[str, Any]:
        return {"lm": self.lm.label, "max_tokens": self.max_tokens}


class PerplexitySelector(LMSelector):
    """Lowest perplexity of the response given the instruction first."""

    name: ClassVar[str] = "perplexity"

    def scores(self, pool: SelectorPool, budget: int) -> np.ndarray:
        values = conditional_perplexity(
            pool, self.lm, reuse_features=True, max_tokens=self.max_tokens
        )
        return floor_missing(-values)
