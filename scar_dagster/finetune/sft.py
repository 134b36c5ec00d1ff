"""Local supervised fine-tuning of a small causal LM on a selected subset (CPU friendly).

A plain, seeded torch loop: each pair becomes a chat (user = instruction, assistant =
response) and the loss covers only the response tokens. A held-out slice measures the eval
loss before and after training. The output folder (safetensors weights, tokenizer,
``train.log`` and ``run.json``) appears atomically: training writes into a temporary sibling
folder that is renamed once complete. This is the demo stand-in for a real SFT run (the
SCAR paper fine-tunes OLMo-7B and StarCoder-15.5B on the selected subsets).

Example::

    record = run_local_sft(
        "/data/subsets/v3/alpaca.jsonl",
        base_model_path=instruct_lm_path(None, cache_dir),
        output_dir="/runs/v3",
        params=SFTParams(max_steps=20),
        subset_version="v3",
    )
    print(record.metrics["eval_loss_before"], record.metrics["eval_loss_after"])

``SFTParams(device=..., dtype="bfloat16")`` trains under bf16 autocast with float32 master
weights (see ``scar_dagster.precision``); the saved weights are float32.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from scar_dagster.finetune.data import (
    IGNORE_INDEX,
    Example,
    collate,
    encode_example,
    load_subset,
    split_indices,
    subset_content_version,
)
from scar_dagster.finetune.record import (
    MODE_LOCAL_SFT,
    SUCCEEDED,
    FineTuneRecord,
    utc_now,
    write_record,
)
from scar_dagster.precision import Precision, resolve_precision
from scar_dagster.torch_env import seed_everything, torch_threads

LOG_FILE = "train.log"


@dataclass(frozen=True)
class SFTParams:
    """Hyperparameters of one local SFT run (small defaults for a CPU demo).

    ``eval_fraction`` of the rows (at least one, when there are two or more rows) is held
    out; ``0`` disables evaluation. ``num_threads`` sets torch's CPU threads for the run
    (``None`` keeps torch's setting; on a shared, busy machine ``1`` can be several times
    faster than competing OpenMP threads).
    Gradients are clipped to norm 1.0; the learning rate is constant (AdamW, no decay).
    ``device`` (auto, cpu, cuda, cuda:N) and ``dtype`` (auto, float32, bfloat16: autocast with
    float32 master weights) say where and how the model trains.
    """

    max_steps: int = 20
    lr: float = 5e-5
    batch_size: int = 4
    max_length: int = 256
    eval_fraction: float = 0.1
    seed: int = 0
    num_threads: int | None = None
    device: str = "cpu"
    dtype: str = "float32"

    @property
    def precision(self) -> Precision:
        return resolve_precision(self.device, self.dtype)

    def __post_init__(self) -> None:
        if self.max_steps < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("max_steps and batch_size must be >= 1 and lr > 0")
        if self.max_length < 8:
            raise ValueError("max_length must be >= 8 tokens")
        if not 0 <= self.eval_fraction < 1:
            raise ValueError("eval_fraction must be in [0, 1)")


# --- training -----------------------------------------------------------------------------


def _loss_sum(
    model: Any, batch: dict[str, Any], precision: Precision | None = None
) -> tuple[Any, int]:
    """Summed next-token cross-entropy over labelled tokens (fp32), and their count."""
    import torch.nn.functional as F

    precision = precision or Precision()
    batch = {name: tensor.to(precision.device) for name, tensor in batch.items()}
    with precision.autocast():
        outputs = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    logits = outputs.logits
    labels = batch["labels"][:, 1:]
    loss = F.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
        labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    )
    return loss, int((labels != IGNORE_INDEX).sum())


def evaluate(
    model: Any,
    examples: Sequence[Example],
    pad_id: int,
    batch_size: int,
    precision: Precision | None = None,
) -> float:
    """Token-weighted mean response loss over ``examples`` (NaN when there are none)."""
    import torch

    total, count = 0.0, 0
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(examples), batch_size):
            batch = collate(examples[start : start + batch_size], pad_id)
            loss, n = _loss_sum(model, batch, precision)
            total, count = total + float(loss), count + n
    return total / count if count else float("nan")


def _batches(n: int, batch_size: int, seed: int) -> Iterator[list[int]]:
    """Endless batches of indices from successive seeded permutations of ``range(n)``."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    buffer: list[int] = []
    while True:
        while len(buffer) < batch_size:
            buffer.extend(torch.randperm(n, generator=generator).tolist())
        yield buffer[:batch_size]
        buffer = buffer[batch_size:]


def _train(model: Any, examples: list[Example], pad_id: int, params: SFTParams, log: Any) -> dict:
    """Run ``max_steps`` AdamW steps; return per-step losses, grad norms and token counts."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=params.lr, weight_decay=0.0)
    losses, norms, tokens = [], [], 0
    model.train()
    batches = _batches(len(examples), params.batch_size, params.seed)
    for step in range(1, params.max_steps + 1):
        batch = collate([examples[i] for i in next(batches)], pad_id)
        loss_sum, count = _loss_sum(model, batch, params.precision)
        loss = loss_sum / max(count, 1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(float(loss.detach()))
        norms.append(float(norm))
        tokens += count
        log.write(f"step {step}/{params.max_steps} loss {losses[-1]:.4f} grad_norm {norm:.3f}\n")
        log.flush()
    model.eval()
    return {"train_loss": losses, "grad_norm": norms, "train_tokens": tokens}


# --- the run ------------------------------------------------------------------------------


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
    ``subset_version`` defaults to a hash of the subset's content. The result folder holds
    ``model.safetensors``, config, tokenizer, ``train.log`` and ``run.json`` (the returned
    record). Errors raise and leave no output folder; an existing one raises
    ``FileExistsError`` unless ``overwrite``.
    """
    params = params or SFTParams()
    precision = params.precision
    params = replace(params, device=precision.device, dtype=precision.dtype)
    out = Path(output_dir)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True to replace it")
    pairs = load_subset(subset)
    version = subset_version or subset_content_version(pairs)
    started_at, start = utc_now(), time.monotonic()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{out.name}-", dir=out.parent))
    with torch_threads(params.num_threads):
        try:
            seed_everything(params.seed)
            tokenizer, model = _load(base_model_path, precision)
            load_s = time.monotonic() - start
            metrics = _fit(tokenizer, model, pairs, params, tmp)
            save_start = time.monotonic()
            _save(model, tokenizer, tmp)
            metrics.update(
                load_time_s=round(load_s, 3),
                save_time_s=round(time.monotonic() - save_start, 3),
                wall_time_s=round(time.monotonic() - start, 3),
            )
            record = FineTuneRecord(
                mode=MODE_LOCAL_SFT,
                subset_version=version,
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


def _fit(
    tokenizer: Any, model: Any, pairs: list[tuple[str, str]], params: SFTParams, folder: Path
) -> dict:
    """Tokenize, split, evaluate, train, evaluate again; log to ``folder/train.log``."""
    examples = [encode_example(tokenizer, i, r, params.max_length) for i, r in pairs]
    train_idx, eval_idx = split_indices(len(examples), params.eval_fraction, params.seed)
    train = [examples[i] for i in train_idx]
    held_out = [examples[i] for i in eval_idx]
    pad_id = tokenizer.pad_token_id
    pad_id = tokenizer.eos_token_id if pad_id is None else pad_id
    precision = params.precision
    with (folder / LOG_FILE).open("w", encoding="utf-8") as log:
        log.write(f"device {precision.device} dtype {precision.dtype}\n")
        before = (
            evaluate(model, held_out, pad_id, params.batch_size, precision) if held_out else None
        )
        log.write(f"eval_loss_before {before}\n")
        train_start = time.monotonic()
        trained = _train(model, train, pad_id, params, log)
        train_s = time.monotonic() - train_start
        after = (
            evaluate(model, held_out, pad_id, params.batch_size, precision) if held_out else None
        )
        log.write(f"eval_loss_after {after}\n")
    return {
        **trained,
        "eval_loss_before": before,
        "eval_loss_after": after,
        "n_rows": len(examples),
        "n_train_rows": len(train),
        "n_eval_rows": len(held_out),
        "n_truncated": sum(e.truncated for e in examples),
        "steps": params.max_steps,
        "train_time_s": round(train_s, 3),
        "precision": precision.to_metadata(),
    }


def _load(path: str | Path, precision: Precision) -> tuple[Any, Any]:
    """A fresh fp32 (tokenizer, model) on the precision's device: never the cached inference
    copy, training mutates it."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        str(path), local_files_only=True, dtype=torch.float32
    )
    return tokenizer, model.to(precision.device)


def _save(model: Any, tokenizer: Any, folder: Path) -> None:
    """Save weights as safetensors, config and tokenizer into ``folder``."""
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    if not any(folder.glob("*.safetensors")):  # older transformers: save explicitly
        from safetensors.torch import save_file

        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        if getattr(model.config, "tie_word_embeddings", False):
            state.pop("lm_head.weight", None)
        save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})


def _publish(tmp: Path, out: Path) -> None:
    """Rename the finished ``tmp`` folder to ``out``, replacing an old ``out`` if present."""
    if not out.exists():
        tmp.rename(out)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".old-{out.name}-", dir=out.parent))
    out.rename(trash / out.name)
    tmp.rename(out)
    shutil.rmtree(trash, ignore_errors=True)
