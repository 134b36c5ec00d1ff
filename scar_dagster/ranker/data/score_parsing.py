"""Read a 0-9 rating from a chat judge's reply, by one of two rules.

- ``last_score`` (ours, the default): the last ``Score: N`` line; without one, the last number
  in 0-9 (denominators such as ``/9`` or ``out of 10`` ignored). Made for our judge prompts,
  which end with ``Score: N``.
- ``most_common_number``: the rule of the SCAR toolkit's scorer (``quality_measure.py``),
  rewritten here: the text is lower-cased and stripped of ``(``, ``)`` and ``-`` (so ``(0-9)``
  reads ``09``), ``out of`` becomes ``/``. Candidates are (1) every all-digit word of each
  sentence (a line with its list number stripped, split at ``". "``) that mentions "score" or
  the aspect's name, with ``/4`` removed; then (2) the numbers of the patterns
  ``final score: N``, ``final <word> score is N``, ``N/9``, ``N out of 9``, ``score is N``,
  ``rating is N`` and ``N point(s)``, in that order. The candidates in 0-9 vote: one distinct
  value is the score, several give the most frequent (a tie: the first found). No candidate:
  0 when the reply says ``n/a``, else no score. (Where the toolkit would crash on a numeric
  word that is not a number, such as ``½``, the word is skipped.)

Both return ``(score or None, how)``; ``how`` names the rule that matched or why none did.
Whether an unparseable reply drops its quadruple or scores 0 is the judge's policy
(``ChatJudge(unparseable=...)``), not the parser's.
"""

from __future__ import annotations

import re
from collections import Counter

MAX_QUALITY = 9.0
PARSE_RULES: tuple[str, ...] = ("last_score", "most_common_number")

_SCORE_LINE = re.compile(r"\bscore\s*\**\s*[:=]\s*\**\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_OUT_OF = re.compile(r"\s*(?:/|out of)\s*(?:9|10)\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?!\w)")
_NUM = r"(\d+(?:\.\d+)?)"
_VOTE_PATTERNS = tuple(
    re.compile(p)
    for p in (
        rf"final score:\s*{_NUM}",
        rf"final\s*(\w*)\s*score\s*is\s*{_NUM}",
        rf"{_NUM}\s*\/\s*9",
        rf"{_NUM}\s*out\s*of\s*9",
        rf"score\s*is\s*{_NUM}",
        rf"rating\s*is\s*{_NUM}",
        rf"{_NUM}\s*points?",
    )
)
_DECIMAL = re.compile(r"^\d+(?:\.\d+)?$")


def last_score(text: str | None) -> tuple[float | None, str]:
    """The last ``Score: N`` (``"score_line"``), else the last number in 0-9 (``"last_number"``).

    An out-of-range ``Score:`` or no number at all gives ``(None, why)``: never a silent 0.
    """
    if not text or not text.strip():
        return None, "empty reply"
    lines = _SCORE_LINE.findall(text)
    if lines:
        value = float(lines[-1])
        if 0.0 <= value <= MAX_QUALITY:
            return value, "score_line"
        return None, f"Score {lines[-1]} outside 0-9"
    numbers = [float(n) for n in _NUMBER.findall(_OUT_OF.sub(" ", text))]
    in_range = [n for n in numbers if 0.0 <= n <= MAX_QUALITY]
    if in_range:
        return in_range[-1], "last_number"
    return None, "no Score line and no number in 0-9"


def _as_number(word: str) -> float | None:
    try:
        return float(word)
    except ValueError:
        return None


def _sentence_candidates(text: str, aspect: str) -> list[float]:
    """All-digit words of the sentences that mention "score" or a word of ``aspect``."""
    markers = ("score", *aspect.split())
    out = []
    for line in text.split("\n"):
        for sentence in line.lstrip("0123456789. ").split(". "):
            if not any(marker in sentence for marker in markers):
                continue
            cleaned = sentence.strip(".").replace("out of ", "/").replace("/4", "")
            for word in cleaned.split():
                value = _as_number(word) if word.isnumeric() else None
                if value is not None:
                    out.append(value)
    return out


def _pattern_candidates(text: str) -> list[float]:
    out = []
    for pattern in _VOTE_PATTERNS:
        for match in pattern.finditer(text):
            out.extend(float(g) for g in match.groups() if g and _DECIMAL.match(g))
    return out


def most_common_number(text: str | None, aspect: str = "") -> tuple[float | None, str]:
    """The SCAR toolkit's rule (see the module docstring); ``aspect`` e.g. ``"helpfulness"``."""
    if not text or not text.strip():
        return None, "empty reply"
    norm = text.lower().replace("(", "").replace(")", "").replace("-", "").replace("out of", "/")
    candidates = _sentence_candidates(norm, aspect.lower()) + _pattern_candidates(norm)
    valid = [v for v in candidates if 0.0 <= v <= MAX_QUALITY]
    if valid:
        return Counter(valid).most_common(1)[0][0], "most_common_number"
    if "n/a" in norm:
        return 0.0, "n/a"
    return None, "no number in 0-9 near a score or the aspect"


def parse_score(
    text: str | None, rule: str = "last_score", aspect: str = ""
) -> tuple[float | None, str]:
    """A 0-9 rating from a judge's reply by ``rule`` (one of :data:`PARSE_RULES`)."""
    if rule == "last_score":
        return last_score(text)
    if rule == "most_common_number":
        return most_common_number(text, aspect)
    raise ValueError(f"unknown parse rule {rule!r}: use one of {PARSE_RULES}")
