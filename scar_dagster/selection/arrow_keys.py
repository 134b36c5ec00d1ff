"""Lookup, repeats and sorting of string keys through Arrow, without a Python object per key.

pandas' ``Series.isin`` on Arrow-backed strings turns every value of the set into a pyarrow
scalar and a Python string first, and its ``duplicated`` and multi-column sorts factorize the
strings into Python objects: on a million pair ids that is hundreds of MB of transient objects,
which the allocator keeps as RSS. ``pyarrow.compute`` works on the buffers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd


def _arrays(values: pd.Series, among: pd.Series | Iterable[str]) -> tuple[Any, Any]:
    """Both sides as Arrow arrays of one type."""
    import pyarrow as pa

    if not isinstance(among, pd.Series):
        among = pd.Series(list(among), dtype="str")
    left, right = pa.array(values, from_pandas=True), pa.array(among, from_pandas=True)
    if len(right) and right.type != left.type:
        right = right.cast(left.type)
    return left, right


def row_positions(keys: pd.Series, among: pd.Series) -> np.ndarray:
    """For each key, the row of its first occurrence in ``among`` (-1: absent): a hash join on
    the string buffers (a pandas merge on Arrow strings makes Python objects for its index
    checks)."""
    import pyarrow.compute as pc

    left, right = _arrays(keys, among)
    if len(left) == 0 or len(right) == 0:
        return np.full(len(left), -1, dtype=np.int64)
    found = pc.index_in(left, value_set=right).fill_null(-1)
    return found.to_numpy(zero_copy_only=False).astype(np.int64)


def duplicated(keys: pd.Series) -> np.ndarray:
    """``keys.duplicated()`` as a bool array: True for every repeat of an earlier key (nulls
    are one key)."""
    return row_positions(keys, keys) != np.arange(len(keys))


def repeats_in_sorted(keys: pd.Series) -> np.ndarray:
    """For keys already sorted, a bool array: True where a key equals the one before it (a
    comparison of neighbours: no hash table, unlike ``duplicated``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.zeros(len(keys), dtype=bool)
    if len(keys) > 1:
        values = pa.array(keys, from_pandas=True)
        same = pc.equal(values[1:], values[:-1]).fill_null(False)
        out[1:] = same.to_numpy(zero_copy_only=False)
    return out


def without_repeats(values: pd.DataFrame | pd.Series, key: str | None = None):
    """``values`` without the later rows of a repeated key (``values[key]``, or the Series
    itself), as ``drop_duplicates`` keeps them; ``values`` itself when nothing repeats."""
    repeated = duplicated(values if key is None else values[key])
    return values[~repeated] if repeated.any() else values


def sort_order(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Row positions of ``frame`` in a stable ascending sort by ``columns`` (strings in code
    point order, as Python's; nulls last), as ``sort_values(kind="mergesort")`` gives them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(frame) == 0:
        return np.zeros(0, dtype=np.int64)
    table = pa.table({c: pa.array(frame[c], from_pandas=True) for c in columns})
    keys = [(c, "ascending", "at_end") for c in columns]
    return pc.sort_indices(table, sort_keys=keys).to_numpy()
