"""Scoring throughput: our ``score_pairs`` against the SCAR reference scorer, same run.

Both use the same StyleRanker: the real all-MiniLM-L6-v2 encoder with a randomly initialised,
seeded head (a random head costs the same as a trained one). The reference scorer is SCAR's
``style_ranker.rank.score_pairs`` reimplemented as it is: batches of 32 in input order, each padded
to its own longest member (``padding=True``, truncation at 512), ``torch.no_grad()``, two encoder
calls per batch, scores kept in a Python list.

Ours runs twice, in float32 and in bfloat16 (``score_pairs(..., dtype="bfloat16")``: a bf16 copy
of the encoder, converted once outside the timing as the scoring service does; the head stays
fp32). The bf16 scores are compared with ours in fp32: Spearman correlation and the overlap of the
top 25% (the share a selection keeps).

The FLOP limit of each dtype is the machine's measured matmul throughput in that dtype over the
encoder's forward cost, 2 x non-embedding parameters x tokens per pair (instruction + response,
after truncation).

    .venv/bin/python -m benchmarks.scoring --pairs 2000
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence

from benchmarks.harness import machine_line, matmul_gflops

# Common words and markup; split at run time.
WORDS_TEXT = (
    "the of and to a in is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there been one all we their has would when if so "
    "what no can more out up other into could time only new some about two may first then do "
    "any like my now over such our man me even most made after also did many before must "
    "through years where much your way well down should because each just those people how "
    "too little state good very make world still own see men work long get here between both "
    "life being under never day same another know while last might us great old year off come "
    "since against go came right used take three function return value list string error "
    "python data model training loss example first, second; however: therefore. note! why? "
    "(see below) - * 1. 2. ## ``` result output"
)


def synthetic_pairs(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` seeded pairs: instructions 10-80 words, responses 20-400 words, long-tailed."""
    rng = random.Random(seed)
    words = WORDS_TEXT.split()

    def text(lo: int, hi: int, median: float) -> str:
        k = int(min(hi, max(lo, rng.lognormvariate(0.0, 0.8) * median)))
        return " ".join(rng.choice(words) for _ in range(k))

    pairs = [(text(10, 80, 22), text(20, 400, 110)) for _ in range(n)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def reference_score_pairs(model, tokenizer, instructions, answers, max_length=512, batch_size=32):
    """SCAR's reference scorer, reimplemented as published (one fix: ``reshape(-1)`` instead of
    ``squeeze()``, which crashes on a one-item last batch; it costs nothing)."""
    import torch

    model.eval()
    scores = []
    for i in range(0, len(instructions), batch_size):
        batch_instructions = instructions[i : i + batch_size]
        batch_answers = answers[i : i + batch_size]
        x = tokenizer(
            batch_instructions,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max_length,
        )
        y = tokenizer(
            batch_answers, return_tensors="pt", padding=True, truncation=True, max_length=max_length
        )
        with torch.no_grad():
            batch_scores, _ = model(x.input_ids, x.attention_mask, y.input_ids, y.attention_mask)
        scores.extend(batch_scores.reshape(-1).tolist())
    return scores


def rank_agreement(
    reference: Sequence[float], other: Sequence[float], top: float = 0.25
) -> tuple[float, float]:
    """Spearman correlation of ``other`` with ``reference`` and the overlap of their top ``top``
    shares (ties broken by index, as selection does)."""
    import numpy as np
    import pandas as pd

    ref, oth = np.asarray(reference, dtype=float), np.asarray(other, dtype=float)
    spearman = float(pd.Series(ref).corr(pd.Series(oth), method="spearman"))
    k = max(1, int(len(ref) * top))
    best_ref = set(np.lexsort((np.arange(len(ref)), -ref))[:k].tolist())
    best_oth = set(np.lexsort((np.arange(len(oth)), -oth))[:k].tolist())
    return spearman, len(best_ref & best_oth) / k


def _segments(n: int, k: int) -> list[tuple[int, int]]:
    bounds = [round(i * n / k) for i in range(k + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--batch-size", type=int, default=32, help="our batch_size")
    parser.add_argument("--max-tokens", type=int, default=None, help="our padded-token budget")
    parser.add_argument(
        "--segments",
        type=int,
        default=4,
        help="time both scorers segment by segment, alternating, so both see the same load",
    )
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()

    import numpy as np
    import torch

    from scar_dagster.ranker.inference.scoring import DEFAULT_MAX_TOKENS, for_inference, score_pairs
    from scar_dagster.ranker.model.architecture import RankerConfig, build_ranker

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model, tokenizer = build_ranker(RankerConfig())
    model.eval()
    bf16_model = for_inference(model, "cpu", "bfloat16")
    xs, ys = synthetic_pairs(args.pairs, args.seed)
    n_x = [len(t) for t in tokenizer(xs, truncation=True, max_length=512)["input_ids"]]
    n_y = [len(t) for t in tokenizer(ys, truncation=True, max_length=512)["input_ids"]]
    tokens_per_pair = (sum(n_x) + sum(n_y)) / args.pairs
    params = sum(
        p.numel() for name, p in model.encoder.named_parameters() if not name.startswith("embed")
    )
    max_tokens = args.max_tokens or DEFAULT_MAX_TOKENS
    print(machine_line(), file=sys.stderr)
    load_before = os.getloadavg()[0]
    gflops = {dt: matmul_gflops(dt) for dt in ("float32", "bfloat16")}

    def ours(scorer):
        def run(a: int, b: int) -> list[float]:
            return score_pairs(
                scorer,
                tokenizer,
                xs[a:b],
                ys[a:b],
                batch_size=args.batch_size,
                max_tokens=max_tokens,
            ).tolist()

        return run

    def ref(a: int, b: int) -> list[float]:
        return reference_score_pairs(model, tokenizer, xs[a:b], ys[a:b])

    scorers = {"ours": ours(model), "ours_bf16": ours(bf16_model)}
    if not args.skip_reference:
        scorers = {"reference": ref, **scorers}
    dtype_of = {"reference": "float32", "ours": "float32", "ours_bf16": "bfloat16"}
    seconds = dict.fromkeys(scorers, 0.0)
    scores: dict[str, list[float]] = {name: [] for name in scorers}
    warm = min(32, args.pairs)
    for fn in scorers.values():
        fn(0, warm)
    for a, b in _segments(args.pairs, args.segments):
        for name, fn in scorers.items():
            t0 = time.perf_counter()
            scores[name] += fn(a, b)
            seconds[name] += time.perf_counter() - t0
        for dt in gflops:
            gflops[dt] = max(gflops[dt], matmul_gflops(dt, rounds=2))
    load_after = os.getloadavg()[0]

    limit = {dt: g * 1e9 / (2 * params * tokens_per_pair) for dt, g in gflops.items()}
    rate = {name: args.pairs / t for name, t in seconds.items()}
    ref_rate = rate.get("reference", float("nan"))
    print(f"pairs={args.pairs} threads={torch.get_num_threads()} segments={args.segments}")
    print(machine_line("at the end"))
    print("encoder all-MiniLM-L6-v2 with a random seeded head; non-embedding params")
    print(f"{params / 1e6:.2f}M; tokens/pair {tokens_per_pair:.1f} (instruction median")
    print(f"{statistics.median(n_x)}, response median {statistics.median(n_y)}, max {max(n_y)})")
    print(
        f"matmul fp32 {gflops['float32']:.1f} GFLOP/s, bf16 {gflops['bfloat16']:.1f} GFLOP/s "
        f"({gflops['bfloat16'] / gflops['float32']:.1f}x; 1024x1024, best of runs between "
        f"segments); load average {load_before:.2f} before, {load_after:.2f} after\n"
    )
    print(
        "| scorer | dtype | seconds | pairs/s | vs reference | vs ours fp32 "
        "| fraction of the dtype's FLOP limit |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    labels = {
        "reference": "reference (SCAR score_pairs)",
        "ours": f"ours (batch_size={args.batch_size}, max_tokens={max_tokens})",
        "ours_bf16": f"ours (batch_size={args.batch_size}, max_tokens={max_tokens})",
    }
    for name in scorers:
        dt = dtype_of[name]
        vs_ref = "n/a" if math.isnan(ref_rate) else f"{rate[name] / ref_rate:.2f}x"
        print(
            f"| {labels[name]} | {dt} | {seconds[name]:.1f} | {rate[name]:.2f} | "
            f"{vs_ref} | {rate[name] / rate['ours']:.2f}x | "
            f"{rate[name] / limit[dt]:.0%} |"
        )
    for dt in gflops:
        print(f"| FLOP limit | {dt} | | {limit[dt]:.2f} | | | 100% |")
    spearman, overlap = rank_agreement(scores["ours"], scores["ours_bf16"])
    print(
        f"\nbf16 vs fp32 (ours) on these {args.pairs} pairs: Spearman {spearman:.5f}, top-25% "
        f"overlap {overlap:.4f}, max |diff| "
        f"{np.max(np.abs(np.subtract(scores['ours'], scores['ours_bf16']))):.2e} "
        f"(score std {np.std(scores['ours']):.2e})"
    )
    if "reference" in scores:
        diff = np.max(np.abs(np.asarray(scores["reference"]) - np.asarray(scores["ours"])))
        print(f"max |score_ours - score_reference| (both fp32) = {diff:.2e}")


if __name__ == "__main__":
    main()
