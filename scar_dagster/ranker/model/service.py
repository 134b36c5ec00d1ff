"""Ranker life cycle over a store: train (or import a published SCAR ranker), publish, and
promote the champion that scoring uses (``scar_dagster.ranker.inference.store_scoring``).

Trained and imported rankers go through the same gate: the challenger's validation accuracy
(``reference_accuracy``: the reference trainer's metric, on the validation split of this
training data) must reach ``min_accuracy`` and beat the champion's on the same split."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scar_dagster.ranker.data.quadruple import fingerprint_quadruples, split_quadruples
from scar_dagster.ranker.data.records import TrainingRecord
from scar_dagster.ranker.model import registry
from scar_dagster.ranker.model.architecture import RankerConfig
from scar_dagster.ranker.model.checkpoint import save_checkpoint
from scar_dagster.ranker.model.train import TrainParams, pairwise_accuracy, train_ranker
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


def train_and_promote(
    store: BlobStore,
    quadruples: Sequence[TrainingRecord],
    *,
    config: RankerConfig,
    params: TrainParams,
    cache_dir: str | Path,
    min_accuracy: float,
    trust_remote_code: bool = False,
    log: Callable[[str], None] = print,
) -> RankerDecision:
    """Train a challenger on quadruples or preference pairs, publish it, and promote it if it
    passes and beats the champion.

    Both are compared on the validation split of this training data, so the comparison is
    fair even when the champion was trained on other data. ``trust_remote_code`` allows an
    encoder that ships its own code (see ``build_ranker``).
    """
    from scar_dagster.ranker.model.architecture import build_ranker, remote_code_record
    from scar_dagster.torch_env import seed_everything

    params = params.resolved()  # the fingerprint names the device and dtype actually used
    seed_everything(params.seed)
    model, tokenizer = build_ranker(config, trust_remote_code=trust_remote_code)
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
            remote_code_encoder=remote_code_record(result.model),
        )
        uri = registry.publish_checkpoint(store, Path(tmp) / "ckpt", version)
    return _promote(
        store, version, uri, result.metrics, quadruples, params, cache_dir, min_accuracy, log
    )


def import_and_promote(
    store: BlobStore,
    published_ranker: str,
    records: Sequence[TrainingRecord],
    *,
    params: TrainParams,
    cache_dir: str | Path,
    min_accuracy: float,
    encoder: str | None = None,
    trust_remote_code: bool = False,
    max_length: int = 512,
    log: Callable[[str], None] = print,
) -> RankerDecision:
    """Import a published SCAR ranker instead of training one, publish it (version = hash of
    its weights and config) and run the same gate and champion/challenger decision on the
    validation split of ``records``."""
    from scar_dagster.ranker.model.published import import_scar_checkpoint

    split = split_quadruples(records, seed=params.seed)
    with tempfile.TemporaryDirectory() as tmp:
        version, model, tokenizer = import_scar_checkpoint(
            published_ranker,
            Path(tmp) / "ckpt",
            encoder=encoder,
            trust_remote_code=trust_remote_code,
            max_length=max_length,
        )
        metrics: dict[str, Any] = {
            "published_ranker": str(published_ranker),
            "history": [],
            "selection_metric": "reference_accuracy",
            "split": {"train": len(split.train), "val": len(split.val), "test": len(split.test)},
        }
        for name, part in (("val", split.val), ("test", split.test)):
            metrics[name] = pairwise_accuracy(model, tokenizer, part, threshold=params.constraint)
        (Path(tmp) / "ckpt" / "metrics.json").write_text(
            json.dumps(metrics, sort_keys=True, indent=2)
        )
        uri = registry.publish_checkpoint(store, Path(tmp) / "ckpt", version)
    log(f"imported {published_ranker} as ranker {version}")
    return _promote(store, version, uri, metrics, records, params, cache_dir, min_accuracy, log)


def _promote(
    store: BlobStore,
    version: str,
    uri: str,
    metrics: dict[str, Any],
    records: Sequence[TrainingRecord],
    params: TrainParams,
    cache_dir: str | Path,
    min_accuracy: float,
    log: Callable[[str], None],
) -> RankerDecision:
    """The accuracy gate and the champion/challenger comparison of a published ``version``."""
    val = split_quadruples(records, seed=params.seed).val
    challenger = metrics["val"]["reference_accuracy"]
    champion = registry.read_champion(store)
    champion_acc = None
    if champion and champion["version"] != version:
        old_model, old_tokenizer = registry.load_from_store(store, champion["version"], cache_dir)
        champion_acc = pairwise_accuracy(
            old_model,
            old_tokenizer,
            val,
            threshold=params.constraint,
            precision=params.precision,
        )["reference_accuracy"]
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
        metrics=metrics,
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


def evaluation_note(data_origin: str, published_ranker: str | None = None) -> str:
    """What the validation and test figures of a trained or imported ranker measure."""
    trust = (
        "The figure to trust: ranker_evaluation with pairs_path, a held-out preference file "
        "you trust."
    )
    if published_ranker:
        return (
            f"imported {published_ranker}: val and test are splits of ranker_training_data "
            f"({data_origin}), which this ranker was not trained on; they are only as "
            f"representative of your data as that data is. {trust}"
        )
    return (
        f"val and test are splits of ranker_training_data ({data_origin}): in-distribution, "
        "from the same source and generator as the training data, so they do not show how the "
        f"ranker does on real data. {trust}"
    )


def decision_summary(decision: RankerDecision, *, split_seed: int, threshold: float) -> dict:
    """The JSON value of the ``style_ranker`` asset."""
    return {
        "trained_version": decision.trained_version,
        "champion_version": decision.champion_version,
        "promoted": decision.promoted,
        "reason": decision.reason,
        "val_accuracy": decision.challenger_val_accuracy,
        "val_accuracy_quality_filtered": decision.metrics["val"]["overall"],
        "champion_val_accuracy": decision.champion_val_accuracy,
        "test": decision.metrics["test"],
        "published_ranker": decision.metrics.get("published_ranker"),
        "uri": decision.uri,
        "split_seed": split_seed,
        "quality_threshold": threshold,
    }
