"""Does the subset train a better model? SCAR vs a random subset of the same size vs the pool.

For one subset version: fine-tune the same base model with the same settings on each training
set of ``subset_split`` (``scar``, ``random``, optionally ``full``), measure every model's loss
(and the base model's) on the held-out reference responses, generate each model's answers to
the held-out instructions and have a judge compare them pairwise in both orders
(``subset_judge``): SCAR vs random and SCAR vs full, with Wilson 95% intervals
(``subset_winrate``).

Resumable at every stage: a model folder is named by its training fingerprint (training ids,
settings, base model) and reused when its ``run.json`` says it succeeded; answers are cached
batch by batch (``subset_answers``); the judge's replies are cached by its client.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scar_dagster.evaluation.subset_answers import Answers, generate_answers
from scar_dagster.evaluation.subset_judge import (
    JUDGE_FAILED,
    judgements,
    pairwise_requests,
)
from scar_dagster.evaluation.subset_split import FULL, RANDOM, SCAR, EvaluationSplit
from scar_dagster.evaluation.subset_winrate import WinRate, answer_lengths, win_rate
from scar_dagster.finetune.chats import write_alpaca
from scar_dagster.finetune.params import SFTParams
from scar_dagster.finetune.record import FineTuneRecord, read_record
from scar_dagster.llm.cache import ResponseCache

COMPARISONS: dict[str, tuple[str, str]] = {
    "scar_vs_random": (SCAR, RANDOM),
    "scar_vs_full": (SCAR, FULL),
}
BASE = "base"
FineTune = Callable[[str, Path, str, Path], FineTuneRecord]
"""``(arm, alpaca_path, version, output_dir) -> record``: one fine-tune into ``output_dir``."""
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubsetEvaluationParams:
    """Held-out size and seed, the optional full-pool arm, generation and judging limits.

    ``max_failure_share``: the run fails when more than this share of the comparisons is lost to
    judge requests that failed after every retry (replies received are cached for the rerun).
    """

    heldout_size: int = 16
    seed: int = 0
    include_full: bool = True
    max_new_tokens: int = 64
    generation_batch_size: int = 8
    judge_max_tokens: int = 8
    max_failure_share: float = 0.1

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1 or self.generation_batch_size < 1 or self.judge_max_tokens < 1:
            raise ValueError("max_new_tokens, generation_batch_size, judge_max_tokens must be >= 1")
        if not 0 <= self.max_failure_share <= 1:
            raise ValueError("max_failure_share must be in [0, 1]")


@dataclass(frozen=True)
class ArmResult:
    """One fine-tuned model: its training set size, folder, record, held-out loss, answers."""

    arm: str
    rows: int
    fingerprint: str
    model_dir: str
    reused: bool
    heldout_loss: float
    lengths: dict[str, float]
    answers_generated: int
    answers_cached: int
    answers: list[str] = field(repr=False)
    record: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class SubsetEvaluation:
    """Everything ``subset_evaluation`` reports."""

    subset_version: str
    heldout_origin: str
    heldout_rows: int
    pool_rows: int
    removed_for_heldout: int
    base_loss: float
    arms: dict[str, ArmResult]
    comparisons: dict[str, WinRate]
    judge: str
    judge_requests: int
    notes: list[str]

    def losses(self) -> dict[str, float]:
        """Held-out loss per model, the base model first."""
        return {BASE: self.base_loss, **{a: r.heldout_loss for a, r in self.arms.items()}}

    def to_dict(self) -> dict[str, Any]:
        arms = {arm: asdict(result) for arm, result in self.arms.items()}
        return {
            **{k: v for k, v in asdict(self).items() if k not in ("arms", "comparisons")},
            "heldout_losses": self.losses(),
            "arms": arms,
            "comparisons": {name: rate.to_dict() for name, rate in self.comparisons.items()},
        }


def arm_fingerprint(ids: list[str], settings: Mapping[str, Any], base_model: str) -> str:
    """What a fine-tuned model depends on: its training ids, the settings, the base model."""
    payload = {"ids": sorted(ids), "settings": dict(settings), "base_model": str(base_model)}
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def evaluate_subset(
    split: EvaluationSplit,
    *,
    subset_version: str,
    base_model_path: str,
    fine_tune: FineTune,
    settings: Mapping[str, Any],
    loss_params: SFTParams,
    params: SubsetEvaluationParams,
    root: str | Path,
    answer_cache: ResponseCache,
    judge: Any,
    log: Any = _LOG,
) -> SubsetEvaluation:
    """Train (or reuse), measure, answer and judge (module docstring); ``judge`` is a chat
    backend (``complete_many``), ``settings`` the fine-tune settings of the fingerprint."""
    root = Path(root) / subset_version
    heldout = list(zip(split.heldout["instruction"], split.heldout["response"], strict=True))
    base_loss = _heldout_loss(base_model_path, heldout, loss_params, root)
    log.info(f"subset evaluation: base model held-out loss {base_loss:.4f}")
    arms, answers = {}, {}
    for arm, frame in split.arms.items():
        fingerprint = arm_fingerprint(frame["id"].tolist(), settings, base_model_path)
        folder = root / f"{arm}-{fingerprint}"
        pairs = list(zip(frame["instruction"], frame["response"], strict=True))
        record, reused = _trained(arm, pairs, folder, subset_version, fine_tune)
        how = "reused" if reused else "trained"
        log.info(f"subset evaluation: {arm} model ({len(pairs)} rows) {how}")
        loss, answers[arm] = _measure(
            Path(record.output_dir), heldout, fingerprint, loss_params, params, answer_cache
        )
        arms[arm] = ArmResult(
            arm=arm,
            rows=len(pairs),
            fingerprint=fingerprint,
            model_dir=record.output_dir,
            reused=reused,
            heldout_loss=loss,
            lengths=answer_lengths(answers[arm].texts, answers[arm].capped),
            answers_generated=answers[arm].generated,
            answers_cached=answers[arm].cached,
            answers=answers[arm].texts,
            record=json.loads(record.to_json()),
        )
    instructions = [i for i, _ in heldout]
    comparisons, asked = _judge(instructions, answers, judge, params)
    log.info(f"subset evaluation: {asked} judge requests, {judge.name}")
    return SubsetEvaluation(
        subset_version=subset_version,
        heldout_origin=split.heldout_origin,
        heldout_rows=len(heldout),
        pool_rows=split.pool_rows,
        removed_for_heldout=split.removed_for_heldout,
        base_loss=base_loss,
        arms=arms,
        comparisons=comparisons,
        judge=judge.name,
        judge_requests=asked,
        notes=list(split.notes),
    )


def _trained(
    arm: str, pairs: list, folder: Path, version: str, fine_tune: FineTune
) -> tuple[FineTuneRecord, bool]:
    """The arm's succeeded record, from an earlier run of the same fingerprint or trained now."""
    model_dir = folder / "model"
    try:
        record = read_record(model_dir)
    except (OSError, ValueError):
        record = None
    if record is not None and record.succeeded:
        return record, True
    subset = write_alpaca(pairs, folder / "alpaca.jsonl")
    record = fine_tune(arm, subset, f"{version}.{arm}", model_dir)
    if not record.succeeded:
        reason = f"{record.reason} (log: {record.log_path})"
        raise RuntimeError(f"fine-tune of the {arm} arm failed: {reason}")
    return record, False


def _load(model_dir: str | Path, params: SFTParams) -> tuple[Any, Any]:
    from scar_dagster.finetune.trl_sft import load_for_training

    return load_for_training(model_dir, params.precision)


def _heldout_loss(model_dir: str | Path, heldout: list, params: SFTParams, root: Path) -> float:
    from scar_dagster.finetune.trl_sft import response_loss

    tokenizer, model = _load(model_dir, params)
    return response_loss(model, tokenizer, heldout, params, root / ".scratch")


def _measure(
    model_dir: Path,
    heldout: list,
    fingerprint: str,
    loss_params: SFTParams,
    params: SubsetEvaluationParams,
    cache: ResponseCache,
) -> tuple[float, Answers]:
    """Held-out loss and answers of one model, loaded once."""
    from scar_dagster.finetune.trl_sft import response_loss
    from scar_dagster.torch_env import torch_threads

    tokenizer, model = _load(model_dir, loss_params)
    loss = response_loss(model, tokenizer, heldout, loss_params, model_dir.parent / ".scratch")
    with torch_threads(loss_params.num_threads):
        answers = generate_answers(
            tokenizer,
            model.eval(),
            [i for i, _ in heldout],
            model_key=fingerprint,
            cache=cache,
            max_new_tokens=params.max_new_tokens,
            batch_size=params.generation_batch_size,
        )
    return loss, answers


def _judge(
    instructions: list[str],
    answers: dict[str, Answers],
    judge: Any,
    params: SubsetEvaluationParams,
) -> tuple[dict[str, WinRate], int]:
    """Both orders of every comparison in one batch of requests; the tallies per comparison."""
    plan = [(name, x, y) for name, (x, y) in COMPARISONS.items() if x in answers and y in answers]
    requests, spans = [], []
    for _, x, y in plan:
        asked = pairwise_requests(
            instructions, answers[x].texts, answers[y].texts, params.judge_max_tokens
        )
        spans.append((len(requests), len(requests) + len(asked)))
        requests += asked
    results = judge.complete_many(requests) if requests else []
    rates, failed, judged = {}, 0, 0
    for (name, x, y), (start, end) in zip(plan, spans, strict=True):
        xs, ys = answers[x].texts, answers[y].texts
        verdicts = judgements(xs, ys, results[start:end])
        rates[name] = win_rate(verdicts, xs, ys)
        failed += rates[name].excluded.get(JUDGE_FAILED, 0)
        judged += len(verdicts)
    if judged and failed / judged > params.max_failure_share:
        raise RuntimeError(
            f"{failed} of {judged} comparisons lost to failed judge requests (more than "
            f"max_failure_share={params.max_failure_share}); the replies received are cached, "
            "a rerun asks only the others"
        )
    return rates, len(requests)
