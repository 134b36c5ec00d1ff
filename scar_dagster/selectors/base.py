"""The selector contract: one score per pair id (higher is better), with a version.

A selector reads a ``SelectorPool`` (ids sorted, their sources, and, as it declares in
``reads``, the texts, the style features or the StyleRanker's scores) and returns one float per
row. A selector that picks an order rather than a score (k-center) returns rank-like scores
(``order_scores``), so every selector's subset goes through the same selection path
(``scar_dagster.selection.curate``: dedup, language filter, quotas, cut, report) as the
StyleRanker's. Its ``version`` names what its scores depend on (code, options, models, and for
the pool-dependent ones the pool), so stored scores are reused only when they still hold.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

TEXTS = "texts"
FEATURES = "features"
SCAR_SCORES = "scar_scores"
CODE_VERSION = "1"  # bump when a selector's scores change for the same inputs


@dataclass(frozen=True)
class ModelRef:
    """A model a selector runs: ``label`` (its name or folder: part of the selector's version)
    and ``load`` (returns ``(tokenizer, model)``, called only when the model is needed)."""

    label: str
    load: Callable[[], tuple[Any, Any]] = field(compare=False, repr=False)


@dataclass(frozen=True)
class SelectorPool:
    """The pairs a selector scores, sorted by id.

    ``features`` (aligned with ``ids``) holds the style-feature columns it has (e.g.
    ``n_words``, ``perplexity``); ``scar_scores`` the StyleRanker's scores (NaN: unscored).
    ``instructions``/``responses`` are None when the caller did not read the texts.
    """

    ids: Sequence[str]
    sources: Sequence[str]
    instructions: Sequence[str] | None = None
    responses: Sequence[str] | None = None
    features: pd.DataFrame | None = None
    scar_scores: np.ndarray | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = list(self.ids)
        if ids != sorted(ids) or len(set(ids)) != len(ids):
            raise ValueError("SelectorPool ids must be unique and sorted")
        for name in ("sources", "instructions", "responses", "features", "scar_scores"):
            value = getattr(self, name)
            if value is not None and len(value) != len(ids):
                raise ValueError(f"SelectorPool.{name} has {len(value)} rows for {len(ids)} ids")

    def __len__(self) -> int:
        return len(self.ids)

    def texts(self) -> tuple[Sequence[str], Sequence[str]]:
        """``(instructions, responses)``; ValueError when the texts were not read."""
        if self.instructions is None or self.responses is None:
            raise ValueError("this selector reads the pairs' texts, but the pool has none")
        return self.instructions, self.responses

    def take(self, rows: np.ndarray) -> SelectorPool:
        """The pool of ``rows`` (sorted positions), everything it holds taken along."""

        def pick(values: Any) -> Any:
            return None if values is None else [values[i] for i in rows]

        return SelectorPool(
            ids=pick(self.ids),
            sources=pick(self.sources),
            instructions=pick(self.instructions),
            responses=pick(self.responses),
            features=None if self.features is None else self.features.iloc[rows],
            scar_scores=None if self.scar_scores is None else self.scar_scores[rows],
            meta=self.meta,
        )

    def feature(self, column: str) -> np.ndarray | None:
        """A feature column as float64 (None: the pool has no such column)."""
        if self.features is None or column not in self.features.columns:
            return None
        return pd.to_numeric(self.features[column], errors="coerce").to_numpy(dtype="float64")

    def digest(self) -> str:
        """A short hash of the ids (the version of a pool-dependent selector names it)."""
        digest = hashlib.sha256()
        for pair_id in self.ids:
            digest.update(str(pair_id).encode("utf-8") + b"\n")
        return digest.hexdigest()[:16]


class Selector(ABC):
    """Scores pairs for selection; ``reads`` declares what of the pool it needs."""

    name: ClassVar[str]
    reads: ClassVar[frozenset[str]] = frozenset()
    pool_dependent: ClassVar[bool] = False  # scores of one id change with the rest of the pool

    @abstractmethod
    def options(self) -> dict[str, Any]:
        """What the scores depend on besides the inputs (JSON-ready): hashed into the version."""

    @abstractmethod
    def scores(self, pool: SelectorPool, budget: int) -> np.ndarray:
        """One finite float64 per pool row, higher first; ``budget`` is the most rows the cut
        can take (order-based selectors choose that many, the others ignore it)."""

    def version(self, pool: SelectorPool | None = None, budget: int | None = None) -> str:
        """``<name>-<hash>`` of the code, the options, and for a pool-dependent selector the
        pool's ids and the budget."""
        payload: dict[str, Any] = {"code": CODE_VERSION, "options": self.options()}
        if self.pool_dependent:
            if pool is None or budget is None:
                raise ValueError(f"{self.name}: the version depends on the pool and the budget")
            payload.update(pool=pool.digest(), budget=int(budget))
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return f"{self.name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"

    def text_scores(
        self, instructions: Sequence[str], responses: Sequence[str]
    ) -> np.ndarray | None:
        """Scores of any pairs (e.g. both sides of held-out preference pairs), in input order;
        None for a selector that orders a pool rather than scoring a pair."""
        if self.pool_dependent:
            return None
        pool, rows = texts_pool(instructions, responses)
        return self.scores(pool, len(pool))[rows]

    def describe(self) -> str:
        """One line for reports: the name and options."""
        options = ", ".join(f"{k}={v}" for k, v in sorted(self.options().items()))
        return f"{self.name} ({options})" if options else self.name


def texts_pool(
    instructions: Sequence[str], responses: Sequence[str]
) -> tuple[SelectorPool, np.ndarray]:
    """A pool of the distinct ``(instruction, response)`` pairs given (ids: content hashes) and
    each input's row in it."""
    keys = [
        hashlib.sha256(f"{x}\x1f{y}".encode()).hexdigest()[:24]
        for x, y in zip(instructions, responses, strict=True)
    ]
    ids = sorted(set(keys))
    row_of = {key: row for row, key in enumerate(ids)}
    first = {key: i for i, key in reversed(list(enumerate(keys)))}
    pool = SelectorPool(
        ids=ids,
        sources=["pairs"] * len(ids),
        instructions=[instructions[first[key]] for key in ids],
        responses=[responses[first[key]] for key in ids],
    )
    return pool, np.array([row_of[key] for key in keys], dtype=np.int64)


def order_scores(order: Sequence[int] | np.ndarray, n: int, rest: np.ndarray) -> np.ndarray:
    """Rank-like scores for a chosen ``order`` of rows: the chosen rows first, in that order
    (scores in (2, 3]), then every other row by ``rest`` (scaled into [0, 1], higher first)."""
    order = np.asarray(order, dtype=np.int64)
    scores = np.empty(n, dtype=np.float64)
    others = np.ones(n, dtype=bool)
    others[order] = False
    values = np.asarray(rest, dtype=np.float64)[others]
    if len(values):
        low, high = float(np.min(values)), float(np.max(values))
        scores[others] = (values - low) / (high - low) if high > low else 0.5
    if len(order):
        scores[order] = 2.0 + (len(order) - np.arange(len(order))) / len(order)
    return scores


def checked_scores(name: str, scores: np.ndarray, n: int) -> np.ndarray:
    """``scores`` as float64 after checking their count and that they are finite."""
    values = np.asarray(scores, dtype=np.float64)
    if values.shape != (n,):
        raise ValueError(f"selector {name} gave {values.shape} scores for {n} pairs")
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise ValueError(f"selector {name} gave {bad} non-finite scores")
    return values


def floor_missing(values: np.ndarray) -> np.ndarray:
    """``values`` with NaN (no measure: e.g. a degenerate row the filters drop anyway) set
    below every finite value, so the scores stay finite and such rows rank last."""
    values = np.asarray(values, dtype=np.float64).copy()
    missing = ~np.isfinite(values)
    if missing.any():
        finite = values[~missing]
        values[missing] = (float(finite.min()) - 1.0) if len(finite) else 0.0
    return values
