"""Training in float32 vs under bf16 autocast (fp32 master weights), same process, same data.

* StyleRanker: the real all-MiniLM-L6-v2 encoder with a seeded head, trained with SCAR's losses
  on the bundled ``data/ranker/quadruples.jsonl`` (``train_ranker``, batch size 2 as the paper,
  early stopping off); per-epoch seconds and the best validation pairwise accuracy (held-out
  validation split of those quadruples).
* Local SFT of SmolLM2-135M-Instruct (``run_local_sft``) on the same quadruples' human responses:
  seconds per optimizer step and the held-out eval loss after training.

    .venv/bin/python -m benchmarks.training [--epochs 3] [--sft-steps 8] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks.harness import ROOT, machine_line

DTYPES = ("float32", "bfloat16")


def bench_ranker(quads: list, epochs: int, limit: int | None) -> dict[str, dict]:
    """Per-epoch seconds and best validation accuracy of ``train_ranker`` per dtype."""
    from scar_dagster.ranker.model.architecture import RankerConfig, build_ranker
    from scar_dagster.ranker.model.train import TrainParams, train_ranker
    from scar_dagster.torch_env import seed_everything

    quads = quads[:limit] if limit else quads
    out = {}
    for dtype in DTYPES:
        seed_everything(0)
        model, tokenizer = build_ranker(RankerConfig())
        params = TrainParams(epochs=epochs, seed=42, dtype=dtype)
        wall, cpu = time.perf_counter(), time.process_time()
        result = train_ranker(model, tokenizer, quads, params, log=lambda _: None)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        history = result.metrics["history"]
        out[dtype] = {
            "epoch_seconds": wall / len(history),
            "epoch_cpu_seconds": cpu / len(history),
            "best_val": max(h["val_accuracy"] or 0.0 for h in history),
            "val_pairs": result.metrics["val"]["pairs"],
        }
    return out


def bench_sft(quads: list, steps: int, cache_dir: str) -> dict[str, dict]:
    """Seconds per SFT step and eval loss per dtype (same seed, data and steps)."""
    from scar_dagster.base_models import instruct_lm_path
    from scar_dagster.finetune import SFTParams, run_local_sft

    base = instruct_lm_path(None, cache_dir)
    rows = [{"instruction": q.instruction, "input": "", "output": q.human} for q in quads]
    out = {}
    with tempfile.TemporaryDirectory(prefix="scar-bench-sft-") as tmp:
        subset = Path(tmp) / "alpaca.jsonl"
        subset.write_text("".join(json.dumps(r) + "\n" for r in rows))
        for dtype in DTYPES:
            params = SFTParams(max_steps=steps, batch_size=2, max_length=128, dtype=dtype)
            record = run_local_sft(
                subset, base_model_path=base, output_dir=Path(tmp) / dtype, params=params
            )
            metrics = record.metrics
            out[dtype] = {
                "step_seconds": metrics["train_time_s"] / steps,
                "eval_before": metrics["eval_loss_before"],
                "eval_after": metrics["eval_loss_after"],
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="ranker epochs per dtype")
    parser.add_argument("--quadruples", type=int, default=None, help="use only the first N")
    parser.add_argument("--sft-steps", type=int, default=8, help="SFT steps per dtype (0: skip)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--cache-dir", default=None, help="converted-model cache")
    args = parser.parse_args()

    import torch

    from scar_dagster.ranker.data.training_data import as_quadruples, load_quadruples
    from settings import model_cache_dir

    if args.threads:
        torch.set_num_threads(args.threads)
    rows, _ = load_quadruples(ROOT / "data" / "ranker" / "quadruples.jsonl")
    quads = as_quadruples(rows)
    print(f"torch threads={torch.get_num_threads()}; {machine_line()}\n")

    ranker = bench_ranker(quads, args.epochs, args.quadruples)
    n = args.quadruples or len(quads)
    print(f"## StyleRanker training ({n} bundled quadruples, {args.epochs} epochs, batch 2)\n")
    print(
        "| dtype | s/epoch (wall) | vs fp32 | s/epoch (process CPU) | vs fp32 "
        "| best validation accuracy | val pairs |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = ranker["float32"]
    for dtype, r in ranker.items():
        label = "bfloat16 (autocast, fp32 master weights)" if dtype == "bfloat16" else dtype
        print(
            f"| {label} | {r['epoch_seconds']:.1f} | "
            f"{base['epoch_seconds'] / r['epoch_seconds']:.2f}x | {r['epoch_cpu_seconds']:.1f} | "
            f"{base['epoch_cpu_seconds'] / r['epoch_cpu_seconds']:.2f}x | {r['best_val']:.3f} "
            f"| {r['val_pairs']} |"
        )
    print("(an epoch includes its validation pass; process CPU time is robust to a busy machine)")
    gap = ranker["bfloat16"]["best_val"] - ranker["float32"]["best_val"]
    print(f"\nbest validation accuracy, bf16 minus fp32: {gap:+.3f} (held-out validation split)")

    if args.sft_steps:
        cache_dir = args.cache_dir or model_cache_dir(ROOT)
        sft = bench_sft(quads, args.sft_steps, cache_dir)
        print(
            f"\n## Local SFT, SmolLM2-135M-Instruct ({args.sft_steps} steps, batch 2, 128 tokens)\n"
        )
        print("| dtype | seconds per step | vs fp32 | held-out eval loss before -> after |")
        print("| --- | ---: | ---: | --- |")
        base = sft["float32"]["step_seconds"]
        for dtype, r in sft.items():
            print(
                f"| {dtype} | {r['step_seconds']:.2f} | {base / r['step_seconds']:.2f}x | "
                f"{r['eval_before']:.4f} -> {r['eval_after']:.4f} |"
            )
    print(f"\n{machine_line('at the end')}")


if __name__ == "__main__":
    main()
