"""``perplexity``: the responses the instruct LM finds most predictable given their
instruction first (low perplexity of the response given the instruction: the instructional
surprisal of ``style_features``).

Every LM selector (``perplexity``, ``ifd``, ``superfiltering``, ``distilled``'s teacher) gets
its perplexities through the shared store (``style.surprisal_cache.perplexity_for``): the
values of an LM version already in ``surprisal_scores`` (the style features', another
selector's) are read, only the missing ones computed, and those stored.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from scar_dagster.selectors.base import FEATURES, TEXTS, Selector, SelectorPool, floor_missing
from scar_dagster.style.surprisal import CONDITIONAL, PerplexityKind
from scar_dagster.style.surprisal_cache import PerplexityLM, perplexity_for


def valid_rows(pool: SelectorPool) -> np.ndarray:
    """A mask of the rows the feature stage did not mark degenerate (all without features)."""
    if pool.features is None or "degenerate_reason" not in pool.features.columns:
        return np.ones(len(pool), dtype=bool)
    reason = pool.features["degenerate_reason"].fillna("").astype(str)
    return (reason.str.len() == 0).to_numpy()


def pool_perplexity(
    pool: SelectorPool, lm: PerplexityLM, store: Any, kind: PerplexityKind = CONDITIONAL
) -> np.ndarray:
    """Perplexity (``kind``) of each valid row's response under ``lm`` (NaN: degenerate, or no
    tokens), through ``perplexity_for`` and ``store`` (a SQLAlchemy engine; None: no store)."""
    values = np.full(len(pool), np.nan)
    rows = np.flatnonzero(valid_rows(pool))
    if not len(rows):
        return values
    instructions, responses = pool.texts()

    def texts(at: np.ndarray) -> tuple[list[str], list[str]]:
        return [instructions[rows[i]] for i in at], [responses[rows[i]] for i in at]

    found = perplexity_for([pool.ids[i] for i in rows], texts, lm, store, kind=kind)
    values[rows] = found.perplexity
    return values


class LMSelector(Selector):
    """A selector scored with a causal LM's perplexities (``lm``: its ``version`` names the
    model, precision and token cap) cached in ``store`` (not part of the version)."""

    reads: ClassVar[frozenset[str]] = frozenset({FEATURES, TEXTS})

    def __init__(self, lm: PerplexityLM, *, store: Any = None) -> None:
        self.lm, self.store = lm, store

    def options(self) -> dict[str, Any]:
        return {"lm_version": self.lm.version}


class PerplexitySelector(LMSelector):
    """Lowest perplexity of the response given the instruction first."""

    name: ClassVar[str] = "perplexity"

    def scores(self, pool: SelectorPool, budget: int) -> np.ndarray:
        return floor_missing(-pool_perplexity(pool, self.lm, self.store))
