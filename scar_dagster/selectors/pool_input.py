"""A ``SelectorPool`` from the selection's inputs: the pairs (a frame or lazy Parquet parts),
their style features and the StyleRanker's scores in SQL, reading only what the selector
declares it reads (texts, features, scores). The first copy of each id stays, as in
``curate``; the pool is sorted by id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster.schema import STYLE_METRICS
from scar_dagster.selectors.base import FEATURES, SCAR_SCORES, TEXTS, Selector, SelectorPool
from scar_dagster.storage.parquet_parts import ParquetPart, read_parts

Parts = Mapping[str, ParquetPart | None]
SELECTOR_FEATURES = ("id", "degenerate_reason", *STYLE_METRICS)


def selector_pool(
    selector: Selector,
    pairs: pd.DataFrame | Parts,
    features: pd.DataFrame | Parts | None,
    *,
    engine: Any = None,
    ranker_version: str | None = None,
) -> SelectorPool:
    """The pool ``selector`` scores: every distinct id of ``pairs`` with what it reads."""
    columns = ["id", "source", *(("instruction", "response") if TEXTS in selector.reads else ())]
    frame = _read(pairs, columns).drop_duplicates("id", keep="first")
    frame = frame.sort_values("id", kind="mergesort", ignore_index=True)
    ids = frame["id"].astype(str).tolist()
    table = None
    if FEATURES in selector.reads and features is not None:
        table = _aligned(_read(features, SELECTOR_FEATURES), ids)
    scar = None
    if SCAR_SCORES in selector.reads:
        scar = ranker_scores(engine, ranker_version, ids)
    texts = {}
    if TEXTS in selector.reads:
        texts = {
            "instructions": frame["instruction"].fillna("").astype(str).tolist(),
            "responses": frame["response"].fillna("").astype(str).tolist(),
        }
    return SelectorPool(
        ids=ids,
        sources=frame["source"].astype(str).tolist(),
        features=table,
        scar_scores=scar,
        **texts,
    )


def ranker_scores(engine: Any, ranker_version: str | None, ids: list[str]) -> np.ndarray:
    """The StyleRanker's stored score of each id (NaN: not scored by ``ranker_version``)."""
    from scar_dagster.storage.tables import read_scores

    if engine is None or not ranker_version:
        raise ValueError("the StyleRanker's scores need a database and a ranker version")
    stored = read_scores(engine, ranker_version)
    by_id = pd.Series(stored["score"].to_numpy(), index=stored["id"].astype(str))
    return by_id.reindex(ids).to_numpy(dtype="float64")


def _read(source: pd.DataFrame | Parts, columns: list[str] | tuple[str, ...]) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source[[c for c in columns if c in source.columns]]
    return read_parts(source, [c for c in columns])


def _aligned(features: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """``features`` one row per id of ``ids`` (first row of a repeated id; missing: nulls)."""
    table = features.assign(id=features["id"].astype(str)).drop_duplicates("id", keep="first")
    return table.set_index("id").reindex(ids).reset_index()
