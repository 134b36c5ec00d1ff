"""Offline evaluation of a ranker and of a selected subset (SCAR, arXiv 2406.10882).

- **Does the ranker prefer the right response?** ``accuracy``: pairwise accuracy of held-out
  ``(instruction, preferred, other)`` rows with a Wilson 95% interval.
- **Is the subset more style-consistent than chance?** ``consistency``: the std of each style
  metric in the subset against seeded random subsets of the same size from the same pool.
- ``cli``: ``python -m scar_dagster.evaluation pairs|consistency`` (= ``scar-dagster evaluate``).
- ``champion``: the ``ranker_evaluation`` asset's evaluation of the champion.

Plain Python: no dagster import; torch only when a checkpoint is loaded or pairs are scored.
"""

from scar_dagster.evaluation.accuracy import PAIR_FIELDS as PAIR_FIELDS
from scar_dagster.evaluation.accuracy import AccuracyResult as AccuracyResult
from scar_dagster.evaluation.accuracy import evaluate_pair_rows as evaluate_pair_rows
from scar_dagster.evaluation.accuracy import evaluate_pairs as evaluate_pairs
from scar_dagster.evaluation.accuracy import heldout_pairs as heldout_pairs
from scar_dagster.evaluation.accuracy import (
    pairwise_accuracy_from_scores as pairwise_accuracy_from_scores,
)
from scar_dagster.evaluation.accuracy import read_pairs as read_pairs
from scar_dagster.evaluation.accuracy import wilson_interval as wilson_interval
from scar_dagster.evaluation.consistency import DEFAULT_SEEDS as DEFAULT_SEEDS
from scar_dagster.evaluation.consistency import consistency_vs_random as consistency_vs_random
from scar_dagster.evaluation.consistency import read_table as read_table
from scar_dagster.evaluation.consistency import select_ratio as select_ratio
