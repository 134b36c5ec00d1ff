"""The cutoff and the per-source quotas: which ranked rows the subset takes.

The cut takes ``top_k`` rows, ``floor(ratio * eligible)`` rows (``rows_for_ratio``: the one
definition of "ratio -> rows" of the asset, the toolkit, the CLI and the benchmarks), or every
row with score >= threshold. ``min_per_source`` first reserves the best-ranked rows of each
named source (even below the cutoff). The rest is filled in rank order, skipping rows whose
source already holds ``max_per_source`` rows. With top_k/ratio the subset keeps its size, so a
capped source's slots go to the next-ranked rows of other sources; with a threshold only rows
at or above it fill. Eligible rows not selected are ``select_quota`` when a cap skipped them or
a reservation displaced them from the cutoff, else ``select_below_cutoff``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scar_dagster.selection.params import SelectionParams

# A product this close to an integer is that integer: float noise (~1e-16 relative), not intent.
_REL_TOLERANCE, _ABS_TOLERANCE = 1e-12, 1e-9


def rows_for_ratio(n_rows: int, ratio: float) -> int:
    """The number of rows ``ratio`` of ``n_rows`` keeps: ``floor(n_rows * ratio)``.

    Rounded down, the meaning ``rank_and_filter`` (SCAR's toolkit API) documents, so a subset
    never exceeds the share asked for: ratio 0.01 of 50 rows keeps none, ratio 1 keeps all. A
    product within 1e-9 (or 1e-12 relative) of an integer counts as that integer, so float
    representation error (``0.29 * 100 == 28.999...``, ``(1 / 3) * 3``) never drops a row.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 0:
        raise ValueError(f"n_rows must be an int >= 0, got {n_rows!r}")
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be a number in [0, 1], got {ratio!r}")
    product = n_rows * float(ratio)
    nearest = round(product)
    if math.isclose(product, nearest, rel_tol=_REL_TOLERANCE, abs_tol=_ABS_TOLERANCE):
        return min(n_rows, int(nearest))
    return min(n_rows, math.floor(product))


def max_rows(params: SelectionParams, eligible: int) -> int:
    """The most rows the cutoff may select from ``eligible`` pairs."""
    if params.top_k is not None:
        return min(params.top_k, eligible)
    if params.ratio is not None:
        return rows_for_ratio(eligible, params.ratio)
    return eligible


def cut(
    ranked: np.ndarray,
    source_code: np.ndarray,
    sources: Sequence[str],
    scores: np.ndarray,
    params: SelectionParams,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The cutoff and quotas on pool rows in rank order: (selected, dropped by a quota)
    masks over pool rows, and notes on the edge cases met (empty cutoff, quota shortfalls)."""
    notes: list[str] = []
    n = len(scores)
    budget: int | None = None
    within_cutoff = np.zeros(n, dtype=bool)
    if params.threshold is not None:
        walk = ranked[scores[ranked] >= params.threshold]
        within_cutoff[walk] = True
    else:
        if params.top_k is not None:
            budget = params.top_k
        else:  # rounded down: ratio 0.29 of 100 rows is 29, not 28
            budget = rows_for_ratio(len(ranked), params.ratio)
        if budget == 0:
            notes.append("the cutoff selects 0 rows: empty subset (as requested)")
        elif budget > len(ranked):
            notes.append(f"cutoff asks for {budget} rows; all {len(ranked)} eligible selected")
        walk = ranked
        within_cutoff[ranked[:budget]] = True
    chosen = np.zeros(n, dtype=bool)
    code_of = {source: code for code, source in enumerate(sources)}
    count = np.zeros(len(sources), dtype=np.int64)
    for source, minimum in (params.min_per_source or {}).items():
        code = code_of.get(source, -1)
        best = ranked[source_code[ranked] == code][:minimum]
        if len(best) < minimum:
            notes.append(f"min_per_source[{source!r}]={minimum} but only {len(best)} eligible")
        chosen[best] = True
        if code >= 0:
            count[code] += len(best)
    reserved = int(chosen.sum())
    if budget is not None and reserved > budget:
        raise ValueError(f"min_per_source reserves {reserved} rows but the cutoff allows {budget}")
    if added := int((chosen & ~within_cutoff).sum()):
        notes.append(f"min_per_source added {added} rows from below the cutoff")
    remaining = None if budget is None else budget - reserved
    capped = np.zeros(n, dtype=bool)
    cap = np.full(len(sources), np.iinfo(np.int64).max, dtype=np.int64)
    for source, limit in (params.max_per_source or {}).items():
        if source in code_of:
            cap[code_of[source]] = limit
    if remaining is None or remaining > 0:
        _fill(walk, source_code, chosen, capped, count, cap, remaining)
    return chosen, capped | (within_cutoff & ~chosen), notes


FILL_BLOCK = 10_000  # ranked rows turned into Python ints at a time


def _fill(
    walk: np.ndarray,
    source_code: np.ndarray,
    chosen: np.ndarray,
    capped: np.ndarray,
    count: np.ndarray,
    cap: np.ndarray,
    remaining: int | None,
) -> None:
    """Choose rows of ``walk`` in order until ``remaining`` are added (None: all), skipping
    chosen rows and marking rows whose source is at its cap; a block of rows at a time, so
    the walk never becomes a Python list whole."""
    for start in range(0, len(walk), FILL_BLOCK):
        block = walk[start : start + FILL_BLOCK]
        for row, code in zip(block.tolist(), source_code[block].tolist(), strict=True):
            if chosen[row]:
                continue
            if count[code] >= cap[code]:
                capped[row] = True
                continue
            chosen[row] = True
            count[code] += 1
            if remaining is not None:
                remaining -= 1
                if remaining <= 0:
                    return
