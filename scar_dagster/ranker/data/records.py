"""A ranker's training record: a ``Quadruple`` or a ``PreferencePair``, and rows made into them.

Training, evaluation and the data summaries take a sequence of one kind; ``is_pairs_data`` tells
which, ``excluded_pairs`` counts what SCAR's quality constraint leaves out of training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from scar_dagster.ranker.data.preference import PAIR_NAME, PreferencePair, allowed_mask, as_pairs
from scar_dagster.ranker.data.quadruple import Quadruple, Threshold, excluded_counts

if TYPE_CHECKING:
    import pandas as pd

TrainingRecord = Quadruple | PreferencePair


def is_pairs_data(records: Sequence[TrainingRecord]) -> bool:
    """True when the records are preference pairs (else quadruples)."""
    return bool(records) and isinstance(records[0], PreferencePair)


def excluded_pairs(records: Sequence[TrainingRecord], threshold: Threshold) -> dict[str, int]:
    """Comparisons of each type the quality constraint excludes from training."""
    if is_pairs_data(records):
        return {PAIR_NAME: sum(not ok for ok in allowed_mask(records, threshold))}
    return excluded_counts(records, threshold)


def records_from_rows(rows: Sequence[Mapping[str, Any]], *, pairs: bool) -> list[Any]:
    """Training records of rows (``ranker_training_data``'s frame as dicts)."""
    if pairs:
        return as_pairs(rows)
    from scar_dagster.ranker.data.training_data import as_quadruples

    return as_quadruples(rows)


def records_from_frame(frame: pd.DataFrame) -> list[Any]:
    """Training records of ``ranker_training_data``: pairs when it has a ``chosen`` column."""
    return records_from_rows(frame.to_dict("records"), pairs="chosen" in frame.columns)
