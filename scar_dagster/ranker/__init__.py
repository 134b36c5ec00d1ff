"""SCAR StyleRanker, in three sub-packages by concern.

- ``data``: the training data: quadruples and preference pairs, SCAR's released folder, where
  the data comes from (``sourcing``), generating quadruples with an LLM and judging their
  answers (``training_data``, ``judge``).
- ``model``: the model's life cycle: architecture, losses, training, checkpoints, imported
  SCAR-published rankers, the store registry and the champion/challenger promotion.
- ``inference``: scoring pairs fast, incrementally into SQL, with a stored version, and the
  ``rank_and_filter`` toolkit.

Importing this package is cheap: the names below are resolved from their submodules on first
access, so torch and transformers load only when a model is actually used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "RankerConfig": "model.architecture",
    "StyleRanker": "model.architecture",
    "build_ranker": "model.architecture",
    "build_tiny_ranker": "model.architecture",
    "LossTerms": "model.losses",
    "scar_loss": "model.losses",
    "TrainParams": "model.train",
    "TrainResult": "model.train",
    "train_ranker": "model.train",
    "CheckpointError": "model.checkpoint",
    "load_checkpoint": "model.checkpoint",
    "ranker_version": "model.checkpoint",
    "save_checkpoint": "model.checkpoint",
    "Quadruple": "data.quadruple",
    "Split": "data.quadruple",
    "excluded_counts": "data.quadruple",
    "fingerprint_quadruples": "data.quadruple",
    "pair_mask": "data.quadruple",
    "split_quadruples": "data.quadruple",
    "iter_scores": "inference.scoring",
    "score_pairs": "inference.scoring",
    "IncrementalScores": "inference.incremental",
    "score_new_pairs": "inference.incremental",
    "rank_and_filter": "inference.toolkit",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from scar_dagster.ranker.data.quadruple import Quadruple as Quadruple
    from scar_dagster.ranker.data.quadruple import Split as Split
    from scar_dagster.ranker.data.quadruple import excluded_counts as excluded_counts
    from scar_dagster.ranker.data.quadruple import fingerprint_quadruples as fingerprint_quadruples
    from scar_dagster.ranker.data.quadruple import pair_mask as pair_mask
    from scar_dagster.ranker.data.quadruple import split_quadruples as split_quadruples
    from scar_dagster.ranker.inference.incremental import IncrementalScores as IncrementalScores
    from scar_dagster.ranker.inference.incremental import score_new_pairs as score_new_pairs
    from scar_dagster.ranker.inference.scoring import iter_scores as iter_scores
    from scar_dagster.ranker.inference.scoring import score_pairs as score_pairs
    from scar_dagster.ranker.inference.toolkit import rank_and_filter as rank_and_filter
    from scar_dagster.ranker.model.architecture import RankerConfig as RankerConfig
    from scar_dagster.ranker.model.architecture import StyleRanker as StyleRanker
    from scar_dagster.ranker.model.architecture import build_ranker as build_ranker
    from scar_dagster.ranker.model.architecture import build_tiny_ranker as build_tiny_ranker
    from scar_dagster.ranker.model.checkpoint import CheckpointError as CheckpointError
    from scar_dagster.ranker.model.checkpoint import load_checkpoint as load_checkpoint
    from scar_dagster.ranker.model.checkpoint import ranker_version as ranker_version
    from scar_dagster.ranker.model.checkpoint import save_checkpoint as save_checkpoint
    from scar_dagster.ranker.model.losses import LossTerms as LossTerms
    from scar_dagster.ranker.model.losses import scar_loss as scar_loss
    from scar_dagster.ranker.model.train import TrainParams as TrainParams
    from scar_dagster.ranker.model.train import TrainResult as TrainResult
    from scar_dagster.ranker.model.train import train_ranker as train_ranker


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
