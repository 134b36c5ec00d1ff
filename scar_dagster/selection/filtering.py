"""The one driver of the selection's filters: each step drops pool rows with its reason code.

Steps run in order over the pool rows still eligible, visited best score first (then id), or
in input order with ``dedup_keep="first"`` (SCAR's reference), so a duplicate group keeps the
first pair visited. Texts are read through a ``TextLookup`` one chunk at a time
(``ChunkedTexts``); consecutive ``MeasureFilter`` steps share one pass over them. The state is
two numpy arrays over pool rows: a reason code (``reason_codes``, 0: eligible) and the related
row a duplicate names (-1: none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scar_dagster.progress import Progress
from scar_dagster.selection.filters import (
    ColumnFilter,
    DegenerateFilter,
    Dropped,
    ExactDedupFilter,
    LanguageFilter,
    MeasureFilter,
    NearDedupFilter,
    PoolFilter,
    TextsFilter,
)
from scar_dagster.selection.pool import rank_order
from scar_dagster.selection.reason_codes import reason_code
from scar_dagster.selection.texts import ChunkedTexts, TextLookup

if TYPE_CHECKING:
    from scar_dagster.selection.params import DedupKeep, SelectionParams


def filters_for(params: SelectionParams) -> list[PoolFilter]:
    """The steps ``params`` asks for, in order: degenerate features, exact dedup, English
    (unless ``english_threshold`` is None), near dedup (if ``near_dedup``); with the SCAR
    toolkit's rules under ``compat="reference"``."""
    toolkit = params.compat == "reference"
    steps: list[PoolFilter] = [
        DegenerateFilter(),
        ExactDedupFilter(params.dedup_on, toolkit=toolkit),
    ]
    if params.english_threshold is not None:
        steps.append(LanguageFilter(params.english_threshold, params.english_rule))
    if params.near_dedup:
        near = NearDedupFilter(
            params.dedup_on,
            threshold=params.minhash_threshold,
            num_perm=params.num_perm,
            ngram_size=params.ngram_size,
            seed=params.seed,
            method=params.near_method,
            toolkit=toolkit,
            bands=params.lsh_bands,
        )
        steps.append(near)
    return steps


def visit_order(pool: pd.DataFrame, keep: DedupKeep) -> np.ndarray:
    """Every pool row in visiting order: best score (then id), or input order (``_order``)."""
    if keep == "first":
        return np.argsort(pool["_order"].to_numpy(), kind="stable")
    return rank_order(np.arange(len(pool)), pool["score"].to_numpy(dtype="float64"))


def run_filters(
    pool: pd.DataFrame,
    texts: TextLookup,
    steps: Sequence[PoolFilter],
    *,
    keep: DedupKeep,
    chunk_rows: int,
    log: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each pool row's reason code (int8, 0: eligible) and related row (int64, -1: none)."""
    reason = np.zeros(len(pool), dtype=np.int8)
    related = np.full(len(pool), -1, dtype=np.int64)
    walk = visit_order(pool, keep)
    start = 0
    while start < len(steps):
        walk = walk[reason[walk] == 0]  # the rows still eligible, in visiting order
        group = _leading_measures(steps[start:]) or [steps[start]]
        start += len(group)
        _run(group, pool, walk, texts, reason, related, chunk_rows, log)
    return reason, related


def _run(
    group: Sequence[PoolFilter],
    pool: pd.DataFrame,
    walk: np.ndarray,
    texts: TextLookup,
    reason: np.ndarray,
    related: np.ndarray,
    chunk_rows: int,
    log: Any,
) -> None:
    """One step (or a group of measure filters sharing a pass) over the rows of ``walk``; what
    it builds (measures, a chunk of texts) is freed on return."""
    step = group[0]
    if isinstance(step, ColumnFilter):
        _record(reason, related, walk, step, step.drop(pool, walk))
        return
    rows = ChunkedTexts(_IdsAt(pool["id"].array, walk), texts, chunk_rows)
    if isinstance(step, TextsFilter):
        _record(reason, related, walk, step, step.drop(rows, log))
    elif isinstance(step, MeasureFilter):
        for measure_step, measures in zip(group, _measure(group, rows, log), strict=True):
            alive = np.flatnonzero(reason[walk] == 0)
            _record(reason, related, walk[alive], measure_step, measure_step.drop(measures[alive]))
    else:
        raise TypeError(f"not a selection filter: {step!r}")


def _leading_measures(steps: Sequence[PoolFilter]) -> list[MeasureFilter]:
    """The ``MeasureFilter`` steps at the front of ``steps`` (they share a pass)."""
    group: list[MeasureFilter] = []
    for step in steps:
        if not isinstance(step, MeasureFilter):
            break
        group.append(step)
    return group


def _measure(group: Sequence[MeasureFilter], rows: ChunkedTexts, log: Any) -> list[np.ndarray]:
    """Every filter's measure of every row, in one front-to-back pass over the texts."""
    arrays = [np.empty(len(rows), dtype=step.dtype) for step in group]
    measures = [step.measure for step in group]
    label = "selection: " + " and ".join(step.label for step in group)
    for position in Progress(label, len(rows), log, unit="pairs").track(range(len(rows))):
        text = rows[position]
        for measure, values in zip(measures, arrays, strict=True):
            values[position] = measure(text)
    return arrays


def _record(
    reason: np.ndarray, related: np.ndarray, rows: np.ndarray, step: PoolFilter, dropped: Dropped
) -> None:
    """Mark ``rows[dropped.rows]`` with the step's code and, for duplicates, the kept row."""
    reason[rows[dropped.rows]] = reason_code(step.reason)
    if dropped.kept is not None:
        related[rows[dropped.rows]] = rows[dropped.kept]


class _IdsAt(Sequence[str]):
    """The pool ids at ``positions``, made on read (a chunk at a time, never all at once)."""

    def __init__(self, ids: pd.api.extensions.ExtensionArray | np.ndarray, positions: np.ndarray):
        self._ids, self._positions = ids, positions

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [str(i) for i in self._ids.take(self._positions[index]).tolist()]
        return str(self._ids[int(self._positions[index])])
