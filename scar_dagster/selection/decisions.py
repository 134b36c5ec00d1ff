"""Decide every pool row: filter, rank by style score, cut, apply quotas.

``decide`` runs the filter steps (``filtering``, over the steps of ``filters``: degenerate
features, exact dedup, English, near dedup, each with its reason code), ranks the eligible
rows by score descending, then id ascending (rank 1 = best), and cuts (``cutoff``: top_k /
ratio / threshold and quotas). The decisions are numpy arrays over pool rows
(``PoolDecisions``: a few bytes per pair); ``decisions_frame`` makes frames of
``DECISION_COLUMNS`` from them, a slice at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster import schema
from scar_dagster.schema import DECISION_COLUMNS
from scar_dagster.selection.cutoff import cut
from scar_dagster.selection.filtering import filters_for, run_filters
from scar_dagster.selection.params import SelectionParams
from scar_dagster.selection.pool import rank_order
from scar_dagster.selection.reason_codes import REASON_CODES, reason_code
from scar_dagster.selection.texts import DEFAULT_CHUNK_ROWS, TextLookup

DECISION_CHUNK_ROWS = 50_000  # pool decisions made into a frame at a time


@dataclass(frozen=True)
class PoolDecisions:
    """Every pool row's decision as numpy arrays over pool rows (the pool sorted by id): a few
    bytes per pair, where a decision frame holds strings. ``decisions_frame`` makes frames."""

    order: np.ndarray  # pool rows by rank, then the ineligible rows by id
    reason: np.ndarray  # int8 code into REASON_CODES, per pool row
    related: np.ndarray  # int64 pool row of the kept copy (-1: none), per pool row
    rank: np.ndarray  # int64 rank (0: ineligible), per pool row
    chosen: np.ndarray  # bool: selected, per pool row
    notes: list[str]

    @property
    def selected_rows(self) -> np.ndarray:
        """The selected pool rows in rank order."""
        return self.order[self.chosen[self.order]]

    @property
    def eligible(self) -> np.ndarray:
        """A bool mask of the ranked (eligible) pool rows."""
        return self.rank > 0

    def reason_counts(self) -> dict[str, int]:
        """Pool rows per reason name."""
        counts = np.bincount(self.reason, minlength=len(REASON_CODES))
        return {REASON_CODES[code]: int(n) for code, n in enumerate(counts) if n}


def decide(
    pool: pd.DataFrame,
    texts: TextLookup,
    params: SelectionParams,
    log: Any = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> PoolDecisions:
    """Every pool row's decision (``pool``: ``pool.with_scores``' frame, sorted by id); its
    texts are read through ``texts``, ``chunk_rows`` at a time. ``log`` gets progress lines."""
    steps = filters_for(params)
    reason, related = run_filters(
        pool, texts, steps, keep=params.dedup_keep, chunk_rows=chunk_rows, log=log
    )
    scores = pool["score"].to_numpy(dtype="float64")
    source_code, sources = pd.factorize(pool["source"], sort=True)
    ranked = rank_order(np.flatnonzero(reason == 0), scores)
    chosen, by_quota, notes = cut(ranked, source_code, list(sources), scores, params)
    reason[ranked] = np.where(
        chosen[ranked],
        reason_code(schema.SELECTED),
        np.where(
            by_quota[ranked],
            reason_code(schema.SELECT_QUOTA),
            reason_code(schema.SELECT_BELOW_CUTOFF),
        ),
    )
    rank = np.zeros(len(pool), dtype=np.int64)
    rank[ranked] = np.arange(1, len(ranked) + 1)
    order = np.concatenate([ranked, np.flatnonzero(rank == 0)])
    return PoolDecisions(order, reason, related, rank, chosen, notes)


def decisions_frame(
    pool: pd.DataFrame, decided: PoolDecisions, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """The decision frame (``DECISION_COLUMNS``) of pool ``rows`` in that order (default:
    every row, ``decided.order``); ``attrs["notes"]`` holds the run's notes."""
    rows = decided.order if rows is None else rows
    ids = pool["id"].array
    related = decided.related[rows]
    has_related = related >= 0
    related_id = np.full(len(rows), None, dtype=object)
    related_id[has_related] = ids.take(related[has_related]).to_numpy(dtype=object)
    rank = decided.rank[rows]
    frame = pd.DataFrame(
        {
            "id": pd.Series(ids.take(rows), dtype="str"),
            "source": pd.Series(pool["source"].array.take(rows), dtype="str"),
            "selected": pd.Series(decided.chosen[rows], dtype="bool"),
            "reason": pd.Series(
                np.asarray(REASON_CODES, dtype=object)[decided.reason[rows]], dtype="str"
            ),
            "rank": pd.Series(pd.arrays.IntegerArray(rank, rank == 0), dtype="Int64"),
            "score": pd.Series(pool["score"].to_numpy(dtype="float64")[rows], dtype="float64"),
            "related_id": pd.Series(related_id, dtype="object"),
        },
        columns=list(DECISION_COLUMNS),
    )
    frame.attrs["notes"] = list(decided.notes)
    return frame


def decision_frames(
    pool: pd.DataFrame, decided: PoolDecisions, chunk_rows: int = DECISION_CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Every pool decision, ``chunk_rows`` rows at a time: in rank order, then the ineligible
    rows by id (no frame of the whole pool is made)."""
    order = decided.order
    for start in range(0, len(order), chunk_rows):
        yield decisions_frame(pool, decided, order[start : start + chunk_rows])
