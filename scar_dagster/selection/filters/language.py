"""English filter: the share of ASCII letters, under one of two rules.

SCAR's reference pipeline keeps a pair when more than 70% of the characters of both the
instruction and the response are ``[a-zA-Z]`` (``rule="reference"``: ASCII letters over *all*
characters; a text without any letter fails, so does an empty one). The default
(``rule="letters"``) counts ASCII letters among *letters* instead, which keeps code, numbers
and markdown from looking non-English.

Under ``letters`` a text without any letter carries no language evidence: it neither passes
nor fails on its own. A pair is non-English when a text with letters is at or below the
threshold, or when neither text has a single letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

import numpy as np

from scar_dagster import schema
from scar_dagster.selection.filters.base import Dropped, MeasureFilter, PairText

DEFAULT_ENGLISH_THRESHOLD = 0.7
EnglishRule = Literal["letters", "reference"]
ENGLISH_RULES: tuple[EnglishRule, ...] = ("letters", "reference")

_ASCII_LETTER = re.compile("[A-Za-z]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def ascii_letter_share(text: str) -> float | None:
    """Share of ASCII letters among the letters of ``text``; None when it has no letter."""
    if text.isascii():  # fast path: every ASCII letter is [A-Za-z]
        return 1.0 if _ASCII_LETTER.search(text) else None
    ascii_letters = len(_ASCII_LETTER.findall(text))
    letters = ascii_letters + sum(char.isalpha() for char in _NON_ASCII.findall(text))
    return ascii_letters / letters if letters else None


def ascii_character_share(text: str) -> float:
    """Share of ``[A-Za-z]`` among all characters of ``text`` (the reference's measure); 0 if
    empty."""
    return len(_ASCII_LETTER.findall(text)) / len(text) if text else 0.0


def is_english(
    texts: Iterable[str],
    threshold: float = DEFAULT_ENGLISH_THRESHOLD,
    rule: EnglishRule = "letters",
) -> bool:
    """True when the texts pass the English ``rule`` at ``threshold`` (strictly above it).

    ``letters``: every text with letters has an ASCII-letter share above ``threshold``; False
    when no text has any letter. ``reference``: every text has more than ``threshold`` of its
    characters in ``[A-Za-z]``, so a text without letters (or empty) fails.
    """
    if rule == "reference":
        return all(ascii_character_share(text or "") > threshold for text in texts)
    if rule != "letters":
        raise ValueError(f"english rule must be one of {ENGLISH_RULES}, got {rule!r}")
    shares = [ascii_letter_share(text or "") for text in texts]
    measured = [share for share in shares if share is not None]
    return bool(measured) and all(share > threshold for share in measured)


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
