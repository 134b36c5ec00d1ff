"""What a selection filter is: a step that drops pool rows, each with the filter's reason code.

In the spirit of DataTrove's ``BaseFilter`` (a filter decides, the driver counts and records)
and NeMo Curator's ``score_document`` / ``keep_document`` split, but over numpy arrays of pool
rows rather than one document at a time. The driver (``filters.driver``) hands each filter the
pool rows still eligible, in visiting order; a filter returns the positions it drops among
them (``Dropped``) and, for a duplicate, the position of the copy kept. Three kinds:

- ``ColumnFilter`` decides from the pool's own columns (no texts);
- ``MeasureFilter`` measures one value per pair from its texts (``measure``) and then drops
  on the array of measures (``drop``); consecutive measure filters share one pass over the
  texts;
- ``TextsFilter`` reads the texts of its rows itself (front to back, then at a few positions).

What a filter reads of a pair is a ``PairText``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

DedupOn = Literal["pair", "response"]


@dataclass(frozen=True, slots=True)
class PairText:
    """The texts of one pair."""

    instruction: str
    response: str


def dedup_text(instruction: str, response: str, on: DedupOn = "pair") -> str:
    """The text compared for duplicates: instruction and response, or the response alone."""
    if on == "response":
        return response or ""
    return f"{instruction or ''}\n{response or ''}"


@dataclass(frozen=True)
class Dropped:
    """The rows a filter drops: positions into the rows it was given, and for duplicates the
    position of the copy kept, aligned with ``rows`` (None: not a duplicate filter)."""

    rows: np.ndarray
    kept: np.ndarray | None = None


class PoolFilter(ABC):
    """A selection step; ``reason`` is its stable snake_case code from ``scar_dagster.schema``,
    ``label`` names it in progress lines."""

    reason: ClassVar[str]
    label: ClassVar[str]


class ColumnFilter(PoolFilter):
    """A filter deciding from pool columns alone."""

    @abstractmethod
    def drop(self, pool: pd.DataFrame, rows: np.ndarray) -> Dropped:
        """The positions of ``rows`` (pool rows) to drop."""


class MeasureFilter(PoolFilter):
    """A filter measuring each pair's texts once, then deciding on all measures at once."""

    dtype: ClassVar[Any]  # numpy dtype of a measure

    @abstractmethod
    def measure(self, text: PairText) -> Any:
        """One pair's measure (a scalar of ``dtype``)."""

    @abstractmethod
    def drop(self, measures: np.ndarray) -> Dropped:
        """The positions to drop, given the measures of the rows in visiting order."""


class TextsFilter(PoolFilter):
    """A filter reading the texts of its rows itself (``texts`` in visiting order)."""

    @abstractmethod
    def drop(self, texts: Sequence[PairText], log: Any = None) -> Dropped:
        """The positions of ``texts`` to drop."""
