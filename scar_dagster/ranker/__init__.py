"""SCAR StyleRanker: model, losses, training pairs, checkpoints, fast scoring and the toolkit.

Importing this package is cheap: names are resolved from their submodules on first access, so
torch and transformers load only when a model is actually used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "RankerConfig": "model",
    "StyleRanker": "model",
    "build_ranker": "model",
    "build_tiny_ranker": "model",
    "LossTerms": "losses",
    "scar_loss": "losses",
    "Quadruple": "quadruple",
    "Split": "quadruple",
    "excluded_counts": "quadruple",
    "fingerprint_quadruples": "quadruple",
    "pair_mask": "quadruple",
    "split_quadruples": "quadruple",
    "iter_scores": "scoring",
    "score_pairs": "scoring",
    "IncrementalScores": "incremental",
    "score_new_pairs": "incremental",
    "rank_and_filter": "toolkit",
    "TrainParams": "train",
    "TrainResult": "train",
    "train_ranker": "train",
    "CheckpointError": "checkpoint",
    "load_checkpoint": "checkpoint",
    "ranker_version": "checkpoint",
    "save_checkpoint": "checkpoint",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from scar_dagster.ranker.checkpoint import CheckpointError as CheckpointError
    from scar_dagster.ranker.checkpoint import load_checkpoint as load_checkpoint
    from scar_dagster.ranker.checkpoint import ranker_version as ranker_version
    from scar_dagster.ranker.checkpoint import save_checkpoint as save_checkpoint
    from scar_dagster.ranker.incremental import IncrementalScores as IncrementalScores
    from scar_dagster.ranker.incremental import score_new_pairs as score_new_pairs
    from scar_dagster.ranker.losses import LossTerms as LossTerms
    from scar_dagster.ranker.losses import scar_loss as scar_loss
    from scar_dagster.ranker.model import RankerConfig as RankerConfig
    from scar_dagster.ranker.model import StyleRanker as StyleRanker
    from scar_dagster.ranker.model import build_ranker as build_ranker
    from scar_dagster.ranker.model import build_tiny_ranker as build_tiny_ranker
    from scar_dagster.ranker.quadruple import Quadruple as Quadruple
    from scar_dagster.ranker.quadruple import Split as Split
    from scar_dagster.ranker.quadruple import excluded_counts as excluded_counts
    from scar_dagster.ranker.quadruple import fingerprint_quadruples as fingerprint_quadruples
    from scar_dagster.ranker.quadruple import pair_mask as pair_mask
    from scar_dagster.ranker.quadruple import split_quadruples as split_quadruples
    from scar_dagster.ranker.scoring import iter_scores as iter_scores
    from scar_dagster.ranker.scoring import score_pairs as score_pairs
    from scar_dagster.ranker.toolkit import rank_and_filter as rank_and_filter
    from scar_dagster.ranker.train import TrainParams as TrainParams
    from scar_dagster.ranker.train import TrainResult as TrainResult
    from scar_dagster.ranker.train import train_ranker as train_ranker


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
