"""The selection's inputs as a run reads them: frames, or lazy Parquet parts read by columns.

A run reads the pairs' narrow keys first (``pair_keys``), the features one part at a time
(``feature_tables``) and the texts only through a ``TextLookup`` (``pool_texts``): over the
frame given, over every text read at once (``memory`` mode), or over a temporary SQLite file
the texts are streamed into once, a row group at a time (``streaming`` mode).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd

from scar_dagster.selection.pool import FEATURE_VALUE_COLUMNS, PAIR_KEY_COLUMNS
from scar_dagster.selection.texts import TEXT_COLUMNS, SpooledTexts, TextLookup, frame_lookup
from scar_dagster.storage.parquet_parts import ParquetPart, parts_in_order, read_parts

Parts = Mapping[str, ParquetPart | None]
FEATURE_COLUMNS = ("id", *FEATURE_VALUE_COLUMNS)
SPOOL_BATCH_ROWS = 10_000


def pair_keys(pairs: pd.DataFrame | Parts) -> pd.DataFrame:
    """The pairs as given, or the key columns (``PAIR_KEY_COLUMNS``) of every part."""
    return pairs if isinstance(pairs, pd.DataFrame) else read_parts(pairs, PAIR_KEY_COLUMNS)


def feature_tables(features: pd.DataFrame | Parts) -> Iterator[pd.DataFrame]:
    """The features as given, or ``FEATURE_COLUMNS`` of each part, read one at a time."""
    if isinstance(features, pd.DataFrame):
        yield features
        return
    for part in parts_in_order(features):
        yield part.read(list(FEATURE_COLUMNS))


class PoolTexts:
    """The texts of a run's pool as a context manager: entering gives the ``TextLookup``,
    leaving removes the spool file it owns (if any)."""

    def __init__(self, lookup: TextLookup, spool: SpooledTexts | None = None) -> None:
        self.lookup, self._spool = lookup, spool

    def __enter__(self) -> TextLookup:
        return self.lookup

    def __exit__(self, *exc: object) -> None:
        if self._spool is not None:
            self._spool.close()


def pool_texts(
    pairs: pd.DataFrame | Parts, rows: np.ndarray, *, spool: bool, given: TextLookup | None
) -> PoolTexts:
    """The texts of the pairs at ``rows`` (positions in ``pair_keys(pairs)``): ``given``, a
    lookup over the frame, over every text of the parts read at once, or (``spool``) over
    the parts' texts spooled to disk."""
    if given is not None:
        return PoolTexts(given)
    if isinstance(pairs, pd.DataFrame):
        return PoolTexts(frame_lookup(pairs, rows))
    if not spool:
        return PoolTexts(frame_lookup(read_parts(pairs, TEXT_COLUMNS), rows))
    spooled = spool_texts(pairs, rows)
    return PoolTexts(spooled, spooled)


def spool_texts(parts: Parts, rows: np.ndarray | None = None) -> SpooledTexts:
    """Stream the texts of every part (partition order) into a ``SpooledTexts``: only those
    at ``rows`` (sorted positions in the parts' concatenation) when given."""
    batches = (
        batch
        for part in parts_in_order(parts)
        for batch in part.iter_batches(list(TEXT_COLUMNS), SPOOL_BATCH_ROWS)
    )
    return SpooledTexts(batches, None if rows is None else np.sort(rows))
