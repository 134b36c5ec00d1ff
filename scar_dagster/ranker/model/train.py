"""Train a StyleRanker with SCAR's losses on quadruples or preference pairs; keep the best epoch.

Defaults follow the paper (arXiv 2406.10882): AdamW lr 2e-5, 10% linear warmup then linear
decay, gradient clipping at 1.0, batch size 2, up to 20 epochs, a seeded 80/10/10 split, the
quality constraint of ``TrainParams.constraint`` (the toolkit's ``constraint_mode``, default
``abs``: both qualities > 5), and
the epoch with the best validation accuracy kept, by the reference trainer's metric: the share
of all three comparisons (direct>referenced, direct>human, referenced>human) of every validation
quadruple ranked right, ties wrong, without the quality constraint (``reference_accuracy``);
the accuracy over the pairs the constraint allows (``overall``) is reported beside it. Early
stopping is off by default, as in the reference (it trains every epoch and keeps the best).
As the reference trainer, a batch whose loss is zero (no pair the constraint allows, or every
margin already met) makes no optimizer and no scheduler step; the history counts the
``steps`` made and the ``skipped_batches``.
Preference pairs ``(instruction, chosen, rejected)`` train with the margin ranking loss on
chosen > rejected (no triplet term: there is no referenced response); their metric is the
share of chosen > rejected. ``device``/``dtype`` (see ``scar_dagster.precision``):
``dtype="bfloat16"`` runs forward passes under bf16 autocast while the weights, gradients and
optimizer state stay float32 (master weights).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from scar_dagster.precision import Precision, resolve_precision
from scar_dagster.ranker.data.preference import PAIR_NAME, PreferencePair, allowed_mask
from scar_dagster.ranker.data.quadruple import (
    DEFAULT_CONSTRAINT_MAX,
    DEFAULT_QUALITY_THRESHOLD,
    KINDS,
    PAIR_NAMES,
    PAIR_TYPES,
    Quadruple,
    QualityConstraint,
    Threshold,
    pair_mask,
    split_quadruples,
)
from scar_dagster.ranker.data.records import TrainingRecord, excluded_pairs, is_pairs_data
from scar_dagster.torch_env import seed_everything


@dataclass(frozen=True)
class TrainParams:
    """Training hyper-parameters; defaults are the paper's. ``quality_threshold``,
    ``constraint_mode`` and ``constraint_max`` are the toolkit's ``constraint_min``,
    ``constraint_mode`` and ``constraint_max`` (see ``QualityConstraint``)."""

    epochs: int = 20
    batch_size: int = 2
    lr: float = 2e-5
    warmup_ratio: float = 0.1
    grad_clip: float = 1.0
    margin: float = 0.5
    triplet_margin: float = 1.0
    triplet_weight: float = 0.1
    quality_threshold: float = DEFAULT_QUALITY_THRESHOLD
    constraint_mode: str = "abs"
    constraint_max: float = DEFAULT_CONSTRAINT_MAX
    seed: int = 42
    early_stopping_patience: int | None = None
    num_threads: int | None = None
    device: str = "cpu"
    dtype: str = "float32"

    def __post_init__(self) -> None:
        _ = self.constraint  # an unknown constraint_mode fails here, not mid-training

    def resolved(self) -> TrainParams:
        """These params with ``auto`` device/dtype resolved for this machine."""
        precision = resolve_precision(self.device, self.dtype)
        return replace(self, device=precision.device, dtype=precision.dtype)

    @property
    def constraint(self) -> QualityConstraint:
        """The quality constraint that decides which pairs train."""
        return QualityConstraint(self.quality_threshold, self.constraint_mode, self.constraint_max)

    @property
    def precision(self) -> Precision:
        resolved = self.resolved()
        return Precision(resolved.device, resolved.dtype)


@dataclass
class TrainResult:
    """The best model (weights loaded) and the metrics of the run."""

    model: Any
    best_epoch: int
    metrics: dict[str, Any] = field(default_factory=dict)


__all__ = [
    "TrainParams",
    "TrainResult",
    "optimizer_step",
    "pairwise_accuracy",
    "seed_everything",
    "train_ranker",
]


def _tokenize(
    tokenizer: Any, texts: Sequence[str], max_length: int, device: Any = "cpu"
) -> tuple[Any, Any]:
    batch = tokenizer(
        list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )
    return batch["input_ids"].to(device), batch["attention_mask"].to(device)


def _forward(model: Any, tokenizer: Any, quads: Sequence[Quadruple]) -> tuple[dict, dict, dict]:
    """Scores and style vectors of the three responses of each quadruple."""
    device = next(model.parameters()).device
    texts = [q.instruction for q in quads]
    x_ids, x_mask = _tokenize(tokenizer, texts, model.max_length, device)
    e_x, _ = model.encode(x_ids, x_mask)
    scores, v_c, v_p = {}, {}, {}
    for kind in KINDS:
        texts = [q.response(kind) for q in quads]
        y_ids, y_mask = _tokenize(tokenizer, texts, model.max_length, device)
        e_y, form = model.encode(y_ids, y_mask)
        scores[kind], v_c[kind] = model.head(e_x, e_y, form)
        v_p[kind] = form
    return scores, v_c, v_p


def _forward_pairs(
    model: Any, tokenizer: Any, pairs: Sequence[PreferencePair], precision: Precision | None = None
) -> tuple[Any, Any]:
    """Scores [B] of the chosen and of the rejected responses, as float32 (losses run in fp32)."""
    device = next(model.parameters()).device
    with precision.autocast() if precision else nullcontext():
        x_ids, x_mask = _tokenize(
            tokenizer, [p.instruction for p in pairs], model.max_length, device
        )
        e_x, _ = model.encode(x_ids, x_mask)
        out = []
        for side in ("chosen", "rejected"):
            texts = [getattr(p, side) for p in pairs]
            y_ids, y_mask = _tokenize(tokenizer, texts, model.max_length, device)
            e_y, form = model.encode(y_ids, y_mask)
            out.append(model.head(e_x, e_y, form)[0])
    return out[0].float(), out[1].float()


def _forward_fp32(
    model: Any, tokenizer: Any, quads: Sequence[Quadruple], precision: Precision | None
) -> tuple[dict, dict, dict]:
    """``_forward`` under the precision's autocast; outputs as float32 (losses run in fp32)."""
    with precision.autocast() if precision else nullcontext():
        scores, v_c, v_p = _forward(model, tokenizer, quads)
    return _fp32(scores), _fp32(v_c), _fp32(v_p)


def _fp32(tensors: dict[str, Any]) -> dict[str, Any]:
    return {name: tensor.float() for name, tensor in tensors.items()}


def _batch_outcomes(
    model: Any,
    tokenizer: Any,
    batch: Sequence[TrainingRecord],
    threshold: Threshold,
    precision: Precision | None = None,
) -> list[tuple[str, bool, bool]]:
    """``(pair type, right, allowed by the quality constraint)`` of every comparison."""
    if is_pairs_data(batch):
        chosen, rejected = _forward_pairs(model, tokenizer, batch, precision)
        allowed = allowed_mask(batch, threshold)
        return [(PAIR_NAME, bool(chosen[i] > rejected[i]), allowed[i]) for i in range(len(batch))]
    scores, _, _ = _forward_fp32(model, tokenizer, batch, precision)
    return [
        (name, bool(scores[better][i] > scores[worse][i]), ok)
        for i, row in enumerate(pair_mask(batch, threshold))
        for name, (better, worse), ok in zip(PAIR_NAMES, PAIR_TYPES, row, strict=True)
    ]


def pairwise_accuracy(
    model: Any,
    tokenizer: Any,
    records: Sequence[TrainingRecord],
    *,
    threshold: Threshold = DEFAULT_QUALITY_THRESHOLD,
    batch_size: int = 16,
    precision: Precision | None = None,
) -> dict[str, float | int | None]:
    """Accuracy on quadruples or preference pairs (None: nothing to compare).

    ``reference_accuracy`` over all ``comparisons`` (ties wrong, no quality constraint: the
    reference trainer's validation metric); ``overall`` over the ``pairs`` the quality
    constraint (``threshold``: a minimum or a ``QualityConstraint``) allows, and the same per
    pair type. ``precision``: run the forward passes under its autocast (default: the model
    as it is).
    """
    import torch

    names = (PAIR_NAME,) if is_pairs_data(records) else PAIR_NAMES
    correct, total = dict.fromkeys(names, 0), dict.fromkeys(names, 0)
    right_all = comparisons = 0
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(records), batch_size):
            batch = records[start : start + batch_size]
            for name, right, ok in _batch_outcomes(model, tokenizer, batch, threshold, precision):
                comparisons += 1
                right_all += right
                if ok:
                    total[name] += 1
                    correct[name] += right
    result: dict[str, float | int | None] = {
        name: (correct[name] / total[name] if total[name] else None) for name in names
    }
    n = sum(total.values())
    result["overall"] = sum(correct.values()) / n if n else None
    result["pairs"] = n
    result["reference_accuracy"] = right_all / comparisons if comparisons else None
    result["comparisons"] = comparisons
    return result


def batch_loss(model: Any, tokenizer: Any, batch: Sequence[TrainingRecord], params: TrainParams):
    """SCAR's loss of one batch (``LossTerms``): pairs get the ranking term only. Forward passes
    run under ``params.precision``'s autocast; the loss is computed in float32."""
    import torch

    from scar_dagster.ranker.model.losses import LossTerms, ranking_loss, scar_loss

    precision, device = params.precision, params.resolved().device
    if is_pairs_data(batch):
        allowed = allowed_mask(batch, params.constraint)
        mask = torch.tensor(allowed, dtype=torch.bool, device=device)
        chosen, rejected = _forward_pairs(model, tokenizer, batch, precision)
        term = ranking_loss(chosen, rejected, mask, params.margin)
        value = 0.0 if term is None else float(term.detach())
        return LossTerms(total=term, terms={"rank_chosen_rejected": value, "total": value})
    masks = torch.tensor(pair_mask(batch, params.constraint), dtype=torch.bool, device=device)
    scores, v_c, v_p = _forward_fp32(model, tokenizer, batch, precision)
    return scar_loss(
        scores,
        v_c,
        v_p,
        masks,
        margin=params.margin,
        triplet_margin=params.triplet_margin,
        triplet_weight=params.triplet_weight,
    )


def optimizer_step(loss: Any, model: Any, optimizer: Any, scheduler: Any, grad_clip: float) -> bool:
    """Back-propagate ``loss`` and step the optimizer and the scheduler; True if it stepped.

    A missing (``None``) or zero loss makes no step at all, as the reference trainer's
    ``if batch_loss != 0``: AdamW's weight decay and the learning-rate schedule would
    otherwise move on a batch that has nothing to learn."""
    import torch

    if loss is None or float(loss.detach()) == 0.0:
        return False
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    scheduler.step()
    return True


def train_ranker(
    model: Any,
    tokenizer: Any,
    quadruples: Sequence[TrainingRecord],
    params: TrainParams | None = None,
    *,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train ``model`` in place on the train split of quadruples or preference pairs; return it
    with the weights of the epoch with the best validation ``reference_accuracy``."""
    import torch

    params = (params or TrainParams()).resolved()
    model.to(params.device)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    if params.num_threads:
        torch.set_num_threads(params.num_threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with _autocast_friendly_attention(model.encoder, params.precision):
            return _train(model, tokenizer, quadruples, params, log)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


@contextmanager
def _autocast_friendly_attention(encoder: Any, precision: Precision) -> Iterator[None]:
    """Eager attention while training under CPU bf16 autocast: torch's bf16 SDPA backward on
    CPU is slower than fp32's (measured 6x on MiniLM), eager attention's bf16 matmuls are not."""
    current = getattr(encoder.config, "_attn_implementation", None)
    switch = (
        precision.is_bf16
        and precision.device_type == "cpu"
        and current == "sdpa"
        and hasattr(encoder, "set_attn_implementation")
    )
    if switch:
        encoder.set_attn_implementation("eager")
    try:
        yield
    finally:
        if switch:
            encoder.set_attn_implementation(current)


def _train(
    model: Any,
    tokenizer: Any,
    quadruples: Sequence[TrainingRecord],
    params: TrainParams,
    log: Callable[[str], None],
) -> TrainResult:
    """The training loop of ``train_ranker`` (thread and determinism settings already made)."""
    import torch

    seed_everything(params.seed)
    precision = params.precision
    split = split_quadruples(quadruples, seed=params.seed)
    if not split.train or not split.val:
        raise ValueError(f"need at least 3 training records, got {len(quadruples)}")
    steps_per_epoch = -(-len(split.train) // params.batch_size)
    total_steps = steps_per_epoch * params.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=params.lr)
    warmup = max(1, int(params.warmup_ratio * total_steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: (
            step / warmup
            if step < warmup
            else max(0.0, (total_steps - step)) / max(1, total_steps - warmup)
        ),
    )
    order = torch.Generator().manual_seed(params.seed)
    best_acc, best_epoch, best_state, stale = -1.0, 0, None, 0
    history: list[dict[str, Any]] = []
    for epoch in range(1, params.epochs + 1):
        model.train()
        permutation = torch.randperm(len(split.train), generator=order).tolist()
        sums: dict[str, float] = {}
        steps = 0
        for start in range(0, len(permutation), params.batch_size):
            batch = [split.train[i] for i in permutation[start : start + params.batch_size]]
            loss = batch_loss(model, tokenizer, batch, params)
            steps += optimizer_step(loss.total, model, optimizer, scheduler, params.grad_clip)
            for name, value in loss.terms.items():
                sums[name] = sums.get(name, 0.0) + value
        val = pairwise_accuracy(
            model, tokenizer, split.val, threshold=params.constraint, precision=precision
        )
        entry = {"epoch": epoch, **{k: v / steps_per_epoch for k, v in sums.items()}}
        entry.update(steps=steps, skipped_batches=steps_per_epoch - steps)
        entry["val_accuracy"] = val["reference_accuracy"]
        entry["val_accuracy_quality_filtered"] = val["overall"]
        history.append(entry)
        terms = ", ".join(f"{k} {v / steps_per_epoch:.4f}" for k, v in sums.items() if k != "total")
        per_type = ", ".join(f"{k} {v}" for k, v in val.items() if ">" in k)
        log(
            f"epoch {epoch}/{params.epochs}: loss {entry.get('total', 0.0):.4f} ({terms}); val "
            f"accuracy {val['reference_accuracy']} over {val['comparisons']} comparisons; "
            f"quality-filtered {val['overall']} ({per_type})"
        )
        accuracy = val["reference_accuracy"] or 0.0
        if accuracy > best_acc:
            best_acc, best_epoch, stale = accuracy, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if (
                params.early_stopping_patience is not None
                and stale >= params.early_stopping_patience
            ):
                log(f"early stop after epoch {epoch}: no gain for {stale} epochs")
                break
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    metrics = {
        "params": asdict(params),
        "history": history,
        "best_epoch": best_epoch,
        "split": {"train": len(split.train), "val": len(split.val), "test": len(split.test)},
        "data": "preference_pairs" if is_pairs_data(quadruples) else "quadruples",
        "selection_metric": "reference_accuracy",
        "excluded_pairs": excluded_pairs(quadruples, params.constraint),
        "val": pairwise_accuracy(
            model, tokenizer, split.val, threshold=params.constraint, precision=precision
        ),
        "test": pairwise_accuracy(
            model, tokenizer, split.test, threshold=params.constraint, precision=precision
        ),
        "precision": precision.to_metadata(),
    }
    return TrainResult(model=model, best_epoch=best_epoch, metrics=metrics)
