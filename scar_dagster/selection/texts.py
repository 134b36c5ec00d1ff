"""Texts of the pool, fetched on demand through a ``TextLookup``: from a frame or a spool file.

The pool the selection decides holds no texts. The filters read them front to back in visiting
order (exact dedup and language, then the MinHash signatures) and then at a few positions
(near-duplicate confirmations); ``ChunkedTexts`` serves that pattern from any ``TextLookup``
holding one chunk at a time. Two lookups serve a run: ``frame_lookup`` over texts in memory
(a given frame, or every text read at once), ``SpooledTexts`` over a temporary SQLite file
the texts of lazy Parquet parts are streamed into once (a walk in score order touches every
row group of a source in every chunk, so a Parquet read per chunk would decode all of the
texts once per chunk).
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar, overload

import numpy as np
import pandas as pd

from scar_dagster.selection.filters.base import PairText

DEFAULT_CHUNK_ROWS = 2000
TEXT_COLUMNS = ("id", "instruction", "response")
_T = TypeVar("_T")


TextLookup = Callable[[Sequence[str]], Mapping[str, PairText]]
"""Given a chunk of pair ids, return the texts of those it knows (missing ids: not candidates)."""


class _ReadOnDemand(Sequence[_T]):
    """A sequence whose items are made on read by ``_item`` (a slice reads each position)."""

    @overload
    def __getitem__(self, position: int) -> _T: ...
    @overload
    def __getitem__(self, position: slice) -> list[_T]: ...
    def __getitem__(self, position: int | slice) -> _T | list[_T]:
        if isinstance(position, slice):
            return [self._item(i) for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        return self._item(position)

    def _item(self, position: int) -> _T:
        raise NotImplementedError

    def read_many(self, positions: Sequence[int]) -> list[_T]:
        """The items at ``positions`` (a batched read where the source allows one)."""
        return [self[p] for p in positions]


class ChunkedTexts(_ReadOnDemand[PairText]):
    """``PairText`` of ``ids`` (in that order), fetched ``chunk_rows`` at a time on demand.

    Reading front to back costs one lookup per chunk; a read outside the current chunk that
    does not continue it (a confirmation) fetches that id alone. An id the lookup does not
    know raises ``KeyError``: every id walked must have its texts.
    """

    def __init__(
        self, ids: Sequence[str], lookup: TextLookup, chunk_rows: int = DEFAULT_CHUNK_ROWS
    ) -> None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
        self._ids, self._lookup, self._chunk_rows = ids, lookup, chunk_rows
        self._start, self._window = 0, []  # the current chunk: positions start..start+len
        self.lookups = 0  # lookups made (chunks and single ids)

    def __len__(self) -> int:
        return len(self._ids)

    def _item(self, position: int) -> PairText:
        offset = position - self._start
        if 0 <= offset < len(self._window):
            return self._window[offset]
        if position == self._start + len(self._window) or not self._window:
            self._start = position
            self._window = self._fetch(self._ids[position : position + self._chunk_rows])
            return self._window[0]
        return self._fetch([self._ids[position]])[0]

    def read_many(self, positions: Sequence[int]) -> list[PairText]:
        """The texts at ``positions``: those in the current chunk from it, the rest in one
        lookup per ``chunk_rows`` ids (near-duplicate confirmations of a block of rows)."""
        found: dict[int, PairText] = {}
        outside = []
        for position in dict.fromkeys(positions):
            offset = position - self._start
            if 0 <= offset < len(self._window):
                found[position] = self._window[offset]
            else:
                outside.append(position)
        for start in range(0, len(outside), self._chunk_rows):
            block = outside[start : start + self._chunk_rows]
            texts = self._fetch([self._ids[p] for p in block])
            found.update(zip(block, texts, strict=True))
        return [found[p] for p in positions]

    def _fetch(self, ids: Sequence[str]) -> list[PairText]:
        self.lookups += 1
        found = self._lookup(ids)
        missing = [pid for pid in ids if pid not in found]
        if missing:
            raise KeyError(f"no texts for {len(missing)} pair ids (e.g. {missing[:3]})")
        return [found[pid] for pid in ids]


def frame_lookup(frame: pd.DataFrame, rows: np.ndarray | None = None) -> TextLookup:
    """A ``TextLookup`` over ``frame``'s ``id, instruction, response``: every row, or only the
    rows at ``rows`` (positions; e.g. the first copy of each id). The ids must be unique among
    them. Only the chunk asked for becomes Python strings."""
    rows = np.arange(len(frame)) if rows is None else np.asarray(rows, dtype=np.int64)
    position = pd.Index(frame["id"].astype(str).array.take(rows))
    if position.has_duplicates:
        raise ValueError("frame_lookup needs unique ids")
    instruction, response = frame["instruction"].array, frame["response"].array

    def lookup(ids: Sequence[str]) -> dict[str, PairText]:
        at = position.get_indexer(list(ids))
        known = at >= 0
        taken = rows[at[known]]
        wanted = [pid for pid, ok in zip(ids, known.tolist(), strict=True) if ok]
        questions, answers = instruction.take(taken).tolist(), response.take(taken).tolist()
        texts = zip(wanted, questions, answers, strict=True)
        return {pid: PairText(_text(q), _text(a)) for pid, q, a in texts}

    return lookup


def _text(value: object) -> str:
    """A text cell as a string; missing (None, NaN, NA) is empty."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


SPOOL_QUERY_IDS = 500  # ids per SQL ``IN`` list (under SQLite's variable limit)


class SpooledTexts:
    """A ``TextLookup`` over a temporary SQLite file of ``id, instruction, response``.

    Built from frames streamed one batch at a time (e.g. Parquet row groups), so the texts of
    the pool live on disk, not in memory; a lookup reads only the rows asked for (an id index),
    whatever their order. ``rows`` (sorted positions in the concatenated batches) keeps only
    those rows, e.g. the first copy of each id; without it the first row of a repeated id
    wins. ``close`` removes the file.
    """

    def __init__(
        self,
        batches: Iterable[pd.DataFrame],
        rows: np.ndarray | None = None,
        cache_mb: int = 16,
    ) -> None:
        self._spool = tempfile.TemporaryDirectory(prefix="scar-texts-")
        self._conn = sqlite3.connect(Path(self._spool.name) / "texts.db")
        for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{cache_mb * 1024}"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._conn.execute("CREATE TABLE texts (id TEXT, instruction TEXT, response TEXT)")
        rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        self.rows, end = 0, 0
        for batch in batches:
            start, end = end, end + len(batch)
            if rows is not None:  # the wanted rows of this batch, as positions in it
                wanted = rows[np.searchsorted(rows, start) : np.searchsorted(rows, end)]
                batch = batch if len(wanted) == len(batch) else batch.iloc[wanted - start]
            values = zip(
                batch["id"].astype(str).tolist(),
                map(_text, batch["instruction"].tolist()),
                map(_text, batch["response"].tolist()),
                strict=True,
            )
            self.rows += self._conn.executemany(
                "INSERT INTO texts VALUES (?, ?, ?)", values
            ).rowcount
        self._conn.execute("CREATE INDEX texts_id ON texts (id)")
        self._conn.commit()
        self.calls = self.fetched = 0

    def __call__(self, ids: Sequence[str]) -> dict[str, PairText]:
        self.calls += 1
        found: dict[str, PairText] = {}
        wanted = list(dict.fromkeys(str(i) for i in ids))
        for start in range(0, len(wanted), SPOOL_QUERY_IDS):
            block = wanted[start : start + SPOOL_QUERY_IDS]
            marks = ",".join("?" * len(block))
            query = (
                f"SELECT id, instruction, response FROM texts WHERE id IN ({marks}) ORDER BY rowid"
            )
            for pid, instruction, response in self._conn.execute(query, block):
                if pid not in found:
                    found[pid] = PairText(instruction, response)
        self.fetched += len(found)
        return found

    def close(self) -> None:
        """Close the database and remove its file."""
        self._conn.close()
        self._spool.cleanup()
