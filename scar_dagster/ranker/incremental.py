"""Incremental scoring: score only the pairs a ranker version has not scored yet, and store them.

Scores live in the ``scored_pairs`` SQL table keyed by (pair id, ranker version), so a source
that is ingested again, or a new source that repeats known pairs, costs only its new pairs. The
``scored_pairs`` asset and ``benchmarks/incremental.py`` both call :func:`score_new_pairs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster.ranker.service import score_with_checkpoint
from scar_dagster.schema import STYLE_METRICS
from scar_dagster.storage import tables
from scar_dagster.storage.stores import BlobStore


@dataclass(frozen=True)
class IncrementalScores:
    """What one call did: pairs scored now, pairs already scored, and the new scores."""

    scored: int
    reused: int
    scores: np.ndarray  # one per newly scored pair, in the order of the input rows

    @property
    def mean(self) -> float | None:
        """Mean of the new scores; None when nothing was scored."""
        return float(self.scores.mean()) if len(self.scores) else None


def score_new_pairs(
    store: BlobStore,
    engine: Any,
    version: str,
    pairs: pd.DataFrame,
    *,
    cache_dir: str | Path,
    features: pd.DataFrame | None = None,
    batch_size: int = 32,
    num_threads: int | None = None,
    precision: Any = None,
    log: Any = None,
) -> IncrementalScores:
    """Score the ``pairs`` (raw_pairs rows) that ``version`` has not scored yet; upsert them.

    ``features`` (style_features rows), when given, adds the style metrics to each score row.
    ``precision`` (a ``scar_dagster.precision.Precision``; None: the model as loaded, fp32 on CPU)
    is recorded as each row's ``score_precision``; scores of another precision are redone and
    replaced, never mixed. ``log`` (a logger, e.g. ``context.log``) gets progress lines with an ETA.
    Raises ``CheckpointError`` when ``version`` cannot be loaded from ``store``.
    """
    label = precision.label if precision is not None else None
    done = tables.already_scored(engine, version, pairs["id"].tolist(), label)
    todo = pairs[~pairs["id"].isin(done)]
    scores = score_with_checkpoint(
        store,
        version,
        todo["instruction"].tolist(),
        todo["response"].tolist(),
        cache_dir=cache_dir,
        batch_size=batch_size,
        num_threads=num_threads,
        log=log,
        **({} if precision is None else {"device": precision.device, "dtype": precision.dtype}),
    )
    frame = todo[["id", "source"]].rename(columns={"id": "pair_id"})
    frame = frame.assign(ranker_version=version, score=scores, score_precision=label)
    if features is not None:
        metrics = features[["id", *STYLE_METRICS]].rename(columns={"id": "pair_id"})
        frame = frame.merge(metrics, on="pair_id", how="left")
    tables.upsert_scores(engine, frame)
    return IncrementalScores(scored=len(todo), reused=len(done), scores=np.asarray(scores))
