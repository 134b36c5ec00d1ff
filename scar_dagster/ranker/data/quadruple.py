"""Training quadruples, the SCAR quality constraint and the seeded 80/10/10 split.

A quadruple holds one instruction with three responses: ``human``, ``referenced`` (an LLM rewrite
of the human response keeping its content) and ``direct`` (an LLM answer), each with a 0-9
quality score. The ranker learns direct > referenced > human, but a pair (a, b) trains only if
both qualities are above the threshold (paper: 5) and the two texts differ.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

KINDS: tuple[str, ...] = ("direct", "referenced", "human")
PAIR_TYPES: tuple[tuple[str, str], ...] = (
    ("direct", "referenced"),
    ("referenced", "human"),
    ("direct", "human"),
)
PAIR_NAMES: tuple[str, ...] = tuple(f"{a}>{b}" for a, b in PAIR_TYPES)
DEFAULT_QUALITY_THRESHOLD = 5.0
QUALITY_RANGE = (0.0, 9.0)


def score_problem(value: object) -> str | None:
    """``"non_numeric"`` (a bool, string, NaN, ...), ``"out_of_range"`` (outside 0-9) or None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "non_numeric"
    low, high = QUALITY_RANGE
    return None if low <= value <= high else "out_of_range"


@dataclass(frozen=True, slots=True)
class Quadruple:
    """One instruction with its human, referenced and direct responses and their qualities."""

    instruction: str
    human: str
    referenced: str
    direct: str
    quality_human: float
    quality_referenced: float
    quality_direct: float

    def response(self, kind: str) -> str:
        """The response of ``kind`` (``direct``, ``referenced`` or ``human``)."""
        return getattr(self, kind)

    def quality(self, kind: str) -> float:
        """The quality score of the response of ``kind``."""
        return getattr(self, f"quality_{kind}")


@dataclass(frozen=True)
class Split:
    """Train / validation / test quadruples."""

    train: list[Quadruple]
    val: list[Quadruple]
    test: list[Quadruple]


def normalize_ws(text: str) -> str:
    """Collapse runs of whitespace and strip, for the 'texts differ' test."""
    return " ".join(text.split())


def pair_allowed(
    quad: Quadruple, better: str, worse: str, threshold: float = DEFAULT_QUALITY_THRESHOLD
) -> bool:
    """The quality constraint: both qualities > threshold and the texts differ."""
    good_enough = min(quad.quality(better), quad.quality(worse)) > threshold
    texts_differ = normalize_ws(quad.response(better)) != normalize_ws(quad.response(worse))
    return good_enough and texts_differ


def pair_mask(
    quads: Sequence[Quadruple], threshold: float = DEFAULT_QUALITY_THRESHOLD
) -> list[tuple[bool, bool, bool]]:
    """Per quadruple, which of ``PAIR_TYPES`` the quality constraint allows."""
    rows = []
    for q in quads:
        dr, rh, dh = (pair_allowed(q, a, b, threshold) for a, b in PAIR_TYPES)
        rows.append((dr, rh, dh))
    return rows


def excluded_counts(
    quads: Sequence[Quadruple], threshold: float = DEFAULT_QUALITY_THRESHOLD
) -> dict[str, int]:
    """Number of pairs of each type (``direct>referenced``, ...) the constraint excludes."""
    counts = dict.fromkeys(PAIR_NAMES, 0)
    for row in pair_mask(quads, threshold):
        for name, ok in zip(PAIR_NAMES, row, strict=True):
            counts[name] += not ok
    return counts


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _quad_key(quad: Quadruple) -> tuple[str, str]:
    """Order-independent sort key: hash of the instruction, then of the whole record."""
    return _digest(normalize_ws(quad.instruction)), _digest(
        json.dumps(asdict(quad), sort_keys=True)
    )


def split_quadruples(
    quads: Iterable[Quadruple], *, seed: int = 42, val: float = 0.1, test: float = 0.1
) -> Split:
    """Seeded train/val/test split, deterministic and independent of the input order.

    Records are sorted by a content hash before a seeded shuffle; with 3 or more records the
    validation and test parts each get at least one.
    """
    items = sorted(quads, key=_quad_key)
    random.Random(seed).shuffle(items)
    n = len(items)
    n_val, n_test = round(n * val), round(n * test)
    if n >= 3:
        n_val, n_test = max(n_val, 1), max(n_test, 1)
    n_train = n - n_val - n_test
    return Split(
        train=items[:n_train],
        val=items[n_train : n_train + n_val],
        test=items[n_train + n_val :],
    )


def fingerprint_quadruples(quads: Iterable[Quadruple], extra: object = None) -> str:
    """sha256 hex of the quadruples (order-independent) and any JSON-able ``extra`` settings."""
    h = hashlib.sha256()
    for key in sorted(_quad_key(q)[1] for q in quads):
        h.update(key.encode("ascii"))
    h.update(json.dumps(extra, sort_keys=True, default=str).encode("utf-8"))
    return h.hexdigest()
