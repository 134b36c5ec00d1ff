"""Win rates of pairwise judgements with Wilson 95% intervals, and the answers' lengths.

The win rate counts a tie as half a win (AlpacaEval's convention) over the judged
instructions; excluded ones are left out and counted by reason. The interval is
``accuracy.wilson_interval`` of ``wins + ties / 2`` successes out of ``n`` (with ties the count
is a half-integer: an approximation, fine at the sizes where the interval matters). No
length-controlled figure is computed: a regression on length needs far more comparisons than a
small run has; the mean answer lengths and the share of decisive comparisons won by the longer
answer are shown beside each win rate instead.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from scar_dagster.evaluation.accuracy import wilson_interval
from scar_dagster.evaluation.subset_judge import LOSS, TIE, WIN, Judgement


@dataclass(frozen=True)
class WinRate:
    """Model X against Y: wins, losses, ties, exclusions and the win rate with its interval."""

    wins: int
    losses: int
    ties: int
    excluded: dict[str, int] = field(default_factory=dict)
    ties_by_reason: dict[str, int] = field(default_factory=dict)
    longer_won: int = 0  # decisive comparisons won by the longer answer (in words)

    @property
    def n(self) -> int:
        """Judged instructions (wins + losses + ties)."""
        return self.wins + self.losses + self.ties

    @property
    def win_rate(self) -> float:
        return (self.wins + self.ties / 2) / self.n if self.n else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.wins + self.ties / 2, self.n)

    @property
    def longer_won_share(self) -> float:
        decisive = self.wins + self.losses
        return self.longer_won / decisive if decisive else math.nan

    def to_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {
            **asdict(self),
            "n": self.n,
            "win_rate": self.win_rate,
            "ci95_low": low,
            "ci95_high": high,
            "excluded_total": sum(self.excluded.values()),
            "longer_won_share": self.longer_won_share,
        }


def word_count(text: str) -> int:
    return len(text.split())


def win_rate(judged: Sequence[Judgement], x: Sequence[str], y: Sequence[str]) -> WinRate:
    """Tally the judgements of X (answers ``x``) against Y (answers ``y``)."""
    outcomes = Counter(j.outcome for j in judged if not j.excluded)
    longer = 0
    for judgement, answer_x, answer_y in zip(judged, x, y, strict=True):
        lx, ly = word_count(answer_x), word_count(answer_y)
        if lx != ly and judgement.outcome in (WIN, LOSS):
            longer += (judgement.outcome == WIN) == (lx > ly)
    return WinRate(
        wins=outcomes[WIN],
        losses=outcomes[LOSS],
        ties=outcomes[TIE],
        excluded=dict(sorted(Counter(j.reason for j in judged if j.excluded).items())),
        ties_by_reason=dict(sorted(Counter(j.reason for j in judged if j.outcome == TIE).items())),
        longer_won=longer,
    )


def answer_lengths(answers: Sequence[str], capped: Sequence[bool]) -> dict[str, float]:
    """Mean and median words per answer, and the share stopped by the token cap."""
    words = sorted(word_count(a) for a in answers)
    n = len(words)
    if not n:
        return {"mean_words": math.nan, "median_words": math.nan, "capped_share": math.nan}
    middle = n // 2
    median = words[middle] if n % 2 else (words[middle - 1] + words[middle]) / 2
    return {
        "mean_words": sum(words) / n,
        "median_words": float(median),
        "capped_share": sum(capped) / n,
    }
