"""Does the ranker prefer the right response? Pairwise accuracy with a Wilson 95% interval.

``evaluate_pairs`` scores ``(instruction, preferred, other)`` rows with a StyleRanker;
``pairwise_accuracy_from_scores`` does the arithmetic on given scores. torch is imported only when
pairs are scored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster.ranker.data.quadruple import (
    DEFAULT_QUALITY_THRESHOLD,
    PAIR_NAMES,
    PAIR_TYPES,
    pair_allowed,
    split_quadruples,
)

Z_95 = 1.959963984540054  # two-sided 95% normal quantile
PAIR_FIELDS: tuple[str, ...] = ("instruction", "preferred", "other")


@dataclass(frozen=True)
class AccuracyResult:
    """Pairwise accuracy over ``n`` pairs with its Wilson 95% interval.

    With ``n == 0`` the accuracy is NaN and the interval is the uninformative ``(0, 1)``.
    """

    accuracy: float
    n: int
    ci_low: float
    ci_high: float

    def to_frame(self) -> pd.DataFrame:
        """One-row table: n, accuracy, ci95_low, ci95_high."""
        return pd.DataFrame(
            [
                {
                    "n": self.n,
                    "accuracy": self.accuracy,
                    "ci95_low": self.ci_low,
                    "ci95_high": self.ci_high,
                }
            ]
        )


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (``(0, 1)`` when ``n == 0``)."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def pairwise_accuracy_from_scores(
    preferred_scores: Iterable[float], other_scores: Iterable[float]
) -> AccuracyResult:
    """Share of pairs whose preferred response scores strictly higher than the other one.

    Ties count as wrong (a ranker that cannot tell the two apart gets no credit), and so does a
    NaN on either side. The interval is Wilson's 95% score interval.
    """
    preferred = np.asarray(list(preferred_scores), dtype=np.float64)
    other = np.asarray(list(other_scores), dtype=np.float64)
    if preferred.shape != other.shape or preferred.ndim != 1:
        raise ValueError(
            f"preferred and other scores must be 1-D of equal length, "
            f"got {preferred.shape} and {other.shape}"
        )
    n = int(preferred.size)
    correct = int(np.count_nonzero(preferred > other))  # NaN compares False -> wrong
    low, high = wilson_interval(correct, n)
    return AccuracyResult(accuracy=correct / n if n else math.nan, n=n, ci_low=low, ci_high=high)


def _pair_row(row: Any, where: str) -> dict[str, str]:
    """``{instruction, preferred, other}`` of one row in our or a preference-pair spelling."""
    from scar_dagster.ranker.data.preference import parse_pair

    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
    if "preferred" in row or "other" in row:
        missing = [f for f in PAIR_FIELDS if f not in row]
        if missing:
            raise ValueError(f"{where}: missing field(s) {missing}")
        wrong = [f for f in PAIR_FIELDS if not isinstance(row[f], str)]
        if wrong:
            raise ValueError(f"{where}: field(s) {wrong} must be strings")
        return {f: row[f] for f in PAIR_FIELDS}
    try:
        pair = parse_pair(row)
    except ValueError as error:
        raise ValueError(f"{where}: {error.args[1]} ({error.args[0]})") from None
    return {
        "instruction": pair["instruction"],
        "preferred": pair["chosen"],
        "other": pair["rejected"],
    }


def read_pairs(jsonl_path: str | Path) -> list[dict[str, str]]:
    """Rows ``{instruction, preferred, other}`` of a JSONL file or a JSON array.

    Each row is ``{instruction, preferred, other}`` or a preference pair
    (``instruction``/``prompt``, ``chosen``, ``rejected``, also as message lists); blank lines
    are skipped. Raises ValueError naming ``path:line`` for invalid JSON or an invalid row.
    """
    path = Path(jsonl_path)
    text = path.read_text(encoding="utf-8-sig")
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: invalid JSON array ({error.msg})") from error
        return [_pair_row(row, f"{path}: item {n}") for n, row in enumerate(items, start=1)]
    rows: list[dict[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: line {number}: invalid JSON ({error.msg})") from error
        rows.append(_pair_row(row, f"{path}: line {number}"))
    return rows


def heldout_pairs(
    records: Iterable[Any],
    *,
    seed: int = 42,
    threshold: float = DEFAULT_QUALITY_THRESHOLD,
) -> list[dict[str, str]]:
    """Preference pairs from the test split of training records (never trained on).

    The split is ``split_quadruples(records, seed=seed)``'s, the one training uses with the
    same seed. A test quadruple gives its ``direct>referenced``, ``referenced>human`` and
    ``direct>human`` pairs that pass the quality constraint; a test preference pair gives
    itself when it passes. Rows are in ``read_pairs``'s form plus ``pair_type``.
    """
    from scar_dagster.ranker.data.preference import PAIR_NAME, PreferencePair, preference_allowed

    rows = []
    for record in split_quadruples(records, seed=seed).test:
        if isinstance(record, PreferencePair):
            if preference_allowed(record, threshold):
                rows.append(
                    {
                        "instruction": record.instruction,
                        "preferred": record.chosen,
                        "other": record.rejected,
                        "pair_type": PAIR_NAME,
                    }
                )
            continue
        for name, (better, worse) in zip(PAIR_NAMES, PAIR_TYPES, strict=True):
            if pair_allowed(record, better, worse, threshold):
                rows.append(
                    {
                        "instruction": record.instruction,
                        "preferred": record.response(better),
                        "other": record.response(worse),
                        "pair_type": name,
                    }
                )
    return rows


def evaluate_pairs(
    jsonl_path: str | Path, model: Any, tokenizer: Any, batch_size: int = 32
) -> AccuracyResult:
    """Pairwise accuracy of a StyleRanker on a JSONL file of ``instruction/preferred/other``.

    The whole file is validated before anything is scored (see ``read_pairs``).
    """
    return evaluate_pair_rows(read_pairs(jsonl_path), model, tokenizer, batch_size)


def evaluate_pair_rows(
    rows: Sequence[dict[str, str]], model: Any, tokenizer: Any, batch_size: int = 32
) -> AccuracyResult:
    """Pairwise accuracy of a StyleRanker on ``{instruction, preferred, other}`` rows."""
    if not rows:
        return pairwise_accuracy_from_scores([], [])
    from scar_dagster.ranker.inference.scoring import score_pairs

    instructions = [r["instruction"] for r in rows]
    responses = [r["preferred"] for r in rows] + [r["other"] for r in rows]
    # One call: each instruction is encoded once for both of its responses.
    scores = score_pairs(model, tokenizer, instructions * 2, responses, batch_size=batch_size)
    n = len(rows)
    return pairwise_accuracy_from_scores(scores[:n], scores[n:])
