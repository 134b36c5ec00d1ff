"""Non-English pairs, by the share of ASCII letters (``selection.language``'s two rules)."""

from __future__ import annotations

import numpy as np

from scar_dagster import schema
from scar_dagster.selection.filters.base import Dropped, MeasureFilter
from scar_dagster.selection.language import DEFAULT_ENGLISH_THRESHOLD, EnglishRule, is_english
from scar_dagster.selection.texts import PairText


class LanguageFilter(MeasureFilter):
    """Drops pairs whose instruction or response is not English under ``rule`` (SCAR's
    reference keeps a pair when more than 70% of each text is ASCII letters)."""

    reason = schema.LANGUAGE_NON_ENGLISH
    label = "language filter"
    dtype = bool

    def __init__(
        self, threshold: float = DEFAULT_ENGLISH_THRESHOLD, rule: EnglishRule = "letters"
    ) -> None:
        self.threshold, self.rule = threshold, rule

    def measure(self, text: PairText) -> bool:
        return is_english((text.instruction, text.response), self.threshold, self.rule)

    def drop(self, measures: np.ndarray) -> Dropped:
        return Dropped(np.flatnonzero(~measures))
