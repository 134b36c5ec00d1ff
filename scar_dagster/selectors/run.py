"""Score a pool with a selector and store the scores in SQL under its version, reusing what
is stored: the one way every selector's scores reach ``curate`` (``ScoredBy``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster.selection.params import ScoredBy
from scar_dagster.selectors.base import Selector, SelectorPool, checked_scores
from scar_dagster.selectors.scar import ScarSelector


@dataclass(frozen=True)
class SelectorRun:
    """What scoring a pool with one selector did: its scores' reference, the rows computed and
    reused, and the seconds it took (0 when every score was stored)."""

    scored_by: ScoredBy
    computed: int
    reused: int
    seconds: float
    description: str


def score_and_store(
    selector: Selector, pool: SelectorPool, budget: int, engine: Any
) -> SelectorRun:
    """Scores of every pool row under ``selector.version`` in ``selector_scores``: only the
    rows not stored yet are computed (all of them for a pool-dependent selector, whose version
    names the pool). ``scar`` stores nothing: its scores are ``scored_pairs``'."""
    from scar_dagster.storage import tables

    version = selector.version(pool, budget)
    if isinstance(selector, ScarSelector):
        return SelectorRun(ScoredBy("scar", version), 0, len(pool), 0.0, selector.describe())
    tables.ensure_schema(engine)
    stored = set(tables.read_selector_scores(engine, version)["id"])
    todo = np.array([i for i, pair_id in enumerate(pool.ids) if pair_id not in stored])
    started = time.perf_counter()
    if len(todo):
        part = pool if len(todo) == len(pool) else pool.take(todo)
        scores = checked_scores(selector.name, selector.scores(part, budget), len(part))
        frame = pd.DataFrame({"id": list(part.ids), "source": list(part.sources), "score": scores})
        tables.upsert_selector_scores(engine, selector.name, version, frame)
    seconds = time.perf_counter() - started if len(todo) else 0.0
    return SelectorRun(
        ScoredBy(selector.name, version),
        computed=len(todo),
        reused=len(pool) - len(todo),
        seconds=seconds,
        description=selector.describe(),
    )
