"""Ranker life cycle over a store: train and publish, pick the champion, score with it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from scar_dagster.ranker import registry
from scar_dagster.ranker.checkpoint import load_checkpoint, save_checkpoint
from scar_dagster.ranker.model import RankerConfig
from scar_dagster.ranker.quadruple import Quadruple, fingerprint_quadruples, split_quadruples
from scar_dagster.ranker.train import TrainParams, pairwise_accuracy, train_ranker
from scar_dagster.storage.stores import BlobStore


@dataclass(frozen=True)
class RankerDecision:
    """The outcome of one training run and of the champion/challenger comparison."""

    trained_version: str
    champion_version: str | None  # None: nothing has passed the bar yet
    promoted: bool
    reason: str
    challenger_val_accuracy: float | None
    champion_val_accuracy: float | None
    metrics: dict[str, Any]
    uri: str


@lru_cache(maxsize=4)
def _cached_checkpoint(folder: str) -> tuple[Any, Any, dict]:
    return load_checkpoint(folder)


def load_from_store(store: BlobStore, version: str, cache_dir: str | Path) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a published checkpoint, fetched and verified once per process."""
    folder = registry.fetch_checkpoint(store, version, Path(cache_dir) / "rankers")
    model, tokenizer, _ = _cached_checkpoint(str(folder))
    return model, tokenizer


@lru_cache(maxsize=4)
def _cached_scorer(folder: str, device: str, dtype: str) -> Any:
    from scar_dagster.ranker.scoring import for_inference

    model, _, _ = _cached_checkpoint(folder)
    return for_inference(model, device, dtype)


def score_with_checkpoint(
    store: BlobStore,
    version: str,
    instructions: Sequence[str],
    responses: Sequence[str],
    *,
    cache_dir: str | Path,
    batch_size: int = 32,
    num_threads: int | None = None,
    device: str = "cpu",
    dtype: str = "float32",
) -> np.ndarray:
    """Scores of the pairs under the published ranker ``version`` (empty input: no load).

    ``device``/``dtype`` as in ``scar_dagster.precision``; the converted model is kept per
    process, so a version's scores for one resolved device and dtype are always the same.
    """
    if not len(instructions):
        return np.empty(0, dtype=np.float32)
    from scar_dagster.precision import resolve_precision
    from scar_dagster.ranker.scoring import score_pairs

    precision = resolve_precision(device, dtype)
    folder = registry.fetch_checkpoint(store, version, Path(cache_dir) / "rankers")
    _, tokenizer, _ = _cached_checkpoint(str(folder))
    model = _cached_scorer(str(folder), precision.device, precision.dtype)
    return score_pairs(
        model, tokenizer, instructions, responses, batch_size=batch_size, num_threads=num_threads
    )


def train_and_promote(
    store: BlobStore,
    quadruples: Sequence[Quadruple],
    *,
    config: RankerConfig,
    params: TrainParams,
    cache_dir: str | Path,
    min_accuracy: float,
    log: Callable[[str], None] = print,
) -> RankerDecision:
    """Train a challenger, publish it, and promote it if it passes and beats the champion.

    Both are compared on the validation split of this training data, so the comparison is
    fair even when the champion was trained on other data.
    """
    from scar_dagster.ranker.model import build_ranker
    from scar_dagster.torch_env import seed_everything

    params = params.resolved()  # the fingerprint names the device and dtype actually used
    seed_everything(params.seed)
    model, tokenizer = build_ranker(config)
    result = train_ranker(model, tokenizer, quadruples, params, log=log)
    fingerprint = fingerprint_quadruples(quadruples, extra=params.__dict__)
    with tempfile.TemporaryDirectory() as tmp:
        version = save_checkpoint(
            result.model,
            config,
            Path(tmp) / "ckpt",
            training_fingerprint=fingerprint,
            metrics=result.metrics,
            tokenizer=tokenizer,
        )
        uri = registry.publish_checkpoint(store, Path(tmp) / "ckpt", version)
    val = split_quadruples(quadruples, seed=params.seed).val
    challenger = result.metrics["val"]["overall"]
    champion = registry.read_champion(store)
    champion_acc = None
    if champion and champion["version"] != version:
        old_model, old_tokenizer = load_from_store(store, champion["version"], cache_dir)
        champion_acc = pairwise_accuracy(old_model, old_tokenizer, val, precision=params.precision)[
            "overall"
        ]
    promoted, reason = _decide(version, challenger, champion, champion_acc, min_accuracy)
    if promoted:
        registry.write_champion(store, {"version": version, "val_accuracy": challenger})
    log(f"ranker {version}: {reason}")
    return RankerDecision(
        trained_version=version,
        champion_version=version if promoted else champion["version"] if champion else None,
        promoted=promoted,
        reason=reason,
        challenger_val_accuracy=challenger,
        champion_val_accuracy=champion_acc,
        metrics=result.metrics,
        uri=uri,
    )


def _decide(
    version: str,
    challenger: float | None,
    champion: dict | None,
    champion_acc: float | None,
    min_accuracy: float,
) -> tuple[bool, str]:
    if challenger is None or challenger < min_accuracy:
        return False, f"not promoted: validation accuracy {challenger} < {min_accuracy}"
    if champion is None:
        return True, "promoted: first ranker"
    if champion["version"] == version:
        return True, "promoted: identical to the champion (same config, data and code)"
    if champion_acc is not None and challenger <= champion_acc:
        return False, f"not promoted: {challenger:.3f} <= champion's {champion_acc:.3f}"
    return True, f"promoted: {challenger:.3f} beats champion's {champion_acc}"
