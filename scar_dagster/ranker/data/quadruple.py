"""Training quadruples, the SCAR quality constraint and the seeded 80/10/10 split.

A quadruple holds one instruction with three responses: ``human``, ``referenced`` (an LLM rewrite
of the human response keeping its content) and ``direct`` (an LLM answer), each with a 0-9
quality score. The ranker learns direct > referenced > human, but a pair (a, b) trains only if
the :class:`QualityConstraint` allows it (default, the paper's: both qualities above 5) and
the two texts differ.
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
DEFAULT_CONSTRAINT_MAX = 10.0
QUALITY_RANGE = (0.0, 9.0)
CONSTRAINT_MODES: tuple[str, ...] = ("abs", "abs_pos", "diff", "abs_diff", "none")


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


@dataclass(frozen=True)
class QualityConstraint:
    """Which (better, worse) pairs train, by their 0-9 qualities: the SCAR toolkit's modes.

    With ``a`` the better response's quality, ``b`` the worse one's, ``min_quality`` and
    ``max_quality`` the toolkit's ``constraint_min`` and ``constraint_max``:

    - ``abs`` (default, the paper's): ``min(a, b) > min_quality`` and ``max(a, b) < max_quality``;
    - ``abs_pos``: ``min_quality < a < max_quality`` (the worse response is not checked);
    - ``diff``: ``|a - b| < max_quality`` (here ``max_quality`` bounds the difference);
    - ``abs_diff``: ``|a - b| < max_quality`` and ``min(a, b) > min_quality``;
    - ``none``: every pair.

    The default ``max_quality`` 10 is above every 0-9 score, so ``abs`` is then just "both
    qualities > ``min_quality``". A quality that is not given (a preference pair without
    scores) passes the rules that read it. Whatever the mode, the two texts must differ
    (after collapsing whitespace; the toolkit compares the raw strings).
    """

    min_quality: float = DEFAULT_QUALITY_THRESHOLD
    mode: str = "abs"
    max_quality: float = DEFAULT_CONSTRAINT_MAX

    def __post_init__(self) -> None:
        if self.mode not in CONSTRAINT_MODES:
            raise ValueError(
                f"constraint_mode must be one of {CONSTRAINT_MODES}, got {self.mode!r}"
            )

    def allows(self, better: float | None, worse: float | None) -> bool:
        """True when the qualities of a (better, worse) pair pass this constraint."""
        given = [q for q in (better, worse) if q is not None]
        above_min = all(q > self.min_quality for q in given)
        below_max = all(q < self.max_quality for q in given)
        close = better is None or worse is None or abs(better - worse) < self.max_quality
        if self.mode == "abs":
            return above_min and below_max
        if self.mode == "abs_pos":
            return better is None or self.min_quality < better < self.max_quality
        if self.mode == "diff":
            return close
        if self.mode == "abs_diff":
            return close and above_min
        return True

    def to_dict(self) -> dict[str, float | str]:
        return {"mode": self.mode, "min_quality": self.min_quality, "max_quality": self.max_quality}


Threshold = float | QualityConstraint


def as_constraint(threshold: Threshold) -> QualityConstraint:
    """``threshold`` itself, or a number as the default ``abs`` constraint with that minimum."""
    if isinstance(threshold, QualityConstraint):
        return threshold
    return QualityConstraint(min_quality=float(threshold))


def pair_allowed(
    quad: Quadruple, better: str, worse: str, threshold: Threshold = DEFAULT_QUALITY_THRESHOLD
) -> bool:
    """The quality constraint (``threshold``: a minimum or a :class:`QualityConstraint`) allows
    the pair and the texts differ."""
    good_enough = as_constraint(threshold).allows(quad.quality(better), quad.quality(worse))
    texts_differ = normalize_ws(quad.response(better)) != normalize_ws(quad.response(worse))
    return good_enough and texts_differ


def pair_mask(
    quads: Sequence[Quadruple], threshold: Threshold = DEFAULT_QUALITY_THRESHOLD
) -> list[tuple[bool, bool, bool]]:
    """Per quadruple, which of ``PAIR_TYPES`` the quality constraint allows."""
    constraint = as_constraint(threshold)
    rows = []
    for q in quads:
        dr, rh, dh = (pair_allowed(q, a, b, constraint) for a, b in PAIR_TYPES)
        rows.append((dr, rh, dh))
    return rows


def excluded_counts(
    quads: Sequence[Quadruple], threshold: Threshold = DEFAULT_QUALITY_THRESHOLD
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
