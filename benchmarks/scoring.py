"""Scoring throughput: our ``score_pairs`` against the SCAR reference scorer, same run.

Both use the same StyleRanker: the real all-MiniLM-L6-v2 encoder with a randomly initialised,
seeded head (a random head costs the same as a trained one). The reference scorer is SCAR's
``style_ranker.rank.score_pairs`` reimplemented as it is: batches of 32 in input order, each padded
to its own longest member (``padding=True``, truncation at 512), ``torch.no_grad()``, two encoder
calls per batch, scores kept in a Python list.

The FLOP limit is the machine's measured fp32 matmul throughput over the encoder's forward cost,
2 x non-embedding parameters x tokens per pair (instruction + response, after truncation).

    .venv/bin/python benchmarks/scoring.py --pairs 2000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

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


def matmul_gflops(n: int = 1024, repeats: int = 30, rounds: int = 5) -> float:
    """Best-of-``rounds`` fp32 throughput of an n x n matmul, in GFLOP/s."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - t0) / 1e9)
    return best


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

    from scar_dagster.ranker.model import RankerConfig, build_ranker
    from scar_dagster.ranker.scoring import DEFAULT_MAX_TOKENS, score_pairs

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model, tokenizer = build_ranker(RankerConfig())
    model.eval()
    xs, ys = synthetic_pairs(args.pairs, args.seed)
    n_x = [len(t) for t in tokenizer(xs, truncation=True, max_length=512)["input_ids"]]
    n_y = [len(t) for t in tokenizer(ys, truncation=True, max_length=512)["input_ids"]]
    tokens_per_pair = (sum(n_x) + sum(n_y)) / args.pairs
    params = sum(
        p.numel() for name, p in model.encoder.named_parameters() if not name.startswith("embed")
    )
    max_tokens = args.max_tokens or DEFAULT_MAX_TOKENS
    load_before = os.getloadavg()[0]
    gflops = matmul_gflops()

    def ours(a: int, b: int) -> list[float]:
        return score_pairs(
            model, tokenizer, xs[a:b], ys[a:b], batch_size=args.batch_size, max_tokens=max_tokens
        ).tolist()

    def ref(a: int, b: int) -> list[float]:
        return reference_score_pairs(model, tokenizer, xs[a:b], ys[a:b])

    scorers = {"ours": ours} if args.skip_reference else {"reference": ref, "ours": ours}
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
        gflops = max(gflops, matmul_gflops(rounds=2))
    gflops = max(gflops, matmul_gflops())
    load_after = os.getloadavg()[0]

    limit = gflops * 1e9 / (2 * params * tokens_per_pair)
    rate = {name: args.pairs / t for name, t in seconds.items()}
    ref_rate = rate.get("reference", float("nan"))
    print(f"pairs={args.pairs} threads={torch.get_num_threads()} segments={args.segments}")
    print("encoder all-MiniLM-L6-v2 with a random seeded head; non-embedding params")
    print(f"{params / 1e6:.2f}M; tokens/pair {tokens_per_pair:.1f} (instruction median")
    print(f"{statistics.median(n_x)}, response median {statistics.median(n_y)}, max {max(n_y)})")
    print(f"matmul {gflops:.1f} GFLOP/s (fp32 1024x1024, best of runs between segments);")
    print(f"load average {load_before:.2f} before, {load_after:.2f} after\n")
    print("| scorer | seconds | pairs/s | vs reference | fraction of FLOP limit |")
    print("| --- | ---: | ---: | ---: | ---: |")
    labels = {
        "reference": "reference (SCAR score_pairs)",
        "ours": f"ours (batch_size={args.batch_size}, max_tokens={max_tokens})",
    }
    for name in scorers:
        print(
            f"| {labels[name]} | {seconds[name]:.1f} | {rate[name]:.2f} | "
            f"{rate[name] / ref_rate:.2f}x | {rate[name] / limit:.0%} |"
        )
    print(f"| FLOP limit | | {limit:.2f} | | 100% |")
    if "reference" in scores:
        diff = np.max(np.abs(np.asarray(scores["reference"]) - np.asarray(scores["ours"])))
        print(f"\nmax |score_ours - score_reference| = {diff:.2e}")


if __name__ == "__main__":
    main()
