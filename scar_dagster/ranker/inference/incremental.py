"""Incremental scoring: score only the pairs a ranker version has not scored yet, and store them.

Scores live in the ``scored_pairs`` SQL table keyed by (pair id, ranker version), so a source
that is ingested again, or a new source that repeats known pairs, costs only its new pairs. The
``scored_pairs`` asset streams a partition through :func:`score_new_batches`;
``benchmarks/incremental.py`` calls :func:`score_new_pairs` on one frame.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster.progress import Progress
from scar_dagster.ranker.inference.scoring import iter_pair_scores
from scar_dagster.ranker.inference.store_scoring import load_scorer
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
    return score_new_batches(
        store,
        engine,
        version,
        [pairs],
        cache_dir=cache_dir,
        features=features,
        batch_size=batch_size,
        num_threads=num_threads,
        precision=precision,
        log=log,
        total=len(pairs),
    )


def score_new_batches(
    store: BlobStore,
    engine: Any,
    version: str,
    batches: Iterable[pd.DataFrame],
    *,
    cache_dir: str | Path,
    features: pd.DataFrame | None = None,
    batch_size: int = 32,
    num_threads: int | None = None,
    precision: Any = None,
    log: Any = None,
    total: int | None = None,
) -> IncrementalScores:
    """``score_new_pairs`` over a stream of raw_pairs batches, in bounded memory.

    The checkpoint is loaded once (and only if some pair needs a score). The pairs to score
    are chunked across batch edges exactly as one frame of them would be, so the scores equal
    ``score_new_pairs`` on the concatenated batches; each chunk is upserted as it is scored.
    Pair ids must be unique across the batches. ``total`` (pairs in all batches, or an
    estimate) is the total of one progress line spanning the stream.
    """
    label = precision.label if precision is not None else None
    progress = Progress("scoring", total, log, unit="pairs")
    pending: deque[pd.DataFrame] = deque()  # keys (id, source) of pairs not scored yet
    reused = 0

    def todo_texts() -> Iterator[tuple[str, str]]:
        nonlocal reused
        for batch in batches:
            done = tables.already_scored(engine, version, batch["id"].tolist(), label)
            todo = batch[~batch["id"].isin(done)]
            reused += len(done)
            progress.advance(len(done))
            pending.append(todo[["id", "source"]])
            yield from zip(todo["instruction"].tolist(), todo["response"].tolist(), strict=True)

    metrics = _metrics_by_pair(features)
    texts = todo_texts()
    first = next(texts, None)
    scores: list[np.ndarray] = []
    if first is not None:
        model, tokenizer = load_scorer(
            store,
            version,
            cache_dir,
            **({} if precision is None else {"device": precision.device, "dtype": precision.dtype}),
        )
        for chunk in iter_pair_scores(
            model,
            tokenizer,
            itertools.chain([first], texts),
            batch_size=batch_size,
            num_threads=num_threads,
            progress=progress,
        ):
            keys = _take_keys(pending, len(chunk))
            _upsert(engine, keys, chunk, version, label, metrics)
            scores.append(chunk)
    else:
        progress.done()
    new = np.concatenate(scores) if scores else np.empty(0, dtype=np.float32)
    return IncrementalScores(scored=len(new), reused=reused, scores=new)


def _take_keys(pending: deque[pd.DataFrame], n: int) -> pd.DataFrame:
    """The first ``n`` keys of the pending batches' keys (removed from ``pending``)."""
    taken, need = [], n
    while need:
        head = pending[0]
        taken.append(head.iloc[:need])
        if len(head) <= need:
            pending.popleft()
        else:
            pending[0] = head.iloc[need:]
        need -= len(taken[-1])
    return pd.concat(taken, ignore_index=True) if len(taken) > 1 else taken[0]


def _metrics_by_pair(features: pd.DataFrame | None) -> pd.DataFrame | None:
    """The style metrics of ``features`` indexed by pair id (built once, joined per chunk)."""
    if features is None:
        return None
    metrics = features[["id", *STYLE_METRICS]].drop_duplicates("id")
    return metrics.set_index("id")


def _upsert(
    engine: Any,
    keys: pd.DataFrame,
    scores: np.ndarray,
    version: str,
    label: str | None,
    metrics: pd.DataFrame | None,
) -> None:
    """Write the score rows of ``keys`` (with their style ``metrics``, if given)."""
    frame = keys.assign(ranker_version=version, score=scores, score_precision=label)
    if metrics is not None:
        frame = frame.join(metrics, on="id")
    tables.upsert_scores(engine, frame)
