"""``length``: the longest responses first ("Long Is More for Alignment", Zhao et al. 2024),
a strong baseline that costs nothing: the response's word count (``n_words`` of
``style_features`` when the pool has it, else counted as the feature stage counts words)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from scar_dagster.selectors.base import FEATURES, Selector, SelectorPool, floor_missing


class LengthSelector(Selector):
    """Response length in words, longest first (ties: by id)."""

    name: ClassVar[str] = "length"
    reads: ClassVar[frozenset[str]] = frozenset({FEATURES})

    def options(self) -> dict[str, Any]:
        return {"measure": "n_words"}

    def scores(self, pool: SelectorPool, budget: int) -> np.ndarray:
        words = pool.feature("n_words")
        if words is None:
            from scar_dagster.style.form import count_textstat_words

            _, responses = pool.texts()
            words = np.array([count_textstat_words(r) for r in responses], dtype=np.float64)
        return floor_missing(words)
