"""English filter: the share of ASCII letters among all letters (SCAR's heuristic).

SCAR's reference pipeline keeps a pair when more than 70% of the characters of both the
instruction and the response are ``[a-zA-Z]``. Counting among *letters* instead of all
characters keeps code, numbers and markdown from looking non-English.

A text without any letter carries no language evidence: it neither passes nor fails on
its own. A pair is non-English when a text with letters is at or below the threshold, or
when neither text has a single letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_ENGLISH_THRESHOLD = 0.7

_ASCII_LETTER = re.compile("[A-Za-z]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def ascii_letter_share(text: str) -> float | None:
    """Share of ASCII letters among the letters of ``text``; None when it has no letter."""
    if text.isascii():  # fast path: every ASCII letter is [A-Za-z]
        return 1.0 if _ASCII_LETTER.search(text) else None
    ascii_letters = len(_ASCII_LETTER.findall(text))
    letters = ascii_letters + sum(char.isalpha() for char in _NON_ASCII.findall(text))
    return ascii_letters / letters if letters else None


def is_english(texts: Iterable[str], threshold: float = DEFAULT_ENGLISH_THRESHOLD) -> bool:
    """True when every text with letters has an ASCII-letter share above ``threshold``.

    False when no text has any letter (empty or symbols only).
    """
    shares = [ascii_letter_share(text or "") for text in texts]
    measured = [share for share in shares if share is not None]
    return bool(measured) and all(share > threshold for share in measured)
