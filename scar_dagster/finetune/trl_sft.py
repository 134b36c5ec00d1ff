"""Local supervised fine-tuning on a selected subset with TRL's ``SFTTrainer`` (LoRA optional).

Each pair is a conversational prompt-completion example (``finetune.chats``): the base model's
chat template renders it and the loss covers the assistant turn only. A held-out slice gives
the eval loss before and after training. The output folder (safetensors weights or a LoRA
adapter, config, tokenizer, ``train.log`` and ``run.json``) appears atomically: training writes
into a temporary sibling folder that is renamed once complete. The SCAR paper fine-tunes
OLMo-7B and StarCoder-15.5B on its subsets; the defaults here are a CPU demo, docs/evaluation.md
has the settings of a 1B-7B model on one GPU.

Example::

    record = run_local_sft(
        "/data/subsets/v3/alpaca.jsonl",
        base_model_path=instruct_lm_path(None, cache_dir),
        output_dir="/runs/v3",
        params=SFTParams(max_steps=20, lora=LoraParams(rank=16)),
        subset_version="v3",
    )
    print(record.metrics["eval_loss_before"], record.metrics["eval_loss_after"])
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from scar_dagster.finetune.chats import (
    Pair,
    count_too_long,
    load_subset,
    split_indices,
    subset_content_version,
    to_dataset,
)
from scar_dagster.finetune.params import SFTParams
from scar_dagster.finetune.record import (
    MODE_LOCAL_SFT,
    SUCCEEDED,
    FineTuneRecord,
    utc_now,
    write_record,
)
from scar_dagster.precision import Precision
from scar_dagster.torch_env import seed_everything, torch_threads

LOG_FILE = "train.log"
_SCRATCH = ".trainer"  # the trainer's own output_dir inside the temp folder (never published)


def run_local_sft(
    subset: Sequence[dict[str, Any]] | str | Path,
    *,
    base_model_path: str | Path,
    output_dir: str | Path,
    params: SFTParams | None = None,
    subset_version: str | None = None,
    overwrite: bool = False,
) -> FineTuneRecord:
    """Fine-tune the causal LM in ``base_model_path`` on ``subset``; save it to ``output_dir``.

    ``base_model_path`` is a local folder (e.g. ``base_models.instruct_lm_path(None, cache)``);
    ``subset_version`` defaults to a hash of the subset's content. Returns the record, also
    written as ``run.json``. Errors raise and leave no output folder; an existing one raises
    ``FileExistsError`` unless ``overwrite``.
    """
    params = params or SFTParams()
    precision = _trainable(params.precision)
    params = replace(params, device=precision.device, dtype=precision.dtype)
    out = Path(output_dir)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True to replace it")
    pairs = load_subset(subset)
    started_at, start = utc_now(), time.monotonic()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{out.name}-", dir=out.parent))
    with torch_threads(params.num_threads):
        try:
            seed_everything(params.seed)
            tokenizer, model = load_for_training(base_model_path, precision)
            load_s = time.monotonic() - start
            trainer, metrics = _fit(tokenizer, model, pairs, params, tmp)
            save_start = time.monotonic()
            _save(trainer.model, tokenizer, params, tmp)
            shutil.rmtree(tmp / _SCRATCH, ignore_errors=True)
            metrics.update(
                load_time_s=round(load_s, 3),
                save_time_s=round(time.monotonic() - save_start, 3),
                wall_time_s=round(time.monotonic() - start, 3),
            )
            record = FineTuneRecord(
                mode=MODE_LOCAL_SFT,
                subset_version=subset_version or subset_content_version(pairs),
                subset_path=str(subset) if isinstance(subset, str | Path) else None,
                base_model=str(base_model_path),
                output_dir=str(out),
                status=SUCCEEDED,
                metrics=metrics,
                started_at=started_at,
                finished_at=utc_now(),
                log_path=str(out / LOG_FILE),
                params=asdict(params),
            )
            write_record(record, tmp)
            tmp.chmod(0o755)  # mkdtemp makes it private
            _publish(tmp, out)
            return record
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def response_loss(
    model: Any, tokenizer: Any, pairs: Sequence[Pair], params: SFTParams, scratch: str | Path
) -> float:
    """TRL's eval loss of ``model`` on the responses of ``pairs`` (assistant tokens only).

    The same tokenization, template, truncation and masking as training, so the loss of a
    base model and of its fine-tunes on one held-out set compare. ``scratch`` is a folder
    the trainer may write into (nothing is saved there).
    """
    dataset = to_dataset(pairs)
    measure = replace(params, lora=None)  # the model is measured as it is: no new adapter
    with torch_threads(params.num_threads):
        trainer = _trainer(model, tokenizer, dataset, dataset, measure, Path(scratch))
        return float(trainer.evaluate()["eval_loss"])


def load_for_training(path: str | Path, precision: Precision) -> tuple[Any, Any]:
    """A fresh fp32 ``(tokenizer, model)`` from a local folder (a LoRA adapter folder loads
    with its base model): never the process's cached inference copy, training mutates it."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        str(path), local_files_only=True, dtype=torch.float32
    )
    return tokenizer, model.to(precision.device)


def _trainable(precision: Precision) -> Precision:
    """``precision``, checked for the trainer: it picks its GPU itself (the first visible)."""
    if precision.device_type == "cuda" and precision.device not in ("cuda", "cuda:0"):
        raise ValueError(
            f"device {precision.device!r}: the trainer uses the first visible GPU; run with "
            "CUDA_VISIBLE_DEVICES set to that GPU and device 'cuda'"
        )
    return precision


def _fit(
    tokenizer: Any, model: Any, pairs: list[Pair], params: SFTParams, folder: Path
) -> tuple[Any, dict]:
    """Split, evaluate, train, evaluate again; log every step to ``folder/train.log``."""
    import peft
    import trl

    train_idx, eval_idx = split_indices(len(pairs), params.eval_fraction, params.seed)
    train = [pairs[i] for i in train_idx]
    held_out = [pairs[i] for i in eval_idx]
    truncated, dropped = count_too_long(tokenizer, train, params.max_length)
    if dropped == len(train):
        raise ValueError(f"every prompt fills max_length={params.max_length}: nothing to train")
    precision = params.precision
    with (folder / LOG_FILE).open("w", encoding="utf-8") as log:
        log.write(f"trl {trl.__version__} device {precision.device} dtype {precision.dtype}\n")
        trainer = _trainer(
            model,
            tokenizer,
            to_dataset(train),
            to_dataset(held_out) if held_out else None,
            params,
            folder / _SCRATCH,
            log,
        )
        before = _eval_loss(trainer) if held_out else None
        log.write(f"eval_loss_before {before}\n")
        train_start = time.monotonic()
        trainer.train()
        train_s = time.monotonic() - train_start
        after = _eval_loss(trainer) if held_out else None
        log.write(f"eval_loss_after {after}\n")
    steps = [h for h in trainer.state.log_history if "loss" in h and "step" in h]
    trainable, total = _parameter_counts(trainer.model)
    return trainer, {
        "train_loss": [float(h["loss"]) for h in steps],
        "grad_norm": [float(h.get("grad_norm", float("nan"))) for h in steps],
        "train_tokens": int(steps[-1].get("num_tokens", 0)) if steps else 0,
        "eval_loss_before": before,
        "eval_loss_after": after,
        "n_rows": len(pairs),
        "n_train_rows": len(train),
        "n_eval_rows": len(held_out),
        "n_truncated": truncated,
        "n_dropped_too_long": dropped,
        "steps": int(trainer.state.global_step),
        "train_time_s": round(train_s, 3),
        "trainable_parameters": trainable,
        "parameters": total,
        "output_format": _output_format(params),
        "trainer": f"trl {trl.__version__}, peft {peft.__version__}",
        "precision": precision.to_metadata(),
    }


def _trainer(
    model: Any,
    tokenizer: Any,
    train: Any,
    held_out: Any,
    params: SFTParams,
    scratch: Path,
    log: Any = None,
) -> Any:
    """An ``SFTTrainer`` for ``params`` (the loss on completions: TRL's default for
    prompt-completion data), logging each step to ``log`` when given."""
    import datasets
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    precision = params.precision
    config = SFTConfig(
        output_dir=str(scratch),
        max_steps=params.max_steps if params.max_steps is not None else -1,
        num_train_epochs=params.epochs,
        per_device_train_batch_size=params.batch_size,
        per_device_eval_batch_size=params.batch_size,
        gradient_accumulation_steps=params.gradient_accumulation_steps,
        learning_rate=params.lr,
        lr_scheduler_type=params.lr_scheduler,
        warmup_steps=params.warmup_ratio,  # a float in [0, 1) is a share of the steps
        weight_decay=0.0,
        max_grad_norm=1.0,
        max_length=params.max_length,
        completion_only_loss=True,
        seed=params.seed,
        data_seed=params.seed,
        bf16=precision.is_bf16,
        use_cpu=precision.device_type == "cpu",
        activation_checkpointing=params.activation_checkpointing,
        logging_steps=1,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    quiet = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # TRL's tokenizing passes: progress bars, not log lines
    try:
        trainer = SFTTrainer(
            model=model,
            args=config,
            train_dataset=train,
            eval_dataset=held_out,
            processing_class=tokenizer,
            peft_config=params.lora.to_peft() if params.lora else None,
            callbacks=[_step_logger(log)] if log is not None else None,
        )
    finally:
        if not quiet:
            datasets.enable_progress_bars()
    trainer.remove_callback(PrinterCallback)  # with tqdm off it prints every log to stdout
    return trainer


def _eval_loss(trainer: Any) -> float:
    return float(trainer.evaluate()["eval_loss"])


def _step_logger(log: Any) -> Any:
    """A trainer callback writing ``step N/M loss X grad_norm Y`` lines to ``log``."""
    from transformers import TrainerCallback

    class StepLogger(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any):
            if logs and "loss" in logs:
                log.write(
                    f"step {state.global_step}/{state.max_steps} loss {logs['loss']:.4f} "
                    f"grad_norm {logs.get('grad_norm', float('nan')):.3f} "
                    f"tokens {int(logs.get('num_tokens', 0))}\n"
                )
                log.flush()

    return StepLogger()


def _parameter_counts(model: Any) -> tuple[int, int]:
    """``(trainable, total)`` parameter counts."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def _output_format(params: SFTParams) -> str:
    if params.lora is None:
        return "full"
    return "lora_merged" if params.lora.merge else "lora_adapter"


def _save(model: Any, tokenizer: Any, params: SFTParams, folder: Path) -> None:
    """Safetensors weights (merged, or the adapter alone), config and tokenizer in ``folder``."""
    if params.lora is not None and params.lora.merge:
        model = model.merge_and_unload()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _publish(tmp: Path, out: Path) -> None:
    """Rename the finished ``tmp`` folder to ``out``, replacing an old ``out`` if present."""
    if not out.exists():
        tmp.rename(out)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".old-{out.name}-", dir=out.parent))
    out.rename(trash / out.name)
    tmp.rename(out)
    shutil.rmtree(trash, ignore_errors=True)
