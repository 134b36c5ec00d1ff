"""Evaluate the champion ranker: pairwise accuracy on the pairs that say the most, and the
selected subset's style spread against random subsets of the same pool.

Which pairs: a held-out preference file the user trusts (``pairs_path``) is the figure to trust;
without one, the test split of the ranker's own training data is used, and the result says that
it is in-distribution (same source and generator as the training data).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from scar_dagster.evaluation.accuracy import (
    AccuracyResult,
    evaluate_pair_rows,
    heldout_pairs,
    read_pairs,
)
from scar_dagster.evaluation.consistency import consistency_vs_random


@dataclass(frozen=True)
class ChampionEvaluation:
    """Accuracy of the champion on some pairs, what those pairs are, and the subset's spread."""

    pairs_origin: str
    in_distribution: bool
    accuracy: AccuracyResult
    spread: pd.DataFrame

    @property
    def what_it_measures(self) -> str:
        """One sentence on what the accuracy figure measures."""
        if self.in_distribution:
            return (
                "pairwise accuracy on the test split of ranker_training_data: in-distribution "
                "(same source and generator as the training data), so it says little about "
                "real data; set pairs_path to a held-out preference file you trust"
            )
        return f"pairwise accuracy on {self.pairs_origin}, a user-provided held-out pairs file"

    def summary(self, ranker_version: str, seeds: Sequence[int]) -> dict[str, Any]:
        """A JSON-able record of this evaluation of ``ranker_version`` with random subsets of
        ``seeds``: accuracy and its interval, the subset's spread against random subsets."""
        return {
            "ranker_version": ranker_version,
            "pairs_origin": self.pairs_origin,
            "in_distribution": self.in_distribution,
            "accuracy": self.accuracy.to_frame().iloc[0].to_dict(),
            "subset_vs_random": self.spread.reset_index().to_dict("records"),
            "seeds": list(seeds),
        }


def evaluation_pairs(
    pairs_path: str | None,
    records: Sequence[Any],
    *,
    split_seed: int,
    threshold: float,
    data_origin: str,
) -> tuple[list[dict[str, str]], str, bool]:
    """``(rows, origin, in_distribution)``: the user's file, else the training test split."""
    if pairs_path:
        return read_pairs(pairs_path), f"held-out pairs file {pairs_path}", False
    rows = heldout_pairs(records, seed=split_seed, threshold=threshold)
    return rows, f"test split (seed {split_seed}) of ranker_training_data ({data_origin})", True


def evaluate_champion(
    model: Any,
    tokenizer: Any,
    *,
    pairs_path: str | None,
    records: Sequence[Any],
    split_seed: int,
    threshold: float,
    data_origin: str,
    pool: pd.DataFrame,
    subset_ids: Iterable[str],
    seeds: Sequence[int],
    batch_size: int = 32,
) -> ChampionEvaluation:
    """Score the evaluation pairs with the champion; compare the subset with random subsets."""
    rows, origin, in_distribution = evaluation_pairs(
        pairs_path, records, split_seed=split_seed, threshold=threshold, data_origin=data_origin
    )
    accuracy = evaluate_pair_rows(rows, model, tokenizer, batch_size=batch_size)
    spread = consistency_vs_random(pool, subset_ids, seeds=seeds)
    return ChampionEvaluation(origin, in_distribution, accuracy, spread)


def clean_pool(style_features: pd.DataFrame) -> pd.DataFrame:
    """The ``style_features`` rows (of every partition) without degenerate rows."""
    return style_features[style_features["degenerate_reason"].isna()]
